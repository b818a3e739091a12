"""A team-mode database for tests: an owner role (not a superuser) owning a fresh database, and two more roles.

Roles are the whole cluster's, so each Team gets names of its own.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg

from tests.helpers import CliResult, run_cli
from tests.pg import PgCluster

_numbers = itertools.count(1)


@dataclass
class Team:
    cluster: PgCluster
    database: str
    owner: str
    verifier: str
    manager: str

    def url(self, role: str) -> str:
        return self.cluster.url(self.database, role=role)

    def cli(self, role: str, *args: str, stdin: str | None = None) -> CliResult:
        return run_cli(*args, "--database", self.url(role), stdin=stdin)

    @contextmanager
    def connect(self, role: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
        """A plain psycopg connection as `role`, autocommit, as a service in another language would have."""
        with psycopg.connect(host=str(self.cluster.socket), user=role, dbname=self.database, autocommit=True) as conn:
            yield conn

    def as_owner(self, statement: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        with self.connect(self.owner) as conn:
            cursor = conn.execute(statement, params)
            return cursor.fetchall() if cursor.description else []


def make_team(cluster: PgCluster, *, migrated: bool = False) -> Team:
    """Roles `o…`, `v…`, `m…` with nothing granted, and a database owned by `o…`: empty (schema not yet made),
    or with `migrated` the schema `o…` would make on its first open, already there and `o…`'s (a copy of a
    template: for the tests that are not about the first open)."""
    tag = f"{os.getpid()}_{next(_numbers)}"
    owner, verifier, manager = (cluster.create_role(f"{kind}{tag}") for kind in ("o", "v", "m"))
    url = cluster.new_owned_migrated_database(owner) if migrated else cluster.new_database(owner=owner)
    return Team(cluster, url.split("?", 1)[0].rsplit("/", 1)[1], owner, verifier, manager)
