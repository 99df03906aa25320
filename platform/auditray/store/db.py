"""Engines, sessions and schema migrations for the metadata store.

The embedded default is one SQLite file under the data directory; at scale the same code gets a
PostgreSQL URL. Only the URL differs: both run the same Alembic migrations, shipped inside this package,
so an existing database is upgraded in place and never rebuilt with ``create_all``.

SQLite transactions begin with ``BEGIN IMMEDIATE``: a session holds the single write lock from its first
statement, so a read-then-write (the audit chain's "read the head, append after it") cannot interleave
with another writer. Other sessions wait up to the busy timeout rather than failing.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlmodel import Session

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_S = 30.0
# Execution option naming how SQLite transactions begin: IMMEDIATE (default) takes the write lock at
# BEGIN; DEFERRED suits read-only engines, e.g. ``engine.execution_options(sqlite_begin="DEFERRED")``.
SQLITE_BEGIN_OPTION = "sqlite_begin"
# PostgreSQL advisory-lock key serializing migrations ("AUDITMIG" in ASCII); SQLite's BEGIN IMMEDIATE
# already serializes them.
MIGRATION_LOCK_KEY = 0x41554449544D4947


def normalize_url(url: str | URL) -> URL:
    """The URL with PostgreSQL routed through psycopg 3, the only PostgreSQL driver we ship."""
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str | URL | None = None, **engine_kwargs: Any) -> Engine:
    """An engine for ``url`` (default: the settings' database) with the store's connection rules.

    SQLite: WAL journal (readers never block the writer), foreign keys enforced, a busy timeout, and
    ``BEGIN IMMEDIATE`` transactions. PostgreSQL: psycopg 3 and pre-ping, so a restarted server does not
    surface as a broken pooled connection.
    """
    if url is None:
        from auditray.settings import get_settings

        url = get_settings().resolved_database_url
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _make_sqlite_engine(parsed, **engine_kwargs)
    engine_kwargs.setdefault("pool_pre_ping", True)
    return create_engine(parsed, **engine_kwargs)


def _make_sqlite_engine(url: URL, **engine_kwargs: Any) -> Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    if not in_memory:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    connect_args = dict(engine_kwargs.pop("connect_args", {}))
    connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_S)
    connect_args.setdefault("check_same_thread", False)
    engine = create_engine(url, connect_args=connect_args, **engine_kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module, which would otherwise BEGIN (deferred)
        # only before the first write; the "begin" hook below issues our own BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if not in_memory:
                _ensure_wal(cursor)
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = str(connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "IMMEDIATE")).upper()
        if mode not in ("IMMEDIATE", "DEFERRED", "EXCLUSIVE"):
            raise ValueError(f"{SQLITE_BEGIN_OPTION} must be IMMEDIATE, DEFERRED or EXCLUSIVE, not {mode!r}")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _ensure_wal(cursor: Any) -> None:
    """Switch a new database to WAL; the mode persists in the file, so later connections only read it.

    Changing the journal mode needs the file to itself and SQLite does not wait on its busy handler for
    it, so two processes opening a brand-new database at once retry here instead of failing.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    while True:
        try:
            if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session whose work commits together on success and rolls back together on any exception.

    Objects stay usable after the commit (``expire_on_commit=False``), so a service's return value can
    be read once the block has ended.
    """
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# --- Migrations -------------------------------------------------------------------------------------


def alembic_config(connection: Connection | None = None, url: str | URL | None = None) -> Config:
    """An Alembic configuration built in code: the package needs no alembic.ini at runtime."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if url is not None:
        config.set_main_option(
            "sqlalchemy.url", normalize_url(url).render_as_string(hide_password=False).replace("%", "%%")
        )
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision shipped with this version of Auditray."""
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"the shipped migrations must have exactly one head, found {heads}")
    return heads[0]


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for a database Auditray has never touched."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database behind ``engine`` to ``revision``, keeping its rows."""
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite batch migrations copy and drop tables; with foreign keys on, dropping a parent table
            # would cascade or fail. The pragma only works outside a transaction, hence the raw connection.
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    # Two processes starting at once (API and worker) must not both create the schema;
                    # the second waits here, then finds the database already at head.
                    connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
                command.upgrade(alembic_config(connection), revision)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration to {revision} left broken foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")


def init_db(url: str | URL | Engine | None = None, revision: str = "head") -> None:
    """Create or upgrade the store's schema at ``url`` (default: the settings' database) to ``revision``.

    Runs Alembic, never ``create_all``, so a database from an older Auditray is upgraded in place. Pass an
    Engine to reuse it (required for in-memory SQLite, which lives only as long as its connection).
    """
    if isinstance(url, Engine):
        migrate(url, revision)
        return
    engine = make_engine(url)
    try:
        migrate(engine, revision)
    finally:
        engine.dispose()


def autogenerate_revision(message: str, rev_id: str, url: str | URL | None = None) -> None:
    """Write a new revision under ``migrations/versions`` from the difference between the models and a
    database at head (default: a throwaway SQLite file). Review it before committing: autogenerate
    misses renames, CHECK constraints and triggers.
    """
    import tempfile

    from auditray.store import models  # noqa: F401  (registers the tables on the metadata)

    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(url or f"sqlite:///{Path(scratch) / 'autogenerate.db'}")
        try:
            migrate(engine)
            with engine.begin() as connection:
                command.revision(
                    alembic_config(connection), message=message, autogenerate=True, rev_id=rev_id
                )
        finally:
            engine.dispose()
