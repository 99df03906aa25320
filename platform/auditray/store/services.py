"""State changes of the metadata store, each recorded in the audit trail in the same transaction.

Every function takes the caller's session and never commits: wrap calls in ``session_scope`` and the
change and its audit event commit together or not at all. Every function that changes tenant data takes
``org_id`` and only finds rows of that organization (a row of another tenant is "not found", never
"forbidden", so tenants cannot probe each other). Role checks belong to the API layer; ``actor`` says
who acted, for the trail.

Each service first takes the audit chain's lock (``audit_trail.lock_chain``), before touching any row, so
concurrent writers queue in one order and cannot deadlock between a row lock and the chain lock.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from auditray import audit_trail
from auditray.audit_trail import actor_name
from auditray.store.exceptions import (
    AlreadyExists,
    EngagementFinalized,
    InvalidRunState,
    InvalidTransition,
    NotFound,
    StoreError,
)
from auditray.store.models import (
    FINISHED_STATUSES,
    Dataset,
    DatasetCreate,
    Engagement,
    EngagementCreate,
    EngagementMember,
    EngagementState,
    JobRun,
    JobRunCreate,
    Organization,
    OrganizationCreate,
    Role,
    RunStatus,
    User,
    UserCreate,
)
from auditray.store.types import utc_now

Actor = str | User

# Forward one step at a time; review may send the file back to fieldwork for more work. Nothing leaves
# finalized: the file is assembled and locked (AU-C 230.16-.17 / ISA 230.14-.15).
ALLOWED_TRANSITIONS: dict[EngagementState, frozenset[EngagementState]] = {
    EngagementState.planning: frozenset({EngagementState.fieldwork}),
    EngagementState.fieldwork: frozenset({EngagementState.review}),
    EngagementState.review: frozenset({EngagementState.fieldwork, EngagementState.finalized}),
    EngagementState.finalized: frozenset(),
}


# --- Lookups, always within one tenant --------------------------------------------------------------


def get_organization(session: Session, org_id: int) -> Organization:
    organization = session.get(Organization, org_id)
    if organization is None:
        raise NotFound(f"organization {org_id} not found")
    return organization


def get_organization_by_slug(session: Session, slug: str) -> Organization:
    organization = session.exec(select(Organization).where(Organization.slug == slug)).first()
    if organization is None:
        raise NotFound(f"organization {slug!r} not found")
    return organization


def get_user(session: Session, user_id: int, *, org_id: int) -> User:
    user = session.exec(select(User).where(User.id == user_id, User.org_id == org_id)).first()
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user


def get_user_by_email(session: Session, email: str) -> User:
    """Across tenants on purpose: logging in is how a user's tenant becomes known."""
    user = session.exec(select(User).where(User.email == email.strip().lower())).first()
    if user is None:
        raise NotFound(f"user {email!r} not found")
    return user


def get_engagement(
    session: Session, engagement_id: int, *, org_id: int, for_update: bool = False
) -> Engagement:
    query = select(Engagement).where(Engagement.id == engagement_id, Engagement.org_id == org_id)
    if for_update:
        query = query.with_for_update()
    engagement = session.exec(query).first()
    if engagement is None:
        raise NotFound(f"engagement {engagement_id} not found")
    return engagement


def list_engagements(
    session: Session, *, org_id: int, state: EngagementState | None = None
) -> list[Engagement]:
    query = select(Engagement).where(Engagement.org_id == org_id)
    if state is not None:
        query = query.where(Engagement.state == state)
    return list(session.exec(query.order_by(Engagement.id)).all())


def engagement_members(session: Session, engagement_id: int, *, org_id: int) -> list[EngagementMember]:
    get_engagement(session, engagement_id, org_id=org_id)
    query = select(EngagementMember).where(
        EngagementMember.engagement_id == engagement_id, EngagementMember.org_id == org_id
    )
    return list(session.exec(query.order_by(EngagementMember.id)).all())


def get_dataset(session: Session, dataset_id: int, *, org_id: int) -> Dataset:
    dataset = session.exec(select(Dataset).where(Dataset.id == dataset_id, Dataset.org_id == org_id)).first()
    if dataset is None:
        raise NotFound(f"dataset {dataset_id} not found")
    return dataset


