"""The demo engagement: the newcomer's first run, end to end on the embedded default."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from auditray import audit_trail
from auditray.demo import run_demo
from auditray.settings import Settings
from auditray.store import RunStatus, make_engine, session_scope
from auditray.store import services as svc

from tests.conftest import REPO_ROOT


def test_demo_engagement_flows_through_the_platform_on_ray(tmp_path: Path, ray_session) -> None:
    settings = Settings(data_dir=tmp_path / "data", env="test")
    said: list[str] = []
    result = run_demo(settings, lines=20_000, seed=5, engine="ray", say=said.append)

    assert set(result.datasets) == {"gl_detail", "trial_balance", "chart_of_accounts"}
    assert result.roll_forward_differences == 0 and result.accounts_checked > 300
    assert result.audit_trail_ok
    assert len(result.planted_anomalies) == 23
    assert any("Completeness (ray engine)" in line for line in said)
    # Journal-entry testing over the whole ledger, its findings recorded, the planted anomalies found.
    assert result.je_entries > 0 and result.je_findings > 0
    assert result.je_kinds_found >= 20 and result.je_planted_flagged >= 0.8
    assert any("Journal-entry testing (ray engine)" in line for line in said)
    # The trial balance mapped account by account; 59 lines drawn for the approval-control test (Table A-1).
    assert result.tb_accounts == result.accounts_checked and result.sample_items == 59

    engine = make_engine(settings.resolved_database_url)
    with session_scope(engine) as session:
        run = svc.get_run(session, result.run_id, org_id=result.org_id)
        assert run.status == RunStatus.succeeded and run.code_version
        assert Path(run.result_uri, "roll_forward.parquet").is_file()
        je_run = svc.get_run(session, result.je_run_id, org_id=result.org_id)
        assert je_run.status == RunStatus.succeeded and Path(je_run.result_uri, "entries.parquet").is_file()
        for run_id in (result.tb_run_id, result.sample_run_id):
            assert svc.get_run(session, run_id, org_id=result.org_id).status == RunStatus.succeeded
        actions = [e.action for e in audit_trail.events(session, org_id=result.org_id, limit=1000)]
    engine.dispose()
    assert actions.count("dataset.register") == 3
    assert actions.count("run.start") == 4 and actions.count("run.finish") == 4
    assert {"organization.create", "engagement.create", "engagement.transition", "run.start", "run.finish"} <= set(actions)

    # A second demo run reuses the firm and adds a new engagement; the chain stays intact.
    again = run_demo(settings, lines=20_000, seed=5, engine="local", say=said.append)
    assert again.org_id == result.org_id and again.engagement_id != result.engagement_id
    assert again.audit_trail_ok and again.audit_events > result.audit_events


def test_demo_job_entrypoint_runs_from_the_command_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "jobs.demo", "--lines", "20000", "--engine", "local", "--data-dir", str(tmp_path)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "Demo completed" in done.stdout and "audit trail is intact" in done.stdout
