"""The metadata store, read as an auditor's checklist: exact money, the engagement lifecycle, a locked
file once finalized, tenants kept apart, and one audit event for every change, committed with it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from auditray import audit_trail
from auditray.store import (
    AlreadyExists,
    AuditEvent,
    Dataset,
    DatasetCreate,
    Engagement,
    EngagementFinalized,
    EngagementState,
    InvalidRunState,
    InvalidTransition,
    JobRun,
    JobRunCreate,
    NotFound,
    Organization,
    OrganizationCreate,
    Role,
    RunStatus,
    TenantMismatch,
    User,
    UserCreate,
    session_scope,
    to_money,
)
from auditray.store import services as svc
from pydantic import ValidationError
from sqlalchemy import Engine, func, select, text

from tests.store_fixtures import Tenant, engagement_data

SHA = "ab" * 32


def dataset_data(**overrides: object) -> DatasetCreate:
    fields: dict[str, object] = {
        "kind": "gl_detail",
        "name": "GL FY2024",
        "uri": "datasets/gl_fy2024.parquet",
        "row_count": 1_204_331,
        "schema_version": "1.0",
        "content_sha256": SHA,
        "source_sha256": "cd" * 32,
        "source_name": "gl_export_2024.xlsx",
        "profile": {"debits": "1000.00", "credits": "-1000.00"},
    }
    fields.update(overrides)
    return DatasetCreate(**fields)


def event_count(engine: Engine) -> int:
    with session_scope(engine) as session:
        return session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()


def latest_event(engine: Engine) -> AuditEvent:
    with session_scope(engine) as session:
        return audit_trail.events(session, newest_first=True, limit=1)[0]


def walk(engine: Engine, tenant: Tenant, engagement_id: int, *states: str) -> Engagement | None:
    """Transition the engagement through ``states`` in one transaction; the final engagement, if any."""
    engagement = None
    with session_scope(engine) as session:
        for state in states:
            engagement = svc.transition_engagement(
                session,
                engagement_id=engagement_id,
                to_state=state,
                org_id=tenant.org_id,
                actor=tenant.partner_email,
            )
    return engagement


# --- Money is exact ---------------------------------------------------------------------------------


def test_money_round_trips_exactly(
    engine: Engine, tenant: Tenant, make_engagement: Callable[..., int]
) -> None:
    engagement_id = make_engagement(
        materiality=Decimal("12345678901234.56"), performance_materiality=Decimal("9876543210987.65")
    )
    with session_scope(engine) as session:
        engagement = svc.get_engagement(session, engagement_id, org_id=tenant.org_id)
        assert engagement.materiality == Decimal("12345678901234.56")
        assert str(engagement.materiality) == "12345678901234.56"
        assert str(engagement.performance_materiality) == "9876543210987.65"
        assert isinstance(engagement.materiality, Decimal)


def test_money_is_stored_as_text_on_sqlite_and_numeric_on_postgresql(
    engine: Engine, make_engagement: Callable[..., int]
) -> None:
    engagement_id = make_engagement(materiality=Decimal("12345678901234.56"))
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            stored, kind = connection.execute(
                text("SELECT materiality, typeof(materiality) FROM engagements WHERE id = :id"),
                {"id": engagement_id},
            ).one()
            assert (stored, kind) == ("12345678901234.56", "text")
        else:
            kind = connection.execute(
                text(
                    "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                    "WHERE attrelid = 'engagements'::regclass AND attname = 'materiality'"
                )
            ).scalar_one()
            assert kind == "numeric(18,2)"


def test_materiality_is_recorded_exactly_in_the_audit_trail(
    engine: Engine, make_engagement: Callable[..., int]
) -> None:
    make_engagement(materiality=Decimal("12345678901234.56"))
    details = latest_event(engine).details
    assert details["materiality"] == "12345678901234.56"
    assert details["performance_materiality"] == "187500.00"


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (0.1, TypeError),  # floats never become money
        (Decimal("1.005"), ValueError),  # fractions of a cent are refused, not rounded
        (Decimal(10000000000000000), ValueError),  # beyond NUMERIC(18,2)
        (Decimal("NaN"), ValueError),
        ("twelve", ValueError),
    ],
)
def test_amounts_that_are_not_exact_money_are_refused(value: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        to_money(value)  # type: ignore[arg-type]


def test_to_money_accepts_strings_ints_and_decimals() -> None:
    assert to_money("1.5") == Decimal("1.50")
    assert to_money(7) == Decimal("7.00")
    assert to_money(Decimal("-0.01")) == Decimal("-0.01")


@pytest.mark.parametrize(
    "overrides",
    [
        {"materiality": 250000.0},  # float
        {"performance_materiality": Decimal("300000.00")},  # above materiality (AU-C 320.11)
        {"period_start": datetime(2025, 1, 1).date()},  # period ends before it starts
        {"materiality": Decimal("-1.00")},
        {"materiality": Decimal("1.001")},
    ],
)
def test_an_inconsistent_engagement_is_refused_before_it_reaches_the_database(overrides: dict) -> None:
    with pytest.raises(ValidationError):
        engagement_data(**overrides)


def test_timestamps_come_back_time_zone_aware_in_utc(engine: Engine, tenant: Tenant) -> None:
    with session_scope(engine) as session:
        org = svc.get_organization(session, tenant.org_id)
        assert org.created_at.tzinfo is not None
        assert org.created_at.utcoffset().total_seconds() == 0
        assert abs((datetime.now(UTC) - org.created_at).total_seconds()) < 60


# --- The engagement lifecycle ----------------------------------------------------------------------

STATES = [s.value for s in EngagementState]
ALLOWED = {
    ("planning", "fieldwork"),
    ("fieldwork", "review"),
    ("review", "finalized"),
    ("review", "fieldwork"),
}
PATH_TO = {
    "planning": [],
    "fieldwork": ["fieldwork"],
    "review": ["fieldwork", "review"],
    "finalized": ["fieldwork", "review", "finalized"],
}


@pytest.mark.parametrize("to_state", STATES)
@pytest.mark.parametrize("from_state", STATES)
def test_the_engagement_moves_only_along_the_lifecycle(
    engine: Engine, tenant: Tenant, make_engagement: Callable[..., int], from_state: str, to_state: str
) -> None:
    engagement_id = make_engagement()
    walk(engine, tenant, engagement_id, *PATH_TO[from_state])
    events_before = event_count(engine)

    def attempt() -> Engagement:
        return walk(engine, tenant, engagement_id, to_state)

    if (from_state, to_state) in ALLOWED:
        assert attempt().state == to_state
        event = latest_event(engine)
        assert (event.action, event.details["from"], event.details["to"]) == (
            "engagement.transition",
            from_state,
            to_state,
        )
        assert event_count(engine) == events_before + 1
    else:
        expected = EngagementFinalized if from_state == "finalized" else InvalidTransition
        with pytest.raises(expected):
            attempt()
        assert event_count(engine) == events_before
        with session_scope(engine) as session:
            assert svc.get_engagement(session, engagement_id, org_id=tenant.org_id).state == from_state


def test_an_unknown_state_is_refused_with_the_list_of_states(
    engine: Engine, tenant: Tenant, make_engagement: Callable[..., int]
) -> None:
    engagement_id = make_engagement()
    with pytest.raises(InvalidTransition, match="planning, fieldwork, review, finalized"):
        walk(engine, tenant, engagement_id, "signed")


def test_skipping_a_step_says_where_the_engagement_may_go(
    engine: Engine, tenant: Tenant, make_engagement: Callable[..., int]
) -> None:
    engagement_id = make_engagement()
    with pytest.raises(
        InvalidTransition, match="from planning to review: from planning it may only move to fieldwork"
    ):
        walk(engine, tenant, engagement_id, "review")


def test_an_engagement_cannot_be_finalized_while_a_run_is_still_going(
    engine: Engine, tenant: Tenant, make_engagement: Callable[..., int]
) -> None:
    engagement_id = make_engagement()
    walk(engine, tenant, engagement_id, "fieldwork", "review")
    with session_scope(engine) as session:
        run = svc.start_run(
            session,
            JobRunCreate(kind="je_tests", engagement_id=engagement_id),
            org_id=tenant.org_id,
            actor=tenant.partner_email,
        )
    with pytest.raises(InvalidTransition, match=f"runs {run.id} are queued or running"):
        walk(engine, tenant, engagement_id, "finalized")
    with session_scope(engine) as session:
        svc.finish_run(session, run_id=run.id, status="succeeded", org_id=tenant.org_id, actor="system")
    assert walk(engine, tenant, engagement_id, "finalized").state == EngagementState.finalized


# --- A finalized engagement is read-only -----------------------------------------------------------


@pytest.fixture
def finalized(engine: Engine, tenant: Tenant, make_engagement: Callable[..., int]) -> dict[str, int]:
    """A finalized engagement with one member, one dataset and one finished run."""
    engagement_id = make_engagement()
    with session_scope(engine) as session:
        staff = svc.create_user(
            session,
            UserCreate(email="staff@firm.example", full_name="Sam Staff", role=Role.staff),
            org_id=tenant.org_id,
            actor=tenant.partner_email,
        )
        svc.add_engagement_member(
            session,
            engagement_id=engagement_id,
            user_id=tenant.partner_id,
            org_id=tenant.org_id,
            actor=tenant.partner_email,
        )
        dataset = svc.register_dataset(
            session,
            dataset_data(engagement_id=engagement_id),
            org_id=tenant.org_id,
            actor=tenant.partner_email,
        )
        run = svc.start_run(
            session,
            JobRunCreate(kind="je_tests", engagement_id=engagement_id),
            org_id=tenant.org_id,
            actor=tenant.partner_email,
        )
        svc.finish_run(session, run_id=run.id, status="succeeded", org_id=tenant.org_id, actor="system")
    walk(engine, tenant, engagement_id, "fieldwork", "review", "finalized")
    return {"engagement": engagement_id, "staff": staff.id, "dataset": dataset.id, "run": run.id}


SERVICE_CHANGES_TO_A_FINALIZED_ENGAGEMENT: dict[str, Callable] = {
    "add a member": lambda s, t, f: svc.add_engagement_member(
        s, engagement_id=f["engagement"], user_id=f["staff"], org_id=t.org_id, actor=t.partner_email
    ),
    "register a dataset": lambda s, t, f: svc.register_dataset(
        s, dataset_data(engagement_id=f["engagement"]), org_id=t.org_id, actor=t.partner_email
    ),
    "start a run": lambda s, t, f: svc.start_run(
        s,
        JobRunCreate(kind="je_tests", engagement_id=f["engagement"]),
        org_id=t.org_id,
        actor=t.partner_email,
    ),
    "reopen for fieldwork": lambda s, t, f: svc.transition_engagement(
        s, engagement_id=f["engagement"], to_state="fieldwork", org_id=t.org_id, actor=t.partner_email
    ),
}

ORM_CHANGES_TO_A_FINALIZED_ENGAGEMENT: dict[str, Callable] = {
    "rename the engagement": lambda s, t, f: setattr(s.get(Engagement, f["engagement"]), "name", "renamed"),
    "lower materiality": lambda s, t, f: setattr(
        s.get(Engagement, f["engagement"]), "materiality", Decimal("1.00")
    ),
    "repoint a dataset": lambda s, t, f: setattr(s.get(Dataset, f["dataset"]), "uri", "elsewhere.parquet"),
    "delete a dataset": lambda s, t, f: s.delete(s.get(Dataset, f["dataset"])),
    "rewrite a run's result": lambda s, t, f: setattr(
        s.get(JobRun, f["run"]), "result_uri", "forged.parquet"
    ),
    "add a dataset directly": lambda s, t, f: s.add(
        Dataset.model_validate(
            dataset_data(engagement_id=f["engagement"]), update={"org_id": t.org_id, "created_by": "x"}
        )
    ),
}


@pytest.mark.parametrize("change", list(SERVICE_CHANGES_TO_A_FINALIZED_ENGAGEMENT))
def test_services_refuse_to_change_a_finalized_engagement(
    engine: Engine, tenant: Tenant, finalized: dict[str, int], change: str
) -> None:
    events_before = event_count(engine)
    with (
        pytest.raises(EngagementFinalized, match="finalized and read-only"),
        session_scope(engine) as session,
    ):
        SERVICE_CHANGES_TO_A_FINALIZED_ENGAGEMENT[change](session, tenant, finalized)
    assert event_count(engine) == events_before


@pytest.mark.parametrize("change", list(ORM_CHANGES_TO_A_FINALIZED_ENGAGEMENT))
def test_direct_orm_changes_to_a_finalized_engagement_are_refused_at_flush(
    engine: Engine, tenant: Tenant, finalized: dict[str, int], change: str
) -> None:
    with pytest.raises(EngagementFinalized), session_scope(engine) as session:
        ORM_CHANGES_TO_A_FINALIZED_ENGAGEMENT[change](session, tenant, finalized)
    with session_scope(engine) as session:
        engagement = session.get(Engagement, finalized["engagement"])
        assert engagement.name == "FY2024 financial statement audit"
        assert engagement.materiality == Decimal("250000.00")
        assert session.get(Dataset, finalized["dataset"]).uri == "datasets/gl_fy2024.parquet"
        assert len(svc.list_datasets(session, org_id=tenant.org_id)) == 1


def test_a_run_of_a_finalized_engagement_cannot_be_finished_again(
    engine: Engine, tenant: Tenant, finalized: dict[str, int]
) -> None:
    with pytest.raises(InvalidRunState, match="already finished"), session_scope(engine) as session:
        svc.finish_run(
            session, run_id=finalized["run"], status="failed", error="x", org_id=tenant.org_id, actor="system"
        )


def test_a_dataset_profile_keeps_exact_amounts(engine: Engine, tenant: Tenant) -> None:
    profile = {"debits": Decimal("1204331.07"), "credits": Decimal("-1204331.07"), "rows": 3}
    with session_scope(engine) as session:
        dataset = svc.register_dataset(
            session, dataset_data(profile=profile), org_id=tenant.org_id, actor=tenant.partner_email
        )
    with session_scope(engine) as session:
        stored = svc.get_dataset(session, dataset.id, org_id=tenant.org_id)
        assert stored.profile == {"debits": "1204331.07", "credits": "-1204331.07", "rows": 3}
        assert stored.row_count == 1_204_331


def test_datasets_outside_any_engagement_stay_writable(
    engine: Engine, tenant: Tenant, finalized: dict
) -> None:
    with session_scope(engine) as session:
        dataset = svc.register_dataset(
            session, dataset_data(), org_id=tenant.org_id, actor=tenant.partner_email
        )
    assert dataset.engagement_id is None


# --- Every change records exactly one event, in the same transaction -------------------------------


def _service_calls(tenant: Tenant, engagement_id: int) -> dict[str, tuple[Callable, str, str]]:
    org, who = tenant.org_id, tenant.partner_email
    return {
        "create_organization": (
            lambda s: svc.create_organization(s, OrganizationCreate(name="Other LLP", slug="other")),
            "organization.create",
            "organization",
        ),
        "create_user": (
            lambda s: svc.create_user(
                s,
                UserCreate(email="Senior@Firm.example", full_name="Sue", role="senior"),
                org_id=org,
                actor=who,
            ),
            "user.create",
            "user",
        ),
        "create_engagement": (
            lambda s: svc.create_engagement(s, engagement_data(), org_id=org, actor=who),
            "engagement.create",
            "engagement",
        ),
        "add_engagement_member": (
            lambda s: svc.add_engagement_member(
                s, engagement_id=engagement_id, user_id=tenant.partner_id, org_id=org, actor=who
            ),
            "engagement.member_add",
            "engagement",
        ),
        "transition_engagement": (
            lambda s: svc.transition_engagement(
                s, engagement_id=engagement_id, to_state="fieldwork", org_id=org, actor=who
            ),
            "engagement.transition",
            "engagement",
        ),
        "register_dataset": (
            lambda s: svc.register_dataset(
                s, dataset_data(engagement_id=engagement_id), org_id=org, actor=who
            ),
            "dataset.register",
            "dataset",
        ),
        "start_run": (
            lambda s: svc.start_run(
                s,
                JobRunCreate(kind="sampling", engagement_id=engagement_id, parameters={"n": 25}),
                org_id=org,
                actor=who,
            ),
            "run.start",
            "run",
        ),
    }


SERVICES = [
    "create_organization",
    "create_user",
    "create_engagement",
    "add_engagement_member",
    "transition_engagement",
    "register_dataset",
    "start_run",
]
MODEL_OF = {
    "organization": Organization,
    "user": User,
    "engagement": Engagement,
    "dataset": Dataset,
    "run": JobRun,
}


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_appends_exactly_one_event_naming_what_it_changed(
    engine: Engine, tenant: Tenant, make_engagement: Callable[..., int], service: str
) -> None:
    engagement_id = make_engagement()
    call, action, resource_type = _service_calls(tenant, engagement_id)[service]
    before = event_count(engine)
    with session_scope(engine) as session:
        changed = call(session)
    assert event_count(engine) == before + 1
    event = latest_event(engine)
    assert (event.action, event.resource_type) == (action, resource_type)
    expected_id = changed.engagement_id if service == "add_engagement_member" else changed.id
    assert event.resource_id == str(expected_id)
    expected_org = changed.id if service == "create_organization" else tenant.org_id
    assert event.org_id == expected_org
    assert event.actor == ("system" if service == "create_organization" else tenant.partner_email)


@pytest.mark.parametrize("service", SERVICES)
def test_a_failing_transaction_leaves_neither_the_change_nor_its_event(
    engine: Engine, tenant: Tenant, make_engagement: Callable[..., int], service: str
) -> None:
    engagement_id = make_engagement()
    call, _, resource_type = _service_calls(tenant, engagement_id)[service]
    before_events = event_count(engine)
    with session_scope(engine) as session:
        before_rows = session.execute(select(func.count()).select_from(MODEL_OF[resource_type])).scalar_one()
        before_members = len(svc.engagement_members(session, engagement_id, org_id=tenant.org_id))

    with pytest.raises(RuntimeError, match="later step failed"), session_scope(engine) as session:
        call(session)
        raise RuntimeError("a later step failed")

    assert event_count(engine) == before_events
    with session_scope(engine) as session:
        rows = session.execute(select(func.count()).select_from(MODEL_OF[resource_type])).scalar_one()
        assert rows == before_rows
        assert len(svc.engagement_members(session, engagement_id, org_id=tenant.org_id)) == before_members
        assert svc.get_engagement(session, engagement_id, org_id=tenant.org_id).state == "planning"
        assert audit_trail.verify(session).ok


def test_a_change_whose_event_cannot_be_recorded_does_not_commit(
    engine: Engine, tenant: Tenant, make_engagement: Callable[..., int], monkeypatch: pytest.MonkeyPatch
) -> None:
    engagement_id = make_engagement()

    def broken_record(*args: object, **kwargs: object) -> None:
        raise OSError("audit store unavailable")

    monkeypatch.setattr(audit_trail, "record", broken_record)
    with pytest.raises(OSError):
        walk(engine, tenant, engagement_id, "fieldwork")
    with session_scope(engine) as session:
        assert svc.get_engagement(session, engagement_id, org_id=tenant.org_id).state == "planning"


def test_refused_duplicates_record_nothing(engine: Engine, tenant: Tenant) -> None:
    before = event_count(engine)
    with pytest.raises(AlreadyExists, match="slug 'firm'"), session_scope(engine) as session:
        svc.create_organization(session, OrganizationCreate(name="Again", slug="firm"))
    with pytest.raises(AlreadyExists, match="partner@firm.example"), session_scope(engine) as session:
        svc.create_user(
            session,
            UserCreate(email="PARTNER@firm.example", full_name="Dup"),
            org_id=tenant.org_id,
            actor="system",
        )
    assert event_count(engine) == before


def test_a_member_joins_a_team_once_in_their_firm_role_by_default(
    engine: Engine, tenant: Tenant, make_engagement: Callable[..., int]
) -> None:
    engagement_id = make_engagement()
    with session_scope(engine) as session:
        member = svc.add_engagement_member(
            session,
            engagement_id=engagement_id,
            user_id=tenant.partner_id,
            org_id=tenant.org_id,
            actor="system",
        )
    assert member.team_role == Role.partner
    with pytest.raises(AlreadyExists, match="already on the team"), session_scope(engine) as session:
        svc.add_engagement_member(
            session,
            engagement_id=engagement_id,
            user_id=tenant.partner_id,
            org_id=tenant.org_id,
            actor="system",
            team_role="qc_reviewer",
        )


# --- Runs -------------------------------------------------------------------------------------------


def test_a_run_is_started_progresses_and_finishes_with_its_outcome_audited(
    engine: Engine, tenant: Tenant, make_engagement: Callable[..., int]
) -> None:
    engagement_id = make_engagement()
    with session_scope(engine) as session:
        run = svc.start_run(
            session,
            JobRunCreate(
                kind="je_tests",
                engagement_id=engagement_id,
                parameters={"threshold": Decimal("1000.00")},
                code_version="0.1.0+abc123",
            ),
            org_id=tenant.org_id,
            actor=tenant.partner_email,
        )
    assert (run.status, run.progress, run.started_at is not None) == (RunStatus.running, 0.0, True)
    assert run.parameters == {"threshold": "1000.00"}

    before = event_count(engine)
    with session_scope(engine) as session:
        svc.update_run_progress(session, run_id=run.id, progress=0.5, org_id=tenant.org_id)
    # Progress is a transient display value, deliberately not audited.
    assert event_count(engine) == before

    with session_scope(engine) as session:
        done = svc.finish_run(
            session,
            run_id=run.id,
            status="succeeded",
            result_uri="results/run1.parquet",
            org_id=tenant.org_id,
            actor="system",
        )
    assert (done.status, done.progress, done.result_uri) == (RunStatus.succeeded, 1.0, "results/run1.parquet")
    assert done.finished_at >= done.started_at
    event = latest_event(engine)
    assert (event.action, event.resource_id, event.details["status"]) == (
        "run.finish",
        str(run.id),
        "succeeded",
    )
    assert event_count(engine) == before + 1


def test_run_rules(engine: Engine, tenant: Tenant) -> None:
    with session_scope(engine) as session:
        run = svc.start_run(session, JobRunCreate(kind="tb_normalize"), org_id=tenant.org_id, actor="system")
    with pytest.raises(InvalidRunState, match="must say why"), session_scope(engine) as session:
        svc.finish_run(session, run_id=run.id, status="failed", org_id=tenant.org_id, actor="system")
    with pytest.raises(InvalidRunState, match="not running"), session_scope(engine) as session:
        svc.finish_run(session, run_id=run.id, status="running", org_id=tenant.org_id, actor="system")
    with pytest.raises(ValueError, match="between 0 and 1"), session_scope(engine) as session:
        svc.update_run_progress(session, run_id=run.id, progress=1.5, org_id=tenant.org_id)
    with session_scope(engine) as session:
        failed = svc.finish_run(
            session,
            run_id=run.id,
            status="failed",
            error="ledger does not balance",
            org_id=tenant.org_id,
            actor="system",
        )
    assert (failed.status, failed.error) == (RunStatus.failed, "ledger does not balance")
    with pytest.raises(InvalidRunState, match="not running"), session_scope(engine) as session:
        svc.update_run_progress(session, run_id=run.id, progress=0.9, org_id=tenant.org_id)


# --- Tenants stay apart -----------------------------------------------------------------------------


def test_one_tenant_cannot_reach_another_tenants_rows(
    engine: Engine, tenant: Tenant, make_tenant: Callable[[str], Tenant], make_engagement: Callable[..., int]
) -> None:
    engagement_id = make_engagement()
    rival = make_tenant("rival")
    with session_scope(engine) as session:
        dataset = svc.register_dataset(session, dataset_data(), org_id=tenant.org_id, actor="system")
        run = svc.start_run(session, JobRunCreate(kind="je_tests"), org_id=tenant.org_id, actor="system")

    lookups = {
        "engagement": lambda s: svc.get_engagement(s, engagement_id, org_id=rival.org_id),
        "dataset": lambda s: svc.get_dataset(s, dataset.id, org_id=rival.org_id),
        "run": lambda s: svc.get_run(s, run.id, org_id=rival.org_id),
        "user": lambda s: svc.get_user(s, tenant.partner_id, org_id=rival.org_id),
        "transition": lambda s: svc.transition_engagement(
            s,
            engagement_id=engagement_id,
            to_state="fieldwork",
            org_id=rival.org_id,
            actor=rival.partner_email,
        ),
        "dataset on their engagement": lambda s: svc.register_dataset(
            s, dataset_data(engagement_id=engagement_id), org_id=rival.org_id, actor=rival.partner_email
        ),
        "their user on our team": lambda s: svc.add_engagement_member(
            s, engagement_id=engagement_id, user_id=rival.partner_id, org_id=tenant.org_id, actor="system"
        ),
    }
    for name, lookup in lookups.items():
        with pytest.raises(NotFound), session_scope(engine) as session:
            lookup(session)
            pytest.fail(f"{name} crossed tenants")

    with session_scope(engine) as session:
        assert svc.list_engagements(session, org_id=rival.org_id) == []
        assert svc.list_datasets(session, org_id=rival.org_id) == []
        assert svc.list_runs(session, org_id=rival.org_id) == []
        assert [
            d.id for d in svc.find_datasets_by_content(session, org_id=tenant.org_id, content_sha256=SHA)
        ] == [dataset.id]
        assert svc.find_datasets_by_content(session, org_id=rival.org_id, content_sha256=SHA) == []
        assert {e.org_id for e in audit_trail.events(session, org_id=rival.org_id)} == {rival.org_id}


def test_a_row_cannot_be_attached_to_another_tenants_engagement(
    engine: Engine, tenant: Tenant, make_tenant: Callable[[str], Tenant], make_engagement: Callable[..., int]
) -> None:
    engagement_id = make_engagement()
    rival = make_tenant("rival")
    with pytest.raises(TenantMismatch), session_scope(engine) as session:
        session.add(
            Dataset.model_validate(
                dataset_data(engagement_id=engagement_id), update={"org_id": rival.org_id, "created_by": "x"}
            )
        )


# --- The engine -------------------------------------------------------------------------------------


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path) -> None:
    from auditray.store import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'pragmas.db'}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    finally:
        engine.dispose()


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(User(email="ghost@nowhere.example", full_name="Ghost", org_id=999_999))


@pytest.mark.postgres
def test_plain_postgresql_urls_connect_through_psycopg(postgres_database: str) -> None:
    from auditray.store import make_engine

    assert postgres_database.startswith("postgresql://")
    engine = make_engine(postgres_database)
    try:
        assert engine.dialect.driver == "psycopg"
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        engine.dispose()