def list_datasets(
    session: Session, *, org_id: int, engagement_id: int | None = None, kind: str | None = None
) -> list[Dataset]:
    query = select(Dataset).where(Dataset.org_id == org_id)
    if engagement_id is not None:
        query = query.where(Dataset.engagement_id == engagement_id)
    if kind is not None:
        query = query.where(Dataset.kind == kind)
    return list(session.exec(query.order_by(Dataset.id)).all())


def find_datasets_by_content(session: Session, *, org_id: int, content_sha256: str) -> list[Dataset]:
    """Datasets of this tenant with exactly this content: ingestion's "already registered?" question."""
    query = select(Dataset).where(Dataset.org_id == org_id, Dataset.content_sha256 == content_sha256)
    return list(session.exec(query.order_by(Dataset.id)).all())


def get_run(session: Session, run_id: int, *, org_id: int, for_update: bool = False) -> JobRun:
    query = select(JobRun).where(JobRun.id == run_id, JobRun.org_id == org_id)
    if for_update:
        query = query.with_for_update()
    run = session.exec(query).first()
    if run is None:
        raise NotFound(f"run {run_id} not found")
    return run


def list_runs(
    session: Session, *, org_id: int, engagement_id: int | None = None, status: RunStatus | None = None
) -> list[JobRun]:
    query = select(JobRun).where(JobRun.org_id == org_id)
    if engagement_id is not None:
        query = query.where(JobRun.engagement_id == engagement_id)
    if status is not None:
        query = query.where(JobRun.status == status)
    return list(session.exec(query.order_by(JobRun.id)).all())


def _open_engagement(session: Session, engagement_id: int, *, org_id: int) -> Engagement:
    """The engagement, locked for the transaction, or EngagementFinalized if it may no longer change."""
    engagement = get_engagement(session, engagement_id, org_id=org_id, for_update=True)
    if engagement.state == EngagementState.finalized:
        raise EngagementFinalized(
            f"engagement {engagement.id} ({engagement.name}) is finalized and read-only"
        )
    return engagement


# --- Tenants and people -----------------------------------------------------------------------------


def create_organization(
    session: Session, data: OrganizationCreate, *, actor: Actor = audit_trail.SYSTEM_ACTOR
) -> Organization:
    audit_trail.lock_chain(session)
    if session.exec(select(Organization.id).where(Organization.slug == data.slug)).first() is not None:
        raise AlreadyExists(f"an organization with slug {data.slug!r} already exists")
    organization = Organization.model_validate(data)
    session.add(organization)
    session.flush()
    audit_trail.record(
        session,
        actor=actor,
        action="organization.create",
        resource_type="organization",
        resource_id=organization.id,
        org_id=organization.id,
        details={"name": organization.name, "slug": organization.slug},
    )
    return organization


def create_user(session: Session, data: UserCreate, *, org_id: int, actor: Actor) -> User:
    audit_trail.lock_chain(session)
    get_organization(session, org_id)
    if session.exec(select(User.id).where(User.email == data.email)).first() is not None:
        raise AlreadyExists(f"a user with email {data.email!r} already exists")
    user = User.model_validate(data, update={"org_id": org_id})
    session.add(user)
    session.flush()
    audit_trail.record(
        session,
        actor=actor,
        action="user.create",
        resource_type="user",
        resource_id=user.id,
        org_id=org_id,
        details={
            "email": user.email,
            "full_name": user.full_name,
            "role": user.role,
            "is_service_account": user.is_service_account,
        },
    )
    return user


# --- Engagements ------------------------------------------------------------------------------------


def create_engagement(session: Session, data: EngagementCreate, *, org_id: int, actor: Actor) -> Engagement:
    """Open an engagement in planning; materiality is recorded exactly in the trail."""
    audit_trail.lock_chain(session)
    get_organization(session, org_id)
    engagement = Engagement.model_validate(
        data, update={"org_id": org_id, "state": EngagementState.planning, "created_by": actor_name(actor)}
    )
    session.add(engagement)
    session.flush()
    audit_trail.record(
        session,
        actor=actor,
        action="engagement.create",
        resource_type="engagement",
        resource_id=engagement.id,
        org_id=org_id,
        details={
            "client_name": engagement.client_name,
            "name": engagement.name,
            "fiscal_year": engagement.fiscal_year,
            "period_start": engagement.period_start,
            "period_end": engagement.period_end,
            "materiality": engagement.materiality,
            "performance_materiality": engagement.performance_materiality,
            "state": engagement.state,
        },
    )
    return engagement


