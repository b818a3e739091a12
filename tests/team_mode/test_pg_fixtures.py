"""The PostgreSQL fixtures skip with one line where no server can be started, and fail instead under CI=true."""

from __future__ import annotations

import glob
import shutil

import pytest

from tests import pg


def test_no_postgresql_is_one_line_naming_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)  # the modules tests.pg looks with
    monkeypatch.setattr(glob, "glob", lambda pattern: [])
    with pytest.raises(pg.PgUnavailable) as raised:
        pg.start_cluster()
    message = str(raised.value)
    assert "\n" not in message and "apt install postgresql" in message


@pytest.mark.parametrize("ci", ["", "false"])
def test_a_developer_machine_skips(monkeypatch: pytest.MonkeyPatch, ci: str) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.skip.Exception, match="PostgreSQL tests skipped: no server here"):
        pg.unavailable("no server here")


@pytest.mark.parametrize("ci", ["true", "1"])
def test_ci_fails_rather_than_skips(monkeypatch: pytest.MonkeyPatch, ci: str) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception, match="PostgreSQL is required in CI: no server here"):
        pg.unavailable("no server here")


#: What a database holds for its roles: each relation's, function's and type's owner and grants, the schemas',
#: the database's own, the default privileges, and the schema's revision.
CATALOGUE = (
    "SELECT c.relkind::text, c.relname::text, c.relowner::regrole::text, c.relacl::text FROM pg_class c "
    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'",
    "SELECT p.proname::text, p.proowner::regrole::text, p.proacl::text, p.prosecdef FROM pg_proc p "
    "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'",
    "SELECT t.typname::text, t.typowner::regrole::text FROM pg_type t "
    "JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public'",
    "SELECT nspname::text, nspowner::regrole::text, nspacl::text FROM pg_namespace",
    "SELECT datdba::regrole::text, datacl::text FROM pg_database WHERE datname = current_database()",
    "SELECT defaclrole::regrole::text, defaclobjtype::text, defaclacl::text FROM pg_default_acl",
    "SELECT version_num FROM alembic_version",
)


def test_a_migrated_team_database_is_what_its_owners_first_open_makes(pg_cluster: pg.PgCluster) -> None:
    """make_team(migrated=True) copies a template another role migrated: in the copy, every object, grant and
    owner is as if the team's owner had opened the empty database itself, and the template's role owns nothing
    (ownership is what the owner's `grant`, upgrades and the SECURITY DEFINER functions rest on)."""
    from desktop.core.store import KeyStore
    from tests.team import Team, make_team

    opened = make_team(pg_cluster)
    with KeyStore.open(opened.url(opened.owner), create=True):
        pass
    copies = [make_team(pg_cluster, migrated=True) for _ in range(2)]  # the second: the template is still usable

    def catalogue(team: Team) -> list[set[tuple[str, ...]]]:
        return [
            {tuple(str(v).replace(team.owner, "OWNER") for v in row) for row in pg_cluster.execute(q, team.database)}
            for q in CATALOGUE
        ]

    expected = catalogue(opened)
    assert any("OWNER" in row for rows in expected[:2] for row in rows)  # the comparison sees the owner
    for copy in copies:
        assert catalogue(copy) == expected
        assert copy.as_owner("SELECT count(*) FROM api_keys") == [(0,)]
