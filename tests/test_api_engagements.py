"""Engagements through the API: opened, staffed, moved to finalized and then read-only; client files in."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api_support import World, build_world, generate_ledger

NEW = {"client_name": "Gamma Tools Inc.", "name": "FY2025 audit", "fiscal_year": 2025, "period_start": "2025-01-01",
       "period_end": "2025-12-31", "materiality": "250000.00", "performance_materiality": "187500.00"}


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory):
    return generate_ledger(tmp_path_factory.mktemp("ledger"))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, ledger) -> World:
    return build_world(tmp_path_factory.mktemp("engagements"), ledger, with_passwords=False)


def test_an_engagement_from_opening_to_sign_off(db_url: str, tmp_path: Path) -> None:
    world = build_world(tmp_path, None, database_url=db_url, with_data=False, with_passwords=False)
    client, alpha = world.client, world.alpha
    manager, partner, staff = alpha.headers("manager"), alpha.headers("partner"), alpha.headers("staff")
    created = client.post("/engagements", headers=manager, json=NEW)
    assert created.status_code == 201, created.text
    engagement = created.json()
    assert engagement["state"] == "planning" and engagement["materiality"] == "250000.00"
    eid = engagement["id"]
    assert client.get(f"/engagements/{eid}", headers=staff).status_code == 404, "staff see only their teams"
    team = client.post(f"/engagements/{eid}/team", headers=manager, json={"user_id": alpha.users["staff"]})
    assert team.status_code == 201
    assert [m["email"] for m in team.json()] == [alpha.emails["manager"], alpha.emails["staff"]]
    assert client.get(f"/engagements/{eid}", headers=staff).status_code == 200
    assert client.post(f"/engagements/{eid}/transition", headers=staff, json={"to_state": "fieldwork"}).status_code == 403
    for state in ("fieldwork", "review"):
        moved = client.post(f"/engagements/{eid}/transition", headers=manager, json={"to_state": state, "reason": "ok"})
        assert moved.status_code == 200 and moved.json()["state"] == state
    refused = client.post(f"/engagements/{eid}/transition", headers=manager, json={"to_state": "finalized"})
    assert refused.status_code == 403, "only a partner signs off"
    signed = client.post(f"/engagements/{eid}/transition", headers=partner, json={"to_state": "finalized"})
    assert signed.status_code == 200 and signed.json()["state"] == "finalized"
    for method, url, kwargs in (
        ("PATCH", f"/engagements/{eid}", {"json": {"name": "late edit"}}),
        ("POST", f"/engagements/{eid}/team", {"json": {"user_id": alpha.users["senior"]}}),
        ("DELETE", f"/engagements/{eid}/team/{alpha.users['staff']}", {}),
        ("POST", f"/engagements/{eid}/transition", {"json": {"to_state": "fieldwork"}}),
        ("POST", f"/engagements/{eid}/requests", {"json": {"kind": "gl_detail", "description": "more"}}),
        ("POST", f"/engagements/{eid}/runs", {"json": {"kind": "completeness", "parameters": {}}}),
        ("POST", f"/engagements/{eid}/datasets", {"files": {"file": ("gl.csv", b"a\n1\n")},
                                                 "data": {"kind": "gl_detail"}}),
    ):
        response = client.request(method, url, headers=partner, **kwargs)
        assert response.status_code == 409, (method, url, response.text)
        assert response.json()["error"]["code"] == "engagement_finalized"
    assert client.get(f"/engagements/{eid}", headers=staff).status_code == 200, "still readable"
    history = client.get(f"/engagements/{eid}/history", headers=partner).json()["items"]
    assert [e["action"] for e in history] == ["engagement.create", "engagement.member_add", "engagement.member_add",
                                              "engagement.transition", "engagement.transition",
                                              "engagement.transition"]
    assert history[-1]["actor"] == alpha.emails["partner"]
    world.app.state.auditray.db.dispose()


def test_edits_keep_materiality_consistent_and_deletion_spares_evidence(world: World) -> None:
    client, alpha = world.client, world.alpha
    partner = alpha.headers("partner")
    fieldwork = alpha.engagements["fieldwork"]
    too_high = client.patch(f"/engagements/{fieldwork}", headers=partner, json={"performance_materiality": "600000.00"})
    assert too_high.status_code == 422 and "exceeds materiality" in too_high.json()["error"]["message"]
    lowered = client.patch(f"/engagements/{fieldwork}", headers=partner, json={"materiality": "450000.00"})
    assert lowered.status_code == 200 and lowered.json()["materiality"] == "450000.00"
    assert client.delete(f"/engagements/{fieldwork}", headers=partner).status_code == 409
    scratch = client.post("/engagements", headers=partner, json=NEW).json()["id"]
    assert client.delete(f"/engagements/{scratch}", headers=partner).status_code == 204
    assert client.get(f"/engagements/{scratch}", headers=partner).status_code == 404
    events = client.get("/audit/events", headers=alpha.headers("admin"),
                        params={"action": "engagement.*", "resource_type": "engagement"}).json()["items"]
    assert {"engagement.update", "engagement.delete"} <= {e["action"] for e in events}


def test_a_rejected_file_answers_with_every_problem_and_leaves_nothing(world: World) -> None:
    client, alpha = world.client, world.alpha
    senior = alpha.headers("senior")
    fieldwork = alpha.engagements["fieldwork"]
    before = client.get(f"/engagements/{fieldwork}/datasets", headers=senior).json()
    bad = (b"Business_Unit_Code,Journal_ID,Journal_ID_Line_Number,Effective_Date,GL_Account_Number,Amount\n"
           b"US01,1,1,2025-13-01,1000,10.00\nUS01,1,2,2025-01-01,4000,ten\n")
    response = client.post(f"/engagements/{fieldwork}/datasets", headers=senior,
                           files={"file": ("client_gl.csv", bad, "text/csv")}, data={"kind": "gl_detail"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "ingest_rejected" and "REJECTED" in error["message"]
    report = error["details"]
    assert report["ok"] is False and report["errors_total"] >= 2
    cells = {(e["row"], e["column"]) for e in report["errors"]}
    assert (2, "Effective_Date") in cells and (3, "Amount") in cells
    assert client.get(f"/engagements/{fieldwork}/datasets", headers=senior).json() == before


def test_an_accepted_file_is_registered_once(world: World, ledger) -> None:
    client, alpha = world.client, world.alpha
    senior = alpha.headers("senior")
    fieldwork = alpha.engagements["fieldwork"]
    data = Path(ledger.trial_balance_prior).read_bytes()
    accepted = client.post(f"/engagements/{fieldwork}/datasets", headers=senior,
                           files={"file": ("tb_prior.parquet", data)}, data={"kind": "trial_balance", "name": "Prior TB"})
    assert accepted.status_code == 201, accepted.text
    body = accepted.json()
    assert body["dataset"]["name"] == "Prior TB" and body["dataset"]["row_count"] > 0
    assert body["validation"]["ok"] and body["validation"]["control_totals"]
    again = client.post(f"/engagements/{fieldwork}/datasets", headers=senior,
                        files={"file": ("tb_prior_copy.parquet", data)}, data={"kind": "trial_balance"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "duplicate_dataset"
    assert client.get(f"/datasets/{body['dataset']['id']}", headers=senior).json()["content_sha256"] == \
        body["dataset"]["content_sha256"]


def test_a_client_contact_uploads_only_what_was_requested_and_sees_only_status(world: World, ledger) -> None:
    client, alpha = world.client, world.alpha
    contact = alpha.headers("client_contact")
    fieldwork, planning = alpha.engagements["fieldwork"], alpha.engagements["planning"]
    listed = client.get("/engagements", headers=contact).json()["items"]
    assert {e["id"] for e in listed} == {fieldwork, alpha.engagements["finalized"]}
    assert all("materiality" not in e for e in listed)
    assert client.get(f"/engagements/{fieldwork}", headers=contact).status_code == 403
    assert client.get(f"/engagements/{planning}/status", headers=contact).status_code == 404
    status = client.get(f"/engagements/{fieldwork}/status", headers=contact)
    assert status.status_code == 200 and status.json()["open_requests"] == 1
    assert "materiality" not in status.text
    coa = Path(ledger.chart_of_accounts).read_bytes()
    unrequested = client.post(f"/engagements/{fieldwork}/datasets", headers=contact,
                              files={"file": ("coa.parquet", coa)}, data={"kind": "chart_of_accounts"})
    assert unrequested.status_code == 403 and "requested" in unrequested.json()["error"]["message"]
    wrong_kind = client.post(f"/engagements/{fieldwork}/datasets", headers=contact, files={"file": ("coa.parquet", coa)},
                             data={"kind": "gl_detail", "request_id": str(alpha.open_request)})
    assert wrong_kind.status_code == 422
    uploaded = client.post(f"/engagements/{fieldwork}/datasets", headers=contact, files={"file": ("coa.parquet", coa)},
                           data={"kind": "chart_of_accounts", "request_id": str(alpha.open_request)})
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["request"]["status"] == "received"
    assert uploaded.json()["dataset"]["created_by"] == alpha.emails["client_contact"]
    assert client.get(f"/engagements/{fieldwork}/status", headers=contact).json()["open_requests"] == 0
    assert client.get(f"/engagements/{fieldwork}/datasets", headers=contact).status_code == 403
    twice = client.post(f"/engagements/{fieldwork}/datasets", headers=contact, files={"file": ("c.parquet", coa)},
                        data={"kind": "chart_of_accounts", "request_id": str(alpha.open_request)})
    assert twice.status_code == 409


def test_client_contacts_join_teams_only_as_client_contacts(world: World) -> None:
    client, alpha = world.client, world.alpha
    response = client.post(f"/engagements/{alpha.engagements['planning']}/team", headers=alpha.headers("partner"),
                           json={"user_id": alpha.users["client_contact"], "team_role": "senior"})
    assert response.status_code == 422
    response = client.post(f"/engagements/{alpha.engagements['planning']}/team", headers=alpha.headers("partner"),
                           json={"user_id": alpha.users["staff"], "team_role": "client_contact"})
    assert response.status_code == 422