def add_engagement_member(
    session: Session,
    *,
    engagement_id: int,
    user_id: int,
    org_id: int,
    actor: Actor,
    team_role: Role | str | None = None,
) -> EngagementMember:
    """Put a user of the same organization on the engagement team (team role defaults to their firm role)."""
    audit_trail.lock_chain(session)
    engagement = _open_engagement(session, engagement_id, org_id=org_id)
    user = get_user(session, user_id, org_id=org_id)
    if not user.is_active:
        raise StoreError(f"user {user.email} is inactive and cannot join an engagement team")
    existing = session.exec(
        select(EngagementMember.id).where(
            EngagementMember.engagement_id == engagement_id, EngagementMember.user_id == user_id
        )
    ).first()
    if existing is not None:
        raise AlreadyExists(f"{user.email} is already on the team of engagement {engagement_id}")
    role = Role(team_role) if team_role is not None else user.role
    member = EngagementMember(org_id=org_id, engagement_id=engagement.id, user_id=user.id, team_role=role)
    session.add(member)
    session.flush()
    audit_trail.record(
        session,
        actor=actor,
        action="engagement.member_add",
        resource_type="engagement",
        resource_id=engagement.id,
        org_id=org_id,
        details={"member_id": member.id, "user_id": user.id, "email": user.email, "team_role": role},
    )
    return member


def transition_engagement(
    session: Session,
    *,
    engagement_id: int,
    to_state: EngagementState | str,
    org_id: int,
    actor: Actor,
    reason: str | None = None,
) -> Engagement:
    """Move the engagement one step: planning -> fieldwork -> review -> finalized, or review -> fieldwork.

    Finalizing requires every run of the engagement to have finished: a run still going could otherwise
    never record its result in the locked file.
    """
    try:
        target = EngagementState(to_state)
    except ValueError:
        states = ", ".join(s.value for s in EngagementState)
        raise InvalidTransition(f"{to_state!r} is not an engagement state; states are {states}") from None
    audit_trail.lock_chain(session)
    engagement = _open_engagement(session, engagement_id, org_id=org_id)
    current = EngagementState(engagement.state)
    allowed = ALLOWED_TRANSITIONS[current]
    if target not in allowed:
        options = " or ".join(sorted(s.value for s in allowed))
        raise InvalidTransition(
            f"engagement {engagement.id} ({engagement.name}) cannot move from {current.value} "
            f"to {target.value}: from {current.value} it may only move to {options}"
        )
    if target == EngagementState.finalized:
        open_runs = session.exec(
            select(JobRun.id).where(
                JobRun.engagement_id == engagement.id,
                col(JobRun.status).in_([RunStatus.queued, RunStatus.running]),
            )
        ).all()
        if open_runs:
            raise InvalidTransition(
                f"engagement {engagement.id} cannot be finalized while runs {', '.join(map(str, open_runs))} "
                "are queued or running"
            )
    engagement.state = target
    engagement.updated_at = utc_now()
    session.add(engagement)
    session.flush()
    audit_trail.record(
        session,
        actor=actor,
        action="engagement.transition",
        resource_type="engagement",
        resource_id=engagement.id,
        org_id=org_id,
        details={"from": current, "to": target, "reason": reason},
    )
    return engagement


# --- Datasets and runs ------------------------------------------------------------------------------


