"""The schema is built and upgraded by the shipped Alembic migrations, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import auditray
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from auditray import audit_trail
from auditray.store import (
    Engagement,
    current_revision,
    head_revision,
    init_db,
    make_engine,
    normalize_url,
    session_scope,
)
from auditray.store import services as svc
from auditray.store.db import MIGRATIONS_DIR, alembic_config
from sqlalchemy import Engine, inspect, select
from sqlmodel import SQLModel

from tests.store_fixtures import engagement_data

REPO_ROOT = Path(__file__).resolve().parent.parent
STORE_TABLES = {
    "organizations",
    "users",
    "engagements",
    "engagement_members",
    "datasets",
    "job_runs",
    "audit_events",
}


def _differences(engine: Engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return compare_metadata(context, SQLModel.metadata)


def _index_names(engine: Engine, table: str) -> set[str]:
    return {index["name"] for index in inspect(engine).get_indexes(table)}


def test_an_empty_database_is_upgraded_to_head(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert current_revision(engine) is None
        init_db(db_url)
        assert current_revision(engine) == head_revision()
        assert head_revision() >= "0002"
        assert STORE_TABLES <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_init_db_twice_is_a_no_op(db_url: str) -> None:
    init_db(db_url)
    init_db(db_url)
    engine = make_engine(db_url)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_two_processes_initializing_at_once_both_succeed(db_url: str) -> None:
    import threading

    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def initialize() -> None:
        try:
            barrier.wait(timeout=30)
            init_db(db_url)
        except BaseException as error:  # noqa: BLE001 - asserted on below
            errors.append(error)

    threads = [threading.Thread(target=initialize) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    engine = make_engine(db_url)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_a_database_at_an_older_revision_is_upgraded_in_place_keeping_its_rows(db_url: str) -> None:
    init_db(db_url, revision="0001")
    engine = make_engine(db_url)
    try:
        assert current_revision(engine) == "0001"
        assert "ix_audit_events_resource" not in _index_names(engine, "audit_events")
        with session_scope(engine) as session:
            from auditray.store import OrganizationCreate

            org = svc.create_organization(session, OrganizationCreate(name="Old Firm", slug="old-firm"))
            engagement = svc.create_engagement(
                session, engagement_data(materiality="1000000.01"), org_id=org.id, actor="system"
            )
        engine.dispose()

        init_db(db_url)

        assert current_revision(engine) == head_revision()
        assert "ix_audit_events_resource" in _index_names(engine, "audit_events")
        assert "ix_datasets_org_id_content_sha256" in _index_names(engine, "datasets")
        with session_scope(engine) as session:
            kept = session.exec(select(Engagement)).scalars().one()
            assert kept.id == engagement.id
            assert str(kept.materiality) == "1000000.01"
            result = audit_trail.verify(session)
            assert result.ok and result.count == 2, result.message
    finally:
        engine.dispose()


def test_the_models_and_the_migrations_agree(engine: Engine) -> None:
    """Autogenerate against head finds nothing to do: no model change is missing its migration."""
    assert _differences(engine) == []


def test_the_agreement_check_does_see_a_missing_migration(db_url: str) -> None:
    """At 0001 the comparison must report the indexes 0002 adds: the check above is not vacuous."""
    init_db(db_url, revision="0001")
    engine = make_engine(db_url)
    try:
        # Only the tables 0001 created: later revisions' new tables bring their own indexes.
        added = {
            diff[1].name
            for diff in _differences(engine)
            if diff[0] == "add_index" and diff[1].table.name in STORE_TABLES
        }
        assert added == {"ix_audit_events_resource", "ix_datasets_org_id_content_sha256"}
    finally:
        engine.dispose()


def test_every_revision_downgrades_and_upgrades_again(db_url: str) -> None:
    init_db(db_url)
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection, connection.begin():
            command.downgrade(alembic_config(connection), "base")
        assert current_revision(engine) is None
        assert not STORE_TABLES & set(inspect(engine).get_table_names())
        init_db(engine)
        assert current_revision(engine) == head_revision()
        assert _differences(engine) == []
    finally:
        engine.dispose()


def test_the_append_only_triggers_are_installed(engine: Engine) -> None:
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            names = set(
                connection.exec_driver_sql(
                    "SELECT tgname FROM pg_trigger "
                    "WHERE tgrelid = 'audit_events'::regclass AND NOT tgisinternal"
                ).scalars()
            )
            assert names == {"audit_events_append_only", "audit_events_no_truncate"}
        else:
            names = set(
                connection.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_events'"
                ).scalars()
            )
            assert names == {"audit_events_no_update", "audit_events_no_delete"}


def test_init_db_defaults_to_sqlite_under_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auditray.settings import get_settings

    monkeypatch.delenv("AUDITRAY_DATABASE_URL", raising=False)
    monkeypatch.setenv("AUDITRAY_DATA_DIR", str(tmp_path / "not-yet-created"))
    get_settings.cache_clear()
    try:
        init_db()
        database = tmp_path / "not-yet-created" / "auditray.db"
        assert database.is_file()
        engine = make_engine()
        try:
            assert current_revision(engine) == head_revision()
        finally:
            engine.dispose()
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgresql://u@db.example/auditray", "postgresql+psycopg"),
        ("postgres://u@db.example/auditray", "postgresql+psycopg"),
        ("postgresql+psycopg://u@db.example/auditray", "postgresql+psycopg"),
        ("sqlite:////tmp/x.db", "sqlite"),
    ],
)
def test_plain_postgresql_urls_are_routed_through_psycopg(given: str, driver: str) -> None:
    assert normalize_url(given).drivername == driver


def test_the_shipped_revisions_form_one_line_of_history() -> None:
    script = alembic_config()
    from alembic.script import ScriptDirectory

    revisions = list(ScriptDirectory.from_config(script).walk_revisions())
    chain = [r.revision for r in reversed(revisions)]
    assert chain[:2] == ["0001", "0002"]
    # One line: each revision revises the one before it, and revision ids count up.
    assert [r.down_revision for r in reversed(revisions)] == [None, *chain[:-1]]
    assert chain == sorted(chain)


def test_every_migration_file_is_packaged() -> None:
    """A wheel must carry env.py, the template and every revision, or init_db breaks once installed.

    .py files inside a directory with __init__.py ship as modules; anything else needs a package-data glob.
    """
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"]["auditray"]
    package_root = Path(auditray.__file__).parent
    unshipped = []
    for path in MIGRATIONS_DIR.rglob("*"):
        if path.is_dir() or "__pycache__" in path.parts:
            continue
        relative = path.relative_to(package_root).as_posix()
        is_module = path.suffix == ".py" and (path.parent / "__init__.py").is_file()
        if not is_module and not any(fnmatch.fnmatch(relative, pattern) for pattern in globs):
            unshipped.append(relative)
    assert unshipped == []
