"""Alembic migrations that own the schema; shipped inside the package."""
