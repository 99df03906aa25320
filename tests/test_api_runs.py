"""Runs as Ray work, their results, and the evidence packs that seal them; the audit trail over the API."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import polars as pl
import pytest
from auditray import runs
from auditray.client import ApiError, Client
from pydantic import BaseModel

from tests.api_support import World, build_world, generate_ledger, wait_for_run


class _Nothing(BaseModel):
    pass


def _always_fails(context: runs.RunContext, params: _Nothing) -> runs.RunOutput:
    context.progress(0.3, "about to fail")
    raise ValueError("the ledger does not balance (deliberately, for the test)")


runs.register(runs.RunKind(name="always_fails", title="Fails", parameters=_Nothing, execute=_always_fails))


def _until_cancelled(context: runs.RunContext, params: _Nothing) -> runs.RunOutput:
    import time

    for step in range(600):  # at most 30 s
        context.progress(step / 600)
        time.sleep(0.05)
    return runs.RunOutput(summary={"finished": True})


runs.register(runs.RunKind(name="slow_work", title="Slow", parameters=_Nothing, execute=_until_cancelled))


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory):
    return generate_ledger(tmp_path_factory.mktemp("ledger"))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, ledger) -> World:
    return build_world(tmp_path_factory.mktemp("runs"), ledger, with_passwords=False)


@pytest.fixture(scope="module")
def finished_run(world: World) -> dict:
    alpha = world.alpha
    response = world.client.post(f"/engagements/{alpha.engagements['fieldwork']}/runs", headers=alpha.headers("staff"),
                                 json={"kind": "completeness", "parameters": {
                                     "gl_dataset": alpha.datasets["gl_detail"],
                                     "tb_dataset": alpha.datasets["trial_balance"], "engine": "local"}})
    assert response.status_code == 202, response.text
    return wait_for_run(world.client, response.json()["id"], alpha.headers("staff"))


def _start(world: World, kind: str = "completeness", **parameters) -> dict:
    alpha = world.alpha
    response = world.client.post(f"/engagements/{alpha.engagements['fieldwork']}/runs", headers=alpha.headers("senior"),
                                 json={"kind": kind, "parameters": parameters})
    assert response.status_code == 202, response.text
    return response.json()


def test_a_run_records_its_inputs_and_results(world: World, finished_run: dict) -> None:
    client, alpha = world.client, world.alpha
    staff = alpha.headers("staff")
    assert finished_run["status"] == "succeeded" and finished_run["progress"] == 1.0
    assert finished_run["code_version"].startswith("0.1.0")
    results = client.get(f"/runs/{finished_run['id']}/results", headers=staff).json()
    assert results["summary"]["differences"] == 0 and results["summary"]["lines"] > 3000
    assert results["tables"][0]["name"] == "roll_forward"
    assert results["tables"][0]["columns"]["difference"] == "decimal128(38, 2)"
    page = client.get(f"/runs/{finished_run['id']}/results/roll_forward", headers=staff,
                      params={"limit": 5, "offset": 2}).json()
    assert page["total"] == results["tables"][0]["rows"] and len(page["rows"]) == 5
    assert isinstance(page["rows"][0]["closing"], str), "exact amounts travel as strings"
    parquet = client.get(f"/runs/{finished_run['id']}/results/roll_forward", headers=staff,
                         params={"format": "parquet"})
    frame = pl.read_parquet(io.BytesIO(parquet.content))
    assert frame.schema["difference"] == pl.Decimal(38, 2) and frame.height == page["total"]
    logs = client.get(f"/runs/{finished_run['id']}/logs", headers=staff).json()["items"]
    gl_sha = client.get(f"/datasets/{alpha.datasets['gl_detail']}", headers=staff).json()["content_sha256"]
    assert any(gl_sha in line["message"] for line in logs), "the input's hash is in the run's log"
    later = client.get(f"/runs/{finished_run['id']}/logs", headers=staff, params={"after": logs[-2]["id"]}).json()
    assert [line["id"] for line in later["items"]] == [logs[-1]["id"]]
    events = client.get("/audit/events", headers=alpha.headers("partner"),
                        params={"resource_type": "run", "resource_id": str(finished_run["id"])}).json()["items"]
    assert [e["action"] for e in events] == ["run.start", "run.inputs", "run.finish"]
    assert events[1]["details"]["inputs"]["gl_dataset"]["content_sha256"] == gl_sha


def test_bad_parameters_are_refused_before_any_work(world: World) -> None:
    alpha = world.alpha
    url = f"/engagements/{alpha.engagements['fieldwork']}/runs"
    unknown = world.client.post(url, headers=alpha.headers("senior"), json={"kind": "astrology", "parameters": {}})
    assert unknown.status_code == 422 and "completeness" in unknown.json()["error"]["details"]["known"]
    swapped = world.client.post(url, headers=alpha.headers("senior"), json={"kind": "completeness", "parameters": {
        "gl_dataset": alpha.datasets["trial_balance"], "tb_dataset": alpha.datasets["trial_balance"]}})
    assert swapped.status_code == 422
    assert "is trial_balance, not gl_detail" in swapped.json()["error"]["message"]
    missing = world.client.post(url, headers=alpha.headers("senior"), json={"kind": "completeness", "parameters": {}})
    assert missing.status_code == 422 and missing.json()["error"]["code"] == "invalid_parameters"
    assert {d["location"][0] if "location" in d else d["loc"][0] for d in missing.json()["error"]["details"]} == \
        {"gl_dataset", "tb_dataset"}


def test_a_failing_run_is_closed_as_failed_with_its_reason_and_traceback(world: World) -> None:
    run = _start(world, "always_fails")
    done = wait_for_run(world.client, run["id"], world.alpha.headers("senior"))
    assert done["status"] == "failed" and "does not balance" in done["error"]
    logs = world.client.get(f"/runs/{run['id']}/logs", headers=world.alpha.headers("senior")).json()["items"]
    assert any(line["level"] == "error" and "Traceback" in line["message"] for line in logs)
    results = world.client.get(f"/runs/{run['id']}/results", headers=world.alpha.headers("senior"))
    assert results.status_code == 409 and results.json()["error"]["code"] == "no_results"


def test_runs_execute_as_ray_tasks(ray_session, tmp_path: Path, ledger) -> None:
    from auditray.runs import RayLauncher

    world = build_world(tmp_path, ledger, launcher=RayLauncher(), with_passwords=False)
    alpha = world.alpha
    run = _start(world, gl_dataset=alpha.datasets["gl_detail"], tb_dataset=alpha.datasets["trial_balance"],
                 engine="local")
    done = wait_for_run(world.client, run["id"], alpha.headers("senior"), timeout=120)
    assert done["status"] == "succeeded", done
    logs = world.client.get(f"/runs/{run['id']}/logs", headers=alpha.headers("senior")).json()["items"]
    started = next(line["message"] for line in logs if "started on" in line["message"])
    assert f"pid {os.getpid()})" not in started, "the work ran in a Ray worker, not in the API process"


def _pack(world: World, run_id: int) -> bytes:
    response = world.client.post(f"/runs/{run_id}/evidence-pack", headers=world.alpha.headers("partner"))
    assert response.status_code == 200, response.text
    return response.content


def _rewrite(pack: bytes, path: str, change) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(pack))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info, change(data) if info.filename == path else data)
    return out.getvalue()


def test_an_evidence_pack_seals_the_run_and_detects_any_change(world: World, finished_run: dict) -> None:
    client, alpha = world.client, world.alpha
    pack = _pack(world, finished_run["id"])
    archive = zipfile.ZipFile(io.BytesIO(pack))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["run"]["parameters"]["gl_dataset"] == alpha.datasets["gl_detail"]
    assert manifest["run"]["code_version"] == finished_run["code_version"]
    gl = client.get(f"/datasets/{alpha.datasets['gl_detail']}", headers=alpha.headers("partner")).json()
    assert {i["parameter"]: i["content_sha256"] for i in manifest["inputs"]}["gl_dataset"] == gl["content_sha256"]
    assert {f["path"] for f in manifest["files"]} >= {"results/roll_forward.parquet", "results/summary.json",
                                                       "run/inputs.json", "run/log.json", "audit/events.json"}
    events = json.loads(archive.read("audit/events.json"))
    assert {"run.start", "run.finish", "dataset.register"} <= {e["action"] for e in events}

    def verify(data: bytes) -> dict:
        return client.post("/evidence/verify", headers=alpha.headers("qc_reviewer"),
                           files={"file": ("pack.zip", data, "application/zip")}).json()

    intact = verify(pack)
    assert intact["ok"] and intact["trusted_key"] and intact["files_checked"] == len(manifest["files"])
    altered = verify(_rewrite(pack, "results/summary.json", lambda d: d.replace(b'"differences": 0',
                                                                                  b'"differences": 7')))
    changed = "results/summary.json was altered: its SHA-256 does not match the manifest"
    assert not altered["ok"] and altered["problems"] == [changed]
    resealed = verify(_rewrite(pack, "manifest.json", lambda d: d.replace(b'"status":"succeeded"',
                                                                         b'"status":"failed"')))
    assert not resealed["ok"] and any("signature is not valid" in p for p in resealed["problems"])
    extra = io.BytesIO(pack)
    with zipfile.ZipFile(extra, "a") as archive_out:
        archive_out.writestr("results/extra.csv", "smuggled")
    assert "results/extra.csv is in the pack but not in the manifest" in verify(extra.getvalue())["problems"]
    assert verify(b"not a zip")["problems"][0].startswith("not a readable zip file")
    flipped = bytearray(pack)
    member = pack.index(b"results/roll_forward.parquet") + 200  # inside that member's compressed bytes
    flipped[member] ^= 0xFF
    corrupted = verify(bytes(flipped))
    assert not corrupted["ok"] and any(p.startswith("results/roll_forward.parquet was altered")
                                       for p in corrupted["problems"])
    key = client.get("/evidence/public-key").json()
    assert key["algorithm"] == "Ed25519" and key["key_id"] == intact["key_id"]
    created = client.get("/audit/events", headers=alpha.headers("partner"), params={"action": "evidence.create"})
    assert created.json()["items"][-1]["details"]["manifest_sha256"] == intact["manifest_sha256"]


def test_the_command_line_verifies_a_pack_offline(world: World, finished_run: dict, tmp_path: Path) -> None:
    pack = tmp_path / "evidence.zip"
    pack.write_bytes(_pack(world, finished_run["id"]))
    env = {**os.environ, "AUDITRAY_SECRET_KEY": world.settings.secret_key.get_secret_value(),
           "AUDITRAY_DATA_DIR": str(tmp_path)}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "auditray.cli", "evidence", "verify", *args], env=env, check=False,
                              capture_output=True, text=True, timeout=120)

    ok = cli(str(pack))
    assert ok.returncode == 0 and "is intact" in ok.stdout, ok.stdout + ok.stderr
    public = world.client.get("/evidence/public-key").json()["public_key"]
    assert cli(str(pack), "--public-key", public, "--json").returncode == 0
    other = cli(str(pack), "--public-key", "11" * 32)
    assert other.returncode == 1 and "not by this server's key" in other.stdout
    bad = tmp_path / "tampered.zip"
    bad.write_bytes(_rewrite(pack.read_bytes(), "results/roll_forward.parquet", lambda d: d[:-20] + b"0" * 20))
    tampered = cli(str(bad))
    assert tampered.returncode == 1 and "results/roll_forward.parquet was altered" in tampered.stdout
    assert cli(str(pack), "--public-key", "zz").returncode == 2


def test_a_pack_needs_a_finished_run(world: World) -> None:
    from auditray.store import make_engine, session_scope
    from auditray.store import services as svc
    from auditray.store.models import JobRunCreate

    engine = make_engine(world.settings.resolved_database_url)
    with session_scope(engine) as session:
        running = svc.start_run(session, JobRunCreate(engagement_id=world.alpha.engagements["fieldwork"],
                                                      kind="completeness"), org_id=world.alpha.org_id,
                                actor="system")
    engine.dispose()
    response = world.client.post(f"/runs/{running.id}/evidence-pack", headers=world.alpha.headers("partner"))
    assert response.status_code == 409 and "finished run" in response.json()["error"]["message"]


def test_the_audit_trail_filters_pages_and_verifies(world: World) -> None:
    client, alpha = world.client, world.alpha
    admin = alpha.headers("admin")
    first = client.get("/audit/events", headers=admin, params={"limit": 3}).json()
    second = client.get("/audit/events", headers=admin, params={"limit": 3, "offset": 3}).json()
    assert first["total"] == second["total"] > 6
    assert [e["seq"] for e in first["items"]] < [e["seq"] for e in second["items"]]
    assert all(e["org_id"] == alpha.org_id for e in first["items"] + second["items"])
    family = client.get("/audit/events", headers=admin, params={"action": "dataset.*"}).json()
    assert family["total"] >= 2 and all(e["action"].startswith("dataset.") for e in family["items"])
    bad = client.get("/audit/events", headers=admin, params={"since": "2025-01-01T00:00:00"})
    assert bad.status_code == 422 and "time zone" in bad.json()["error"]["message"]
    verified = client.get("/audit/verify", headers=admin).json()
    assert verified["ok"] and verified["count"] > family["total"]
    head = client.get("/audit/head", headers=admin).json()
    pinned = client.get("/audit/verify", headers=admin, params={"expected_seq": head["seq"],
                                                                 "expected_hash": head["hash"]}).json()
    assert pinned["ok"]
    wrong = client.get("/audit/verify", headers=admin, params={"expected_seq": head["seq"], "expected_hash": "0" * 64})
    assert not wrong.json()["ok"] and wrong.json()["problem"] == "edited"


def test_the_python_client_drives_a_run_end_to_end(world: World) -> None:
    from auditray.api.local import serve_in_background

    alpha = world.alpha
    with serve_in_background(world.app) as server, Client(server.url, api_key=alpha.api_key) as client:
        _drive(client, world)


def _drive(client: Client, world: World) -> None:
    alpha = world.alpha
    assert client.me()["user"]["is_service_account"]
    fieldwork = alpha.engagements["fieldwork"]
    run = client.start_run(fieldwork, "completeness", gl_dataset=alpha.datasets["gl_detail"],
                           tb_dataset=alpha.datasets["trial_balance"], engine="local")
    done = client.wait(run, progress=False, poll=0.05, timeout=60)
    frame = client.result(done, "roll_forward")
    assert frame.height == client.results(done)["tables"][0]["rows"]
    assert frame.schema["closing"] == pl.Decimal(38, 2)
    with pytest.raises(ApiError) as refused:
        client.upload(fieldwork, Path(world.ledger.chart_of_accounts), kind="gl_detail")
    assert refused.value.status == 422 and refused.value.details["errors_total"] > 0
    assert refused.value.request_id
    failing = client.start_run(fieldwork, "always_fails")
    with pytest.raises(ApiError, match="does not balance"):
        client.wait(failing, progress=False, poll=0.05, timeout=60)
    slow = client.start_run(fieldwork, "slow_work")
    assert client.cancel(slow)["status"] == "cancelled"
    with pytest.raises(ApiError) as stopped:
        client.wait(slow, progress=False, poll=0.05, timeout=60)
    assert stopped.value.code == "run_cancelled"


def test_findings_are_filtered_paged_and_disposed_of_with_evidence(world: World, finished_run: dict) -> None:
    from auditray.store import make_engine, session_scope
    from auditray.store.findings import record_findings

    client, alpha = world.client, world.alpha
    entries = pl.DataFrame({
        "entity_id": ["US01"] * 4, "journal_id": ["J1", "J2", "J3", "J4"],
        "risk_score": [0.95, 0.7, 0.55, 0.1], "risk_band": ["high", "high", "medium", "low"],
        "tests": [["post_closing", "round_amount"], ["round_amount"], ["weekend_posting"], []],
    })
    engine = make_engine(world.settings.resolved_database_url)
    with session_scope(engine) as session:
        assert record_findings(session, finished_run["id"], entries, org_id=alpha.org_id, actor="system") == 3
    engine.dispose()
    staff, fieldwork = alpha.headers("staff"), alpha.engagements["fieldwork"]
    url = f"/engagements/{fieldwork}/findings"
    everything = client.get(url, headers=staff).json()
    assert everything["total"] == 3 and [f["item_key"] for f in everything["items"]] == ["J1", "J2", "J3"]
    page = client.get(url, headers=staff, params={"limit": 1, "offset": 1}).json()
    assert page["total"] == 3 and [f["item_key"] for f in page["items"]] == ["J2"]
    by_test = client.get(url, headers=staff, params={"test": "round_amount"}).json()
    assert {f["item_key"] for f in by_test["items"]} == {"J1", "J2"}
    medium = client.get(url, headers=staff, params={"risk_band": "medium", "run_id": finished_run["id"]}).json()
    assert [f["item_key"] for f in medium["items"]] == ["J3"]
    first = everything["items"][0]["id"]

    attachment = client.post(f"/engagements/{fieldwork}/attachments", headers=staff,
                             files={"file": ("board_minutes.pdf", b"%PDF minutes approving the entry")}).json()
    qc = client.post(f"/findings/{first}/dispositions", headers=alpha.headers("qc_reviewer"),
                     json={"disposition": "cleared", "comment": "looks fine"})
    assert qc.status_code == 403, "QC reviews but does not conclude"
    cleared = client.post(f"/findings/{first}/dispositions", headers=staff,
                          json={"disposition": "cleared", "comment": "Approved by the board (minutes attached)",
                                "attachment_ids": [attachment["id"]]})
    assert cleared.status_code == 201, cleared.text
    assert cleared.json()["evidence_uri"] == f"attachment:{attachment['id']}?sha256={attachment['sha256']}"
    assert client.get(f"/findings/{first}", headers=staff).json()["status"] == "cleared"
    escalated = client.post(f"/findings/{first}/dispositions", headers=alpha.headers("partner"),
                            json={"disposition": "escalated", "comment": "Board minutes undated; ask again"})
    assert escalated.status_code == 201
    history = client.get(f"/findings/{first}/dispositions", headers=alpha.headers("qc_reviewer")).json()
    assert [d["disposition"] for d in history] == ["cleared", "escalated"]
    assert client.get(url, headers=staff, params={"status": "escalated"}).json()["total"] == 1
    events = client.get("/audit/events", headers=alpha.headers("partner"),
                        params={"resource_type": "finding", "resource_id": str(first)}).json()["items"]
    assert [e["details"]["to"] for e in events] == ["cleared", "escalated"]
    assert client.get(f"/attachments/{attachment['id']}", headers=staff).content.startswith(b"%PDF minutes")

    pack = zipfile.ZipFile(io.BytesIO(_pack(world, finished_run["id"])))
    sealed = json.loads(pack.read("findings/findings.json"))
    assert [d["disposition"] for d in sealed[0]["dispositions"]] == ["cleared", "escalated"]
    assert {"finding.disposition", "findings.record"} <= {e["action"] for e in
                                                          json.loads(pack.read("audit/events.json"))}


def test_je_testing_tb_normalization_and_sampling_run_through_the_api(world: World) -> None:
    client, alpha = world.client, world.alpha
    senior, fieldwork = alpha.headers("senior"), alpha.engagements["fieldwork"]
    kinds = {k["name"]: k for k in client.get("/run-kinds", headers=senior).json()}
    assert {"completeness", "je_analysis", "tb_normalization", "sampling"} <= set(kinds)
    assert kinds["je_analysis"]["inputs"]["gl_dataset"] == ["gl_detail"]

    je = wait_for_run(client, _start(world, "je_analysis", gl_dataset=alpha.datasets["gl_detail"],
                                     tb_dataset=alpha.datasets["trial_balance"])["id"], senior)
    assert je["status"] == "succeeded", je["error"]
    summary = client.get(f"/runs/{je['id']}/results", headers=senior).json()
    assert summary["summary"]["findings"] > 0 and summary["summary"]["population"]["completeness"]["rolls_forward"]
    assert {t["name"] for t in summary["tables"]} == {"entries", "lines"}
    findings = client.get(f"/engagements/{fieldwork}/findings", headers=senior, params={"run_id": je["id"]}).json()
    assert findings["total"] == summary["summary"]["findings"]
    assert all(f["risk_band"] in ("medium", "high") for f in findings["items"])

    mapping = wait_for_run(client, _start(world, "tb_normalization", tb_dataset=alpha.datasets["trial_balance"])["id"],
                           senior)
    assert mapping["status"] == "succeeded", mapping["error"]
    mapped = client.get(f"/runs/{mapping['id']}/results", headers=senior).json()
    assert mapped["summary"]["mapping"]["accounts"] == mapped["tables"][0]["rows"] > 0

    def sample() -> pl.DataFrame:
        run = _start(world, "sampling", population_dataset=alpha.datasets["trial_balance"], method="random",
                     sample_size=10, seed=2025, keys=["entity_id", "gl_account_number"], amount="closing_balance")
        assert wait_for_run(client, run["id"], senior)["status"] == "succeeded"
        response = client.get(f"/runs/{run['id']}/results/selection", headers=senior, params={"format": "parquet"})
        return pl.read_parquet(io.BytesIO(response.content))

    first, again = sample(), sample()
    assert first.height == 10 and first.equals(again), "the same seed selects the same items"


def test_a_cancelled_run_stops_and_keeps_no_result(world: World) -> None:
    import time

    client, senior = world.client, world.alpha.headers("senior")
    run = _start(world, "slow_work")
    time.sleep(0.3)
    assert client.post(f"/runs/{run['id']}/cancel", headers=world.alpha.headers("qc_reviewer")).status_code == 403
    cancelled = client.post(f"/runs/{run['id']}/cancel", headers=senior)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["error"] == f"cancelled by {world.alpha.emails['senior']}"
    deadline = time.monotonic() + 10
    while not any("work stopped" in line["message"] for line in
                  client.get(f"/runs/{run['id']}/logs", headers=senior).json()["items"]):
        assert time.monotonic() < deadline, "the worker did not notice the cancellation"
        time.sleep(0.1)
    assert client.get(f"/runs/{run['id']}", headers=senior).json()["status"] == "cancelled"
    assert client.get(f"/runs/{run['id']}/results", headers=senior).status_code == 409
    again = client.post(f"/runs/{run['id']}/cancel", headers=senior)
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_run_state"
