"""A small world for the API tests: two audit firms, every role in each, engagements in every state.

``build_world`` migrates a database, creates both firms (alpha and beta) with one user per firm role and a
service account with an API key, opens engagements (fieldwork with a full team, planning with only its
partner, finalized), uploads a small generated ledger and trial balance, and signs every user in. Tokens
are issued through the same service the login route uses, without argon2 per user, so a world costs
about a second.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditray.store.models import Role
from fastapi.testclient import TestClient

ROLES = [role for role in Role]
PASSWORD = "correct horse battery staple"


@dataclass
class Firm:
    org_id: int
    slug: str
    users: dict[str, int] = field(default_factory=dict)  # role name (or "service") -> user id
    emails: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # role name -> access token
    refresh: dict[str, str] = field(default_factory=dict)
    api_key: str = ""
    api_key_id: int = 0
    engagements: dict[str, int] = field(default_factory=dict)  # fieldwork, planning, finalized
    datasets: dict[str, int] = field(default_factory=dict)  # gl_detail, trial_balance
    open_request: int = 0
    cancelled_request: int = 0

    def headers(self, who: str) -> dict[str, str]:
        if who == "service":
            return {"X-API-Key": self.api_key}
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@dataclass
class World:
    client: TestClient
    app: Any
    settings: Any
    alpha: Firm
    beta: Firm
    ledger: Any

    def firms(self) -> tuple[Firm, Firm]:
        return self.alpha, self.beta


def make_settings(data_dir: Path, database_url: str | None = None):
    from auditray.settings import Settings

    return Settings(env="test", data_dir=data_dir, database_url=database_url, engine="local",
                    secret_key="test-secret-" + "x" * 40)


def _firm(session, slug: str, secret, *, with_passwords: bool) -> Firm:
    from auditray.auth import services as auth
    from auditray.store import OrganizationCreate, UserCreate
    from auditray.store import services as svc

    org = svc.create_organization(session, OrganizationCreate(name=f"{slug.title()} Audit LLP", slug=slug))
    firm = Firm(org_id=org.id, slug=slug)
    for role in ROLES:
        email = f"{role.value.replace('_', '.')}@{slug}.example"
        user = svc.create_user(session, UserCreate(email=email, full_name=f"{role.value.title()} of {slug}",
                                                   role=role), org_id=org.id, actor="system")
        firm.users[role.value], firm.emails[role.value] = user.id, email
        if with_passwords and slug == "alpha" and role in (Role.partner, Role.staff):
            auth.set_password(session, user_id=user.id, org_id=org.id, password=PASSWORD, actor="system")
        outcome = auth.open_session(session, user, secret=secret)
        firm.tokens[role.value] = outcome.tokens.access_token
        firm.refresh[role.value] = outcome.tokens.refresh_token
    service = svc.create_user(session, UserCreate(email=f"robot@{slug}.example", full_name=f"{slug} robot",
                                                  role=Role.senior, is_service_account=True),
                              org_id=org.id, actor="system")
    firm.users["service"], firm.emails["service"] = service.id, service.email
    row, key = auth.create_api_key(session, user_id=service.id, org_id=org.id, name="ci", actor="system")
    firm.api_key, firm.api_key_id = key, row.id
    return firm


def _engagements(session, firm: Firm) -> None:
    from datetime import date
    from decimal import Decimal

    from auditray.store import EngagementCreate
    from auditray.store import services as svc

    partner = firm.emails["partner"]

    def open_one(name: str) -> int:
        data = EngagementCreate(client_name=f"{firm.slug.title()} Client {name.title()} Corp", name=f"FY2025 {name}",
                                fiscal_year=2025, period_start=date(2025, 1, 1), period_end=date(2025, 12, 31),
                                materiality=Decimal("500000.00"), performance_materiality=Decimal("375000.00"))
        engagement = svc.create_engagement(session, data, org_id=firm.org_id, actor=partner)
        return engagement.id

    for name in ("fieldwork", "planning", "finalized"):
        firm.engagements[name] = open_one(name)
    fieldwork, finalized = firm.engagements["fieldwork"], firm.engagements["finalized"]
    for engagement_id in (fieldwork, finalized):
        for role in ("partner", "senior", "staff", "client_contact"):
            svc.add_engagement_member(session, engagement_id=engagement_id, user_id=firm.users[role],
                                      org_id=firm.org_id, actor=partner)
    svc.add_engagement_member(session, engagement_id=fieldwork, user_id=firm.users["service"],
                              org_id=firm.org_id, actor=partner)
    svc.add_engagement_member(session, engagement_id=firm.engagements["planning"], user_id=firm.users["partner"],
                              org_id=firm.org_id, actor=partner)
    svc.transition_engagement(session, engagement_id=fieldwork, to_state="fieldwork", org_id=firm.org_id,
                              actor=partner)
    for state in ("fieldwork", "review", "finalized"):
        svc.transition_engagement(session, engagement_id=finalized, to_state=state, org_id=firm.org_id,
                                  actor=partner)


def build_world(tmp: Path, ledger, *, database_url: str | None = None, launcher=None, api_settings=None,
                with_passwords: bool = True, with_data: bool = True) -> World:
    """Two firms, every role, three engagements each, a ledger in alpha's fieldwork engagement."""
    from auditray import datasets
    from auditray.api import create_app
    from auditray.api.config import ApiSettings
    from auditray.runs import InlineLauncher
    from auditray.store import api_services, make_engine, session_scope

    settings = make_settings(tmp / "data", database_url)
    app = create_app(settings, launcher=launcher or InlineLauncher(),
                     api_settings=api_settings or ApiSettings(rate_per_second=10_000, rate_burst=10_000,
                                                              login_per_minute=10_000))
    engine = make_engine(settings.resolved_database_url)
    try:
        with session_scope(engine) as session:
            alpha = _firm(session, "alpha", settings.secret_key, with_passwords=with_passwords)
            beta = _firm(session, "beta", settings.secret_key, with_passwords=with_passwords)
            for firm in (alpha, beta):
                _engagements(session, firm)
        for firm in (alpha, beta):
            if not with_data:
                continue
            fieldwork = firm.engagements["fieldwork"]
            gl = datasets.ingest(ledger.exports["ads_csv"], "gl_detail", org_id=firm.org_id,
                                 actor=firm.emails["senior"], engagement_id=fieldwork, settings=settings)
            tb = datasets.ingest(ledger.trial_balance, "trial_balance", org_id=firm.org_id,
                                 actor=firm.emails["senior"], engagement_id=fieldwork, settings=settings)
            firm.datasets = {"gl_detail": gl.id, "trial_balance": tb.id}
            with session_scope(engine) as session:
                firm.open_request = api_services.create_request(
                    session, engagement_id=fieldwork, org_id=firm.org_id, kind="chart_of_accounts",
                    description="Chart of accounts as at year end", actor=firm.emails["senior"]).id
                cancelled = api_services.create_request(
                    session, engagement_id=fieldwork, org_id=firm.org_id, kind="gl_detail",
                    description="Q4 journals (superseded)", actor=firm.emails["senior"])
                api_services.cancel_request(session, request_id=cancelled.id, engagement_id=fieldwork,
                                            org_id=firm.org_id, actor=firm.emails["senior"])
                firm.cancelled_request = cancelled.id
    finally:
        engine.dispose()
    client = TestClient(app, raise_server_exceptions=False)
    return World(client=client, app=app, settings=settings, alpha=alpha, beta=beta, ledger=ledger)


def generate_ledger(out: Path):
    from auditray.generate import GeneratorConfig, generate_engagement

    return generate_engagement(GeneratorConfig(seed=7, n_lines=4000, n_entities=1, export_formats=("ads_csv",)), out)


def wait_for_run(client: TestClient, run_id: int, headers: dict[str, str], timeout: float = 90.0) -> dict:
    import time

    deadline = time.monotonic() + timeout
    while True:
        body = client.get(f"/runs/{run_id}", headers=headers).json()
        if body["status"] not in ("queued", "running"):
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} still {body['status']} after {timeout} s")
        time.sleep(0.1)
