"""The key store: no Qt here, ever (an import-linter contract enforces it)."""
