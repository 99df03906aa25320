"""No route ever returns or changes another firm's data.

Every route of the app (enumerated, not listed by hand) is called by every role of firm beta, and by
beta's service account, aimed at firm alpha's engagements, users, datasets, runs, requests, keys and
attachments. Each call must be refused with 403 or 404, no response may mention alpha, and alpha's
audit trail must not have grown: nothing of alpha's was changed.

The sweep runs last in this module: it signs every beta caller out on its way.
"""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest
from fastapi.routing import iter_route_contexts

from tests.api_support import World, build_world, generate_ledger, wait_for_run

CALLERS = ["admin", "partner", "manager", "senior", "staff", "qc_reviewer", "client_contact", "service"]
# Routes that take no id of anyone's: they act on the caller's own firm, or on nobody's data.
NO_RESOURCE = {
    ("GET", "/openapi.json"), ("GET", "/docs"), ("GET", "/docs/oauth2-redirect"), ("GET", "/redoc"),
    ("GET", "/health"), ("GET", "/metrics"), ("POST", "/auth/login"), ("POST", "/auth/token"),
    ("POST", "/auth/refresh"), ("POST", "/auth/logout"), ("GET", "/me"), ("POST", "/me/password"),
    ("GET", "/roles"), ("GET", "/users"), ("POST", "/users"), ("GET", "/engagements"), ("POST", "/engagements"),
    ("GET", "/run-kinds"), ("GET", "/audit/events"), ("GET", "/audit/head"), ("GET", "/audit/verify"),
    ("POST", "/evidence/verify"), ("GET", "/evidence/public-key"), ("POST", "/rag/search"), ("POST", "/rag/ask"),
    ("POST", "/rag/documents"),
}

