"""Alembic environment for the metadata store.

``auditray.store.db.migrate`` hands over an open connection in ``config.attributes["connection"]`` so
the migration runs inside the caller's transaction. Run from the ``alembic`` command line (with a
``sqlalchemy.url``), it opens its own engine with the store's connection rules.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection
from sqlmodel import SQLModel

from auditray.store import models  # noqa: F401  (registers the tables on SQLModel.metadata)
from auditray.store.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def _configure(**kwargs: object) -> None:
    context.configure(
        target_metadata=target_metadata,
        compare_type=True,
        compare_server_default=True,
        **kwargs,
    )


def _run_online(connection: Connection) -> None:
    # SQLite cannot ALTER most things; batch mode recreates the table by copy.
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from auditray.settings import get_settings

    return get_settings().resolved_database_url


if context.is_offline_mode():
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()
else:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_online(connection)
    else:
        engine = make_engine(_url())
        try:
            with engine.begin() as own_connection:
                _run_online(own_connection)
        finally:
            engine.dispose()
