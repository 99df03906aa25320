"""The routes enforce exactly the permission table: every action, every role, every kind of engagement.

For each action of ``auditray.permissions.ACTIONS`` a probe request exercises it. Where the table says
yes, the probe gets past the permission check (its answer is one the route gives after the check, e.g.
``invalid_transition`` for a transition the state machine refuses); where it says no, the answer is the
decision's own status: 404 for an engagement the caller cannot see, 403 for a forbidden action, 409 on
a finalized engagement. The README's table is the same table, generated from the code.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from auditray.permissions import (
    ACTIONS,
    GRANTS,
    Actor,
    EngagementResource,
    OrganizationResource,
    decide,
    permission_matrix_markdown,
)
from auditray.store.models import EngagementState, Role

from tests.api_support import World, build_world, generate_ledger, wait_for_run

REPO = Path(__file__).resolve().parent.parent
CALLERS = [role.value for role in Role] + ["service"]
# Actions with no route of their own.
NO_ROUTE: set[str] = set()
BAD_CSV = b"Business_Unit_Code,Account\nUS01,\n"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    tmp = tmp_path_factory.mktemp("rbac")
    world = build_world(tmp, generate_ledger(tmp / "ledger"), with_passwords=False)
    alpha = world.alpha
    run = world.client.post(f"/engagements/{alpha.engagements['fieldwork']}/runs", headers=alpha.headers("staff"),
                            json={"kind": "completeness", "parameters": {
                                "gl_dataset": alpha.datasets["gl_detail"],
                                "tb_dataset": alpha.datasets["trial_balance"], "engine": "local"}})
    assert run.status_code == 202, run.text
    alpha.run_id = run.json()["id"]
    assert wait_for_run(world.client, alpha.run_id, alpha.headers("staff"))["status"] == "succeeded"
    return world


def _actor(world: World, caller: str) -> Actor:
    role = Role.senior if caller == "service" else Role(caller)
    firm = world.alpha
    return Actor(user_id=firm.users[caller], org_id=firm.org_id, email=firm.emails[caller], role=role,
                 is_service_account=caller == "service")


MEMBERS = {"fieldwork": {"partner", "senior", "staff", "client_contact", "service"},
           "planning": {"partner"},
           "finalized": {"partner", "senior", "staff", "client_contact"}}


# action -> (which engagements to probe on, request builder, codes that mean "got past the permission check")
def _probe(world: World, action: str, engagement: str | None):
    a = world.alpha
    e = a.engagements.get(engagement or "", 0)
    name = f"FY2025 {engagement}"
    probes = {
        "user.read": ("GET", "/users", {}, {200}),
        "user.manage": ("PATCH", f"/users/{a.users['staff']}", {"json": {}}, {200}),
        "apikey.manage": ("GET", f"/users/{a.users['service']}/api-keys", {}, {200}),
        "audit.read": ("GET", "/audit/events?limit=1", {}, {200}),
        "audit.verify": ("GET", "/audit/head", {}, {200}),
        "engagement.create": ("POST", "/engagements", {"json": {
            "client_name": "New Client", "name": "FY2026", "fiscal_year": 2026, "period_start": "2026-01-01",
            "period_end": "2026-12-31", "materiality": "1000.00", "performance_materiality": "750.00"}}, {201}),
        "evidence.verify": ("POST", "/evidence/verify", {"files": {"file": ("p.zip", b"junk")}}, {200}),
        "rag.search": ("POST", "/rag/search", {"json": {"query": "journal entries"}}, {200, "not_available", "corpus_empty"}),
        "rag.ingest": ("POST", "/rag/documents", {"files": {"files": ("notes.bin", b"\x00\x01")}},
                       {"validation_error", "not_available"}),
        "rag.ask": ("POST", "/rag/ask", {"json": {"question": "when to test journal entries?"}}, {200, "not_available", "corpus_empty"}),
        "engagement.status": ("GET", f"/engagements/{e}/status", {}, {200}),
        "engagement.read": ("GET", f"/engagements/{e}", {}, {200}),
        "engagement.update": ("PATCH", f"/engagements/{e}", {"json": {"name": name}}, {200}),
        "engagement.delete": ("DELETE", f"/engagements/{e}", {}, {"rule_violation"}),
        "engagement.transition": ("POST", f"/engagements/{e}/transition", {"json": {"to_state": "planning"}},
                                  {"invalid_transition"}),
        "engagement.finalize": ("POST", f"/engagements/{e}/transition", {"json": {"to_state": "finalized"}},
                                {"invalid_transition"}),
        "team.manage": ("POST", f"/engagements/{e}/team", {"json": {"user_id": a.users["partner"]}},
                        {"already_exists"}),
        "request.create": ("POST", f"/engagements/{e}/requests/{a.cancelled_request}/cancel", {}, {"rule_violation"}),
        "request.read": ("GET", f"/engagements/{e}/requests", {}, {200}),
        "dataset.upload": ("POST", f"/engagements/{e}/datasets", {
            "files": {"file": ("coa.csv", BAD_CSV, "text/csv")},
            "data": {"kind": "chart_of_accounts", "request_id": str(a.open_request)}}, {"ingest_rejected"}),
        "dataset.read": ("GET", f"/engagements/{e}/datasets", {}, {200}),
        "run.start": ("POST", f"/engagements/{e}/runs", {"json": {"kind": "completeness", "parameters": {"x": 1}}},
                      {"invalid_parameters"}),
        "run.read": ("GET", f"/engagements/{e}/runs", {}, {200}),
        "finding.read": ("GET", f"/engagements/{e}/findings", {}, {200, "not_available"}),
        "finding.disposition": ("POST", f"/engagements/{e}/attachments",
                                {"files": {"file": ("note.txt", b"evidence", "text/plain")}}, {201}),
        "evidence.create": ("POST", f"/runs/{a.run_id}/evidence-pack", {}, {200}),
    }
    return probes[action]


# Engagements each probe is meaningful on (the probes for delete, request cancel, uploads and evidence
# refer to rows of the fieldwork engagement; delete on planning would really delete it).
ON = {"engagement.delete": ("fieldwork", "finalized"), "request.create": ("fieldwork", "finalized"),
      "dataset.upload": ("fieldwork", "finalized"), "evidence.create": ("fieldwork",)}
CASES = [(action.name, caller, engagement)
         for action in ACTIONS if action.name not in NO_ROUTE
         for caller in CALLERS
         for engagement in ((None,) if action.resource == "organization"
                            else ON.get(action.name, ("fieldwork", "planning", "finalized")))]


@pytest.mark.parametrize(("action", "caller", "engagement"), CASES,
                         ids=[f"{a}-{c}-{e or 'firm'}" for a, c, e in CASES])
def test_the_route_does_what_the_table_says(world: World, action: str, caller: str, engagement: str | None) -> None:
    a = world.alpha
    actor = _actor(world, caller)
    if engagement is None:
        resource = OrganizationResource(org_id=a.org_id)
    else:
        state = EngagementState(engagement)
        resource = EngagementResource(org_id=a.org_id, engagement_id=a.engagements[engagement], state=state,
                                      is_member=caller in MEMBERS[engagement])
    decision = decide(actor, action, resource)
    method, url, kwargs, passed = _probe(world, action, engagement)
    response = world.client.request(method, url, headers=a.headers(caller), **kwargs)
    body = response.json() if "json" in response.headers.get("content-type", "") else {}
    code = body.get("error", {}).get("code") if isinstance(body, dict) else None
    if decision.allowed:
        assert response.status_code in passed or code in passed, (response.status_code, response.text[:300])
    else:
        assert (response.status_code, code) == (decision.status, decision.code), response.text[:300]


def test_every_action_is_probed_or_declared_without_route() -> None:
    names = {a.name for a in ACTIONS}
    assert names >= NO_ROUTE
    assert {a for a, _, _ in CASES} | NO_ROUTE == names


def test_the_table_reads_as_the_issue_requires() -> None:
    """Partners and managers create engagements; staff see only their teams; QC reviews but never changes;
    client contacts only upload to and see the status of their own engagement; admins see no client data."""
    assert set(GRANTS["engagement.create"]) == {Role.partner, Role.manager}
    assert GRANTS["engagement.read"][Role.staff].value == "team"
    changing = [a.name for a in ACTIONS if a.changes and a.resource == "engagement"]
    assert all(Role.qc_reviewer not in GRANTS[name] for name in changing)
    client = {name for name, grants in GRANTS.items() if Role.client_contact in grants}
    assert client == {"engagement.status", "request.read", "dataset.upload"}
    assert all(GRANTS[name][Role.client_contact].value == "own" for name in client)
    assert not any(Role.admin in GRANTS[a.name] for a in ACTIONS if a.resource == "engagement")


def test_finalized_engagements_refuse_every_change() -> None:
    actor = Actor(user_id=1, org_id=1, email="p@x.example", role=Role.partner)
    finalized = EngagementResource(org_id=1, engagement_id=9, state=EngagementState.finalized, is_member=True)
    for spec in ACTIONS:
        if spec.resource == "engagement" and spec.changes:
            assert decide(actor, spec.name, finalized).status == 409
        elif spec.resource == "engagement" and Role.partner in GRANTS[spec.name]:
            assert decide(actor, spec.name, finalized).allowed


def test_the_readme_shows_the_generated_permission_matrix() -> None:
    readme = (REPO / "README.md").read_text()
    found = re.search(r"<!-- permissions:start -->\n(.*?)\n<!-- permissions:end -->", readme, re.DOTALL)
    assert found, "README.md lacks the permissions markers"
    assert found.group(1).strip() == permission_matrix_markdown().strip(), (
        "README.md's permission matrix is stale: regenerate it with "
        "python -c 'from auditray.permissions import permission_matrix_markdown as m; print(m())'")
