"""Who may do what, declared in one place: actor -> action -> resource.

Every check in the API asks one question, ``decide(actor, action, resource)``, and this module answers
it from one table, ``GRANTS``: for each action, which firm roles hold it and how far it reaches.

- ``all``: every engagement (or record) of the actor's own organization;
- ``team``: only engagements whose team the actor is on (staff and seniors see only those);
- ``own``: a client contact's own engagement, and only the narrow actions granted for it.

Three rules sit above the table. Tenants never see each other: a resource of another organization is
"not found", never "forbidden", so nobody can probe for it. An engagement the actor cannot see at all is
likewise "not found". A finalized engagement is read-only for everyone (the file as signed off:
AU-C 230.A21-.A25 / ISA 230.A21-A24), so actions that change it are refused with a conflict.

The README's permission matrix is ``permission_matrix_markdown()``; a test keeps the two identical.

Example::

    actor = Actor(user_id=7, org_id=1, email="sam@firm.example", role=Role.senior)
    resource = EngagementResource(org_id=1, engagement_id=3, state=EngagementState.fieldwork, is_member=True)
    decide(actor, "run.start", resource).allowed   # True: seniors start runs on their teams' engagements
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from auditray.store.models import EngagementState, Role


class Scope(StrEnum):
    all = "all"
    team = "team"
    own = "own"


@dataclass(frozen=True)
class Action:
    """Something an actor does. ``changes`` actions are refused on finalized engagements."""

    name: str
    resource: Literal["organization", "engagement"]
    description: str
    changes: bool = False


ACTIONS: tuple[Action, ...] = (
    # The organization: people, keys, the audit trail, the regulation corpus.
    Action("user.read", "organization", "list the firm's users and their roles"),
    Action("user.manage", "organization", "create users, change roles, deactivate, reset passwords, end sessions",
           changes=True),
    Action("apikey.manage", "organization", "issue and revoke service-account API keys", changes=True),
    Action("audit.read", "organization", "read the firm's audit trail"),
    Action("audit.verify", "organization", "verify the audit trail's hash chain"),
    Action("engagement.create", "organization", "open a new engagement", changes=True),
    Action("evidence.verify", "organization", "check an evidence pack's manifest and signature"),
    Action("rag.search", "organization", "search the regulation corpus"),
    Action("rag.ask", "organization", "ask a question answered from the regulation corpus"),
    Action("rag.ingest", "organization", "add documents to the regulation corpus", changes=True),
    # One engagement and everything in it.
    Action("engagement.status", "engagement", "see the engagement's state and open requests"),
    Action("engagement.read", "engagement", "see the engagement, its team, datasets, runs and history"),
    Action("engagement.update", "engagement", "edit the engagement's details", changes=True),
    Action("engagement.delete", "engagement", "delete an engagement opened by mistake (planning, no evidence)",
           changes=True),
    Action("engagement.transition", "engagement", "move planning -> fieldwork -> review, or back to fieldwork",
           changes=True),
    Action("engagement.finalize", "engagement", "finalize the engagement (sign-off; read-only afterwards)",
           changes=True),
    Action("team.manage", "engagement", "add and remove team members", changes=True),
    Action("request.create", "engagement", "request files from the client, cancel requests", changes=True),
    Action("request.read", "engagement", "see the engagement's file requests"),
    Action("dataset.upload", "engagement", "upload a file (client contacts: only against an open request)",
           changes=True),
    Action("dataset.read", "engagement", "see datasets and their validation profiles"),
    Action("run.start", "engagement", "start an analysis run (JE testing, TB normalization, sampling, ...)",
           changes=True),
    Action("run.read", "engagement", "see runs, their progress, logs and results"),
    Action("finding.read", "engagement", "see findings and their dispositions"),
    Action("finding.disposition", "engagement", "clear, except or escalate a finding, attaching evidence",
           changes=True),
    Action("evidence.create", "engagement", "export a signed evidence pack of a run"),
)

_A, _T, _O = Scope.all, Scope.team, Scope.own
_READERS = {Role.partner: _A, Role.manager: _A, Role.qc_reviewer: _A, Role.senior: _T, Role.staff: _T}
_DOERS = {Role.partner: _A, Role.manager: _A, Role.senior: _T, Role.staff: _T}
_FIRM_LEADS = {Role.admin: _A, Role.partner: _A, Role.manager: _A, Role.qc_reviewer: _A}
_PRACTITIONERS = {Role.partner: _A, Role.manager: _A, Role.senior: _A, Role.staff: _A, Role.qc_reviewer: _A}

# The one table. qc_reviewer reads everything it must review and changes nothing; admin runs the firm's
# accounts but sees no client data; client_contact sees only its own engagement's status and requests.
GRANTS: dict[str, dict[Role, Scope]] = {
    "user.read": {Role.admin: _A, Role.partner: _A, Role.manager: _A},
    "user.manage": {Role.admin: _A},
    "apikey.manage": {Role.admin: _A},
    "audit.read": _FIRM_LEADS,
    "audit.verify": _FIRM_LEADS,
    "engagement.create": {Role.partner: _A, Role.manager: _A},
    "evidence.verify": {**_PRACTITIONERS, Role.admin: _A},
    "rag.search": _PRACTITIONERS,
    "rag.ask": _PRACTITIONERS,
    "rag.ingest": {Role.admin: _A},
    "engagement.status": {**_READERS, Role.client_contact: _O},
    "engagement.read": _READERS,
    "engagement.update": {Role.partner: _A, Role.manager: _A},
    "engagement.delete": {Role.partner: _A},
    "engagement.transition": {Role.partner: _A, Role.manager: _A},
    "engagement.finalize": {Role.partner: _A},
    "team.manage": {Role.partner: _A, Role.manager: _A},
    "request.create": {Role.partner: _A, Role.manager: _A, Role.senior: _T},
    "request.read": {**_READERS, Role.client_contact: _O},
    "dataset.upload": {**_DOERS, Role.client_contact: _O},
    "dataset.read": _READERS,
    "run.start": _DOERS,
    "run.read": _READERS,
    "finding.read": _READERS,
    "finding.disposition": _DOERS,
    "evidence.create": {Role.partner: _A, Role.manager: _A, Role.qc_reviewer: _A, Role.senior: _T},
}

ACTIONS_BY_NAME: dict[str, Action] = {action.name: action for action in ACTIONS}
ROLE_ORDER: tuple[Role, ...] = (Role.partner, Role.manager, Role.senior, Role.staff, Role.qc_reviewer,
                                Role.client_contact, Role.admin)


@dataclass(frozen=True)
class Actor:
    """The authenticated caller: a person or a service account, always of one organization."""

    user_id: int
    org_id: int
    email: str
    role: Role
    is_service_account: bool = False


@dataclass(frozen=True)
class OrganizationResource:
    org_id: int


@dataclass(frozen=True)
class EngagementResource:
    """An engagement as the actor sees it: its tenant, its state, and whether the actor is on its team."""

    org_id: int
    engagement_id: int
    state: EngagementState
    is_member: bool


Resource = OrganizationResource | EngagementResource


@dataclass(frozen=True)
class Decision:
    """The answer and, when refused, how the API should say so (404 hides, 403 forbids, 409 conflicts)."""

    allowed: bool
    status: int = 200
    code: str = "ok"
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


def _reaches(scope: Scope | None, resource: Resource) -> bool:
    if scope is None:
        return False
    if scope is Scope.all or isinstance(resource, OrganizationResource):
        return True
    return resource.is_member


def can_see(actor: Actor, resource: EngagementResource) -> bool:
    """Whether the engagement exists for this actor at all (status or full read)."""
    if resource.org_id != actor.org_id:
        return False
    return any(_reaches(GRANTS[name].get(actor.role), resource) for name in ("engagement.read", "engagement.status"))


def decide(actor: Actor, action: str, resource: Resource) -> Decision:
    """May ``actor`` do ``action`` on ``resource``? The single answer every route relies on."""
    spec = ACTIONS_BY_NAME.get(action)
    if spec is None:
        raise KeyError(f"unknown action {action!r}; declare it in auditray.permissions.ACTIONS")
    if isinstance(resource, EngagementResource) != (spec.resource == "engagement"):
        raise TypeError(f"{action} applies to an {spec.resource}, not to {type(resource).__name__}")
    if resource.org_id != actor.org_id:
        return Decision(False, 404, "not_found", "not found")
    if isinstance(resource, EngagementResource) and not can_see(actor, resource):
        return Decision(False, 404, "not_found", f"engagement {resource.engagement_id} not found")
    scope = GRANTS[action].get(actor.role)
    if not _reaches(scope, resource):
        where = "" if scope is None else " on engagements whose team they are not on"
        return Decision(False, 403, "forbidden", f"the {actor.role.value} role may not {spec.description}{where}")
    if spec.changes and isinstance(resource, EngagementResource) and resource.state == EngagementState.finalized:
        return Decision(False, 409, "engagement_finalized",
                        f"engagement {resource.engagement_id} is finalized and read-only")
    return Decision(True)


def allowed(actor: Actor, action: str, resource: Resource) -> bool:
    return decide(actor, action, resource).allowed


def roles_with(action: str) -> dict[Role, Scope]:
    return dict(GRANTS[action])


def permission_matrix_markdown() -> str:
    """The README's permission table, generated from ``GRANTS`` so the documentation cannot drift."""
    header = ["action", *(role.value for role in ROLE_ORDER), "finalized engagement"]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    for spec in ACTIONS:
        cells = [f"`{spec.name}`: {spec.description}"]
        for role in ROLE_ORDER:
            scope = GRANTS[spec.name].get(role)
            cells.append(scope.value if scope else "-")
        if spec.resource == "organization":
            cells.append("n/a")
        else:
            cells.append("refused" if spec.changes else "allowed")
        lines.append("| " + " | ".join(cells) + " |")
    legend = (
        "`all`: every engagement or record of the user's own organization; `team`: only engagements whose "
        "team the user is on; `own`: a client contact's own engagement; `-`: never. Another organization's "
        "data is never reachable: it answers 404."
    )
    return "\n".join([*lines, "", legend])


def _check_table() -> None:
    missing = [a.name for a in ACTIONS if a.name not in GRANTS]
    extra = [name for name in GRANTS if name not in ACTIONS_BY_NAME]
    if missing or extra:
        raise RuntimeError(f"GRANTS and ACTIONS disagree: missing {missing}, undeclared {extra}")


_check_table()