def register_dataset(session: Session, data: DatasetCreate, *, org_id: int, actor: Actor) -> Dataset:
    """Record a dataset that ingestion has already written to ``data.uri``; the files are the caller's."""
    audit_trail.lock_chain(session)
    get_organization(session, org_id)
    if data.engagement_id is not None:
        _open_engagement(session, data.engagement_id, org_id=org_id)
    dataset = Dataset.model_validate(data, update={"org_id": org_id, "created_by": actor_name(actor)})
    if dataset.profile is not None:
        # Profiles carry exact sums as Decimals; JSON columns need them as strings, as the trail does.
        dataset.profile = audit_trail.canonical_details(dataset.profile)
    session.add(dataset)
    session.flush()
    audit_trail.record(
        session,
        actor=actor,
        action="dataset.register",
        resource_type="dataset",
        resource_id=dataset.id,
        org_id=org_id,
        details={
            "engagement_id": dataset.engagement_id,
            "kind": dataset.kind,
            "name": dataset.name,
            "uri": dataset.uri,
            "row_count": dataset.row_count,
            "schema_version": dataset.schema_version,
            "content_sha256": dataset.content_sha256,
            "source_name": dataset.source_name,
            "source_sha256": dataset.source_sha256,
        },
    )
    return dataset


def start_run(session: Session, data: JobRunCreate, *, org_id: int, actor: Actor) -> JobRun:
    """Create a run that is already running; ``finish_run`` closes it."""
    audit_trail.lock_chain(session)
    get_organization(session, org_id)
    if data.engagement_id is not None:
        _open_engagement(session, data.engagement_id, org_id=org_id)
    run = JobRun.model_validate(
        data,
        update={
            "org_id": org_id,
            "created_by": actor_name(actor),
            "status": RunStatus.running,
            "started_at": utc_now(),
            "progress": 0.0,
        },
    )
    run.parameters = audit_trail.canonical_details(run.parameters)
    session.add(run)
    session.flush()
    audit_trail.record(
        session,
        actor=actor,
        action="run.start",
        resource_type="run",
        resource_id=run.id,
        org_id=org_id,
        details={
            "engagement_id": run.engagement_id,
            "kind": run.kind,
            "parameters": run.parameters,
            "code_version": run.code_version,
        },
    )
    return run


def update_run_progress(session: Session, *, run_id: int, progress: float, org_id: int) -> JobRun:
    """Report how far a running run has got (0.0-1.0).

    Deliberately not audited: progress is a transient display value, reported many times per run; the
    trail records the run's start and its outcome. It still refuses runs of a finalized engagement.
    """
    if not 0.0 <= progress <= 1.0:
        raise ValueError(f"progress must be between 0 and 1, got {progress}")
    run = get_run(session, run_id, org_id=org_id, for_update=True)
    if run.status != RunStatus.running:
        raise InvalidRunState(f"run {run_id} is {run.status}, not running; its progress cannot change")
    if run.engagement_id is not None:
        _open_engagement(session, run.engagement_id, org_id=org_id)
    run.progress = float(progress)
    session.add(run)
    session.flush()
    return run


def finish_run(
    session: Session,
    *,
    run_id: int,
    status: RunStatus | str,
    org_id: int,
    actor: Actor,
    result_uri: str | None = None,
    error: str | None = None,
) -> JobRun:
    """Close a queued or running run as succeeded, failed (with an error) or cancelled."""
    outcome = RunStatus(status)
    if outcome not in FINISHED_STATUSES:
        raise InvalidRunState(f"a run finishes as succeeded, failed or cancelled, not {outcome.value}")
    if outcome == RunStatus.failed and not error:
        raise InvalidRunState("a failed run must say why: pass error=")
    audit_trail.lock_chain(session)
    run = get_run(session, run_id, org_id=org_id, for_update=True)
    if run.status in FINISHED_STATUSES:
        raise InvalidRunState(f"run {run_id} already finished as {RunStatus(run.status).value}")
    if run.engagement_id is not None:
        _open_engagement(session, run.engagement_id, org_id=org_id)
    run.status = outcome
    run.finished_at = utc_now()
    run.result_uri = result_uri
    run.error = error
    if outcome == RunStatus.succeeded:
        run.progress = 1.0
    session.add(run)
    session.flush()
    audit_trail.record(
        session,
        actor=actor,
        action="run.finish",
        resource_type="run",
        resource_id=run.id,
        org_id=org_id,
        details={
            "engagement_id": run.engagement_id,
            "kind": run.kind,
            "status": outcome,
            "result_uri": result_uri,
            "error": error,
        },
    )
    return run
