"""Fixtures for the metadata store and audit trail tests: every test runs on SQLite and on PostgreSQL.

Registered by ``pytest_plugins = ["tests.store_fixtures"]`` in ``tests/conftest.py``.

PostgreSQL: one throwaway database per test session (``auditray_test_<random>``, created through the
server's ``test`` database and dropped at the end), its schema wiped before each test. Tests on it are
marked ``postgres``. With ``CI=true`` they fail when no server answers; elsewhere they skip. The admin URL
is ``AUDITRAY_TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

POSTGRES_ADMIN_URL_ENV = "AUDITRAY_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """URL of a fresh database for this test session; dropped, with anything left in it, at the end."""
    import psycopg
    from psycopg import sql

    admin_url = os.environ.get(POSTGRES_ADMIN_URL_ENV, DEFAULT_POSTGRES_ADMIN_URL)
    try:
        admin = psycopg.connect(_libpq_url(admin_url), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        reason = f"no PostgreSQL server answers at {make_url(admin_url).render_as_string()}: {error}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: the PostgreSQL tests must run)", pytrace=False)
        pytest.skip(reason)
    name = f"auditray_test_{secrets.token_hex(6)}"
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        finally:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _wipe_postgres(url: str) -> None:
    import psycopg

    with psycopg.connect(_libpq_url(url), autocommit=True) as connection:
        # Fail fast rather than hang if a previous test leaked a connection holding locks.
        connection.execute("SET lock_timeout = '10s'")
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An EMPTY database: a new SQLite file, or the session's PostgreSQL database with its schema wiped.

    The PostgreSQL URL is the plain ``postgresql://`` form on purpose: the store must switch it to psycopg.
    """
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'auditray.db'}"
    url = request.getfixturevalue("postgres_database")
    _wipe_postgres(url)
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on a database migrated to head."""
    from auditray.store import init_db, make_engine

    init_db(db_url)
    engine = make_engine(db_url)
    try:
        yield engine
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Tenant:
    """An organization with one partner: the smallest firm that can run an engagement."""

    org_id: int
    slug: str
    partner_id: int
    partner_email: str


@pytest.fixture
def make_tenant(engine: Engine) -> Callable[[str], Tenant]:
    """Creates an organization and its partner (two audit events)."""
    from auditray.store import OrganizationCreate, Role, UserCreate, session_scope
    from auditray.store import services as svc

    def make(slug: str = "firm") -> Tenant:
        with session_scope(engine) as session:
            org = svc.create_organization(session, OrganizationCreate(name=f"{slug.title()} LLP", slug=slug))
            partner = svc.create_user(
                session,
                UserCreate(email=f"partner@{slug}.example", full_name="Pat Partner", role=Role.partner),
                org_id=org.id,
                actor="system",
            )
            return Tenant(org_id=org.id, slug=slug, partner_id=partner.id, partner_email=partner.email)

    return make


@pytest.fixture
def tenant(make_tenant: Callable[[str], Tenant]) -> Tenant:
    return make_tenant("firm")


def engagement_data(**overrides: object):
    """A valid EngagementCreate for calendar 2024, overridable field by field."""
    from auditray.store import EngagementCreate

    fields: dict[str, object] = {
        "client_name": "Acme Manufacturing Inc.",
        "name": "FY2024 financial statement audit",
        "fiscal_year": 2024,
        "period_start": date(2024, 1, 1),
        "period_end": date(2024, 12, 31),
        "materiality": Decimal("250000.00"),
        "performance_materiality": Decimal("187500.00"),
    }
    fields.update(overrides)
    return EngagementCreate(**fields)


@pytest.fixture
def make_engagement(engine: Engine, tenant: Tenant) -> Callable[..., int]:
    """Creates an engagement of ``tenant`` in planning and returns its id."""
    from auditray.store import services as svc
    from auditray.store import session_scope

    def make(**overrides: object) -> int:
        with session_scope(engine) as session:
            engagement = svc.create_engagement(
                session, engagement_data(**overrides), org_id=tenant.org_id, actor=tenant.partner_email
            )
            return engagement.id

    return make


def drop_append_only_triggers(engine: Engine) -> None:
    """What a tamperer with write access would do first; verify() must still catch what follows."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("DROP TRIGGER audit_events_append_only ON audit_events")
            connection.exec_driver_sql("DROP TRIGGER audit_events_no_truncate ON audit_events")
        else:
            connection.exec_driver_sql("DROP TRIGGER audit_events_no_update")
            connection.exec_driver_sql("DROP TRIGGER audit_events_no_delete")