# Routes whose answer does not depend on who calls: one caller is enough.
ANONYMOUS = {
    ("GET", "/openapi.json"), ("GET", "/docs"), ("GET", "/docs/oauth2-redirect"), ("GET", "/redoc"),
    ("GET", "/health"), ("GET", "/metrics"), ("POST", "/auth/login"), ("POST", "/auth/token"),
    ("POST", "/auth/refresh"), ("GET", "/evidence/public-key"),
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    tmp = tmp_path_factory.mktemp("tenants")
    world = build_world(tmp, generate_ledger(tmp / "ledger"), with_passwords=False)
    alpha = world.alpha
    headers = alpha.headers("senior")
    run = world.client.post(f"/engagements/{alpha.engagements['fieldwork']}/runs", headers=headers, json={
        "kind": "completeness", "parameters": {"gl_dataset": alpha.datasets["gl_detail"],
                                               "tb_dataset": alpha.datasets["trial_balance"], "engine": "local"}})
    assert run.status_code == 202, run.text
    alpha.run_id = run.json()["id"]
    assert wait_for_run(world.client, alpha.run_id, headers)["status"] == "succeeded"
    attachment = world.client.post(f"/engagements/{alpha.engagements['fieldwork']}/attachments", headers=headers,
                                   files={"file": ("confirmation.pdf", b"%PDF-1.4 bank confirmation", "application/pdf")})
    assert attachment.status_code == 201, attachment.text
    alpha.attachment_id = attachment.json()["id"]
    return world


def _path_values(world: World) -> dict[str, object]:
    alpha = world.alpha
    return {"engagement_id": alpha.engagements["fieldwork"], "user_id": alpha.users["staff"],
            "key_id": alpha.api_key_id, "run_id": alpha.run_id, "dataset_id": alpha.datasets["gl_detail"],
            "request_id": alpha.open_request, "finding_id": 1, "attachment_id": alpha.attachment_id,
            "table": "roll_forward"}


def _request_kwargs(method: str, path: str, world: World) -> dict:
    """A well-formed request for the route: refusals must come from tenancy, not from a bad body."""
    alpha = world.alpha
    bodies: dict[tuple[str, str], dict] = {
        ("POST", "/auth/login"): {"json": {"email": "nobody@nowhere.example", "password": "wrong password"}},
        ("POST", "/auth/token"): {"data": {"username": "nobody@nowhere.example", "password": "wrong password"}},
        ("POST", "/auth/refresh"): {"json": {"refresh_token": "not-a-refresh-token"}},
        ("POST", "/me/password"): {"json": {"current_password": "wrong", "new_password": "another long password"}},
        ("POST", "/users"): {"json": {"email": f"new-{uuid.uuid4().hex[:8]}@beta.example", "full_name": "New",
                                      "role": "staff", "password": "a long enough password"}},
        ("PATCH", "/users/{user_id}"): {"json": {"is_active": False}},
        ("POST", "/users/{user_id}/password"): {"json": {"password": "an entirely new password"}},
        ("POST", "/users/{user_id}/api-keys"): {"json": {"name": "stolen"}},
        ("POST", "/engagements"): {"json": {"client_name": "Beta New Client", "name": "FY2026", "fiscal_year": 2026,
                                            "period_start": "2026-01-01", "period_end": "2026-12-31",
                                            "materiality": "1000.00", "performance_materiality": "750.00"}},
        ("PATCH", "/engagements/{engagement_id}"): {"json": {"name": "renamed by beta"}},
        ("POST", "/engagements/{engagement_id}/transition"): {"json": {"to_state": "review"}},
        ("POST", "/engagements/{engagement_id}/team"): {"json": {"user_id": alpha.users["manager"]}},
        ("POST", "/engagements/{engagement_id}/requests"): {"json": {"kind": "gl_detail", "description": "x"}},
        ("POST", "/engagements/{engagement_id}/datasets"): {
            "files": {"file": ("gl.csv", Path(world.ledger.exports["ads_csv"]).read_bytes(), "text/csv")},
            "data": {"kind": "gl_detail", "request_id": str(alpha.open_request)}},
        ("POST", "/engagements/{engagement_id}/runs"): {"json": {"kind": "completeness", "parameters": {
            "gl_dataset": alpha.datasets["gl_detail"], "tb_dataset": alpha.datasets["trial_balance"],
            "engine": "local"}}},
        ("POST", "/findings/{finding_id}/dispositions"): {"json": {"disposition": "cleared", "comment": "ok"}},
        ("POST", "/engagements/{engagement_id}/attachments"): {"files": {"file": ("x.txt", b"x", "text/plain")}},
        ("POST", "/evidence/verify"): {"files": {"file": ("pack.zip", b"not a zip", "application/zip")}},
        ("POST", "/rag/search"): {"json": {"query": "journal entries after year end"}},
        ("POST", "/rag/ask"): {"json": {"question": "when must journal entries be tested?"}},
        ("POST", "/rag/documents"): {"files": {"files": ("notes.bin", b"\x00\x01")}},
    }
    return bodies.get((method, path), {})


def _routes(world: World) -> list[tuple[str, str]]:
    routes = []
    for route in iter_route_contexts(world.app.routes):
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                routes.append((method, route.path))
    # Signing out ends the caller's session: do it last.
    return sorted(routes, key=lambda r: r == ("POST", "/auth/logout"))


def _audit_events_of(world: World, org_id: int) -> int:
    from auditray.store import AuditEvent, make_engine
    from sqlalchemy import func, select

    engine = make_engine(world.settings.resolved_database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(AuditEvent)
                                      .where(AuditEvent.org_id == org_id)).scalar_one()
    finally:
        engine.dispose()


def test_the_route_list_covers_the_app(world: World) -> None:
    """Routes without an id are few and named; every other route is checked against alpha's ids above."""
    routes = set(_routes(world))
    assert NO_RESOURCE <= routes, f"stale entries: {NO_RESOURCE - routes}"
    placeholders = {part for _, path in routes for part in path.split("/") if part.startswith("{")}
    assert {p.strip("{}") for p in placeholders} <= set(_path_values(world))


def test_a_run_cannot_read_another_firms_datasets(world: World) -> None:
    """Own engagement, foreign dataset ids in the parameters: refused before any work starts."""
    beta, alpha = world.beta, world.alpha
    response = world.client.post(f"/engagements/{beta.engagements['fieldwork']}/runs", headers=beta.headers("partner"),
                                 json={"kind": "completeness", "parameters": {
                                     "gl_dataset": alpha.datasets["gl_detail"],
                                     "tb_dataset": beta.datasets["trial_balance"]}})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_parameters"
    assert "not found" in response.json()["error"]["message"]


def test_mixed_ids_never_reach_another_firms_rows(world: World) -> None:
    """Beta's own engagement in the path, alpha's request or member id beside it."""
    beta, alpha = world.beta, world.alpha
    own = beta.engagements["fieldwork"]
    for method, url, kwargs in (
        ("POST", f"/engagements/{own}/requests/{alpha.open_request}/cancel", {}),
        ("DELETE", f"/engagements/{own}/team/{alpha.users['staff']}", {}),
        ("POST", f"/engagements/{own}/team", {"json": {"user_id": alpha.users["staff"]}}),
        ("POST", f"/engagements/{own}/datasets", {"files": {"file": ("c.csv", io.BytesIO(b"a,b\n1,2\n"))},
                                                  "data": {"kind": "chart_of_accounts",
                                                           "request_id": str(alpha.open_request)}}),
    ):
        response = world.client.request(method, url, headers=beta.headers("partner"), **kwargs)
        assert response.status_code == 404, (method, url, response.text)
        assert "alpha" not in response.text.lower()


def test_every_route_refuses_every_role_of_another_firm(world: World) -> None:
    client, beta = world.client, world.beta
    values = _path_values(world)
    alpha_events = _audit_events_of(world, world.alpha.org_id)
    routes = _routes(world)
    assert len(routes) >= 55, "the app should expose every route listed in the API issue"
    problems, seen = [], set()
    for caller in CALLERS:
        for method, path in routes:
            if (method, path) in ANONYMOUS and caller != CALLERS[0]:
                continue
            url = path.format(**{k: v for k, v in values.items() if "{" + k + "}" in path})
            response = client.request(method, url, headers=beta.headers(caller),
                                      **_request_kwargs(method, path, world))
            seen.add(response.status_code)
            if "alpha" in response.text.lower():
                problems.append(f"{caller} {method} {url}: response mentions alpha: {response.text[:200]}")
            if (method, path) not in NO_RESOURCE and response.status_code not in (403, 404):
                problems.append(f"{caller} {method} {url}: {response.status_code} {response.text[:200]}")
    assert problems == []
    assert {403, 404} <= seen and 200 in seen, "the sweep must meet refusals and, on own-firm routes, answers"
    assert _audit_events_of(world, world.alpha.org_id) == alpha_events, "a foreign call changed alpha's data"
