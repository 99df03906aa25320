"""``auditray je analyze`` and ``jobs.je_analyze`` end to end; the settings the battery reads.

An ADS CSV export in, the four output files out (written atomically), the run and its findings in the
store with their audit events; settings from TOML, YAML and JSON files, with clear errors for bad ones.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from auditray.generate import ANOMALY_KINDS, GeneratorConfig, generate_engagement
from auditray.je.catalogue import CATALOGUE, TEST_IDS
from auditray.je.settings import JETestSettings, SettingsError, load_settings

from tests.conftest import REPO_ROOT
from tests.test_cli import HEAVY


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("ledger")
    return generate_engagement(GeneratorConfig(seed=21, n_lines=12_000, n_entities=2, anomaly_rate=0.01,
                                               export_formats=("ads_csv",)), out)


def auditray(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "auditray.cli", *args], check=False, capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=600)


@pytest.mark.parametrize("argv", [["je", "--help"], ["je", "analyze", "--help"]])
def test_je_help_imports_no_heavy_library(argv: list[str]) -> None:
    code = ("import sys\nfrom auditray.cli import main\nsys.argv = ['auditray', *sys.argv[1:]]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            f"print('LOADED', [m for m in {HEAVY!r} if m in sys.modules])\n")
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True).stdout
    assert "Usage" in out and out.strip().splitlines()[-1] == "LOADED []"


@pytest.mark.slow
def test_analyze_an_ads_export_registers_the_run_and_its_findings(export, tmp_path: Path) -> None:
    env = {"AUDITRAY_DATA_DIR": str(tmp_path / "data")}
    assert auditray("demo", "--help", env=env).returncode == 0
    # A firm to file the run under (the demo's first step, without the rest of the demo).
    setup = ("from auditray.store import init_db, make_engine, session_scope, OrganizationCreate\n"
             "from auditray.store import services as svc\nfrom auditray.settings import get_settings\n"
             "s = get_settings(); s.data_dir.mkdir(parents=True, exist_ok=True); init_db(s.resolved_database_url)\n"
             "with session_scope(make_engine()) as session:\n"
             "    svc.create_organization(session, OrganizationCreate(name='Firm LLP', slug='firm'))\n")
    subprocess.run([sys.executable, "-c", setup], env={**os.environ, **env}, check=True)
    out = tmp_path / "results"
    result = auditray("je", "analyze", str(export.exports["ads_csv"]), "--out", str(out), "--tb",
                      str(export.trial_balance), "--json", env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout[result.stdout.index("{"):])
    assert summary["run_id"] is not None and summary["findings_recorded"] > 0
    assert sorted(p.name for p in out.iterdir()) == ["entries.parquet", "lines.parquet", "population.json",
                                                     "settings.json"]
    assert not list(tmp_path.glob(".results.*")), "no staging directory is left behind"
    entries = pl.read_parquet(out / "entries.parquet")
    assert entries.height == summary["journals"] == export.n_journals
    assert {"journal_id", "risk_score", "risk_band", "tests", "explanations", "amount", "ml_score"} <= set(
        entries.columns)
    population = json.loads((out / "population.json").read_text())
    assert population["completeness"]["checked"] and population["completeness"]["rolls_forward"]
    recorded = json.loads((out / "settings.json").read_text())
    assert recorded["code_version"] and len(recorded["inputs"]["ledger"]["sha256"]) == 64
    assert recorded["settings"]["business_hours_start"] == "07:00:00"
    assert {row["id"] for row in recorded["catalogue"]} == set(TEST_IDS)
    medium_or_high = entries.filter(pl.col("risk_band").is_in(["medium", "high"])).height
    assert summary["findings_recorded"] == medium_or_high

    check = ("import json\nfrom sqlmodel import select\nfrom auditray.store import make_engine, session_scope, "
             "JobRun, AuditEvent\nfrom auditray.store.findings import list_findings\n"
             "with session_scope(make_engine()) as s:\n"
             "    run = s.exec(select(JobRun)).one()\n"
             "    actions = [e.action for e in s.exec(select(AuditEvent).order_by(AuditEvent.seq)).all()]\n"
             "    print(json.dumps({'status': run.status, 'kind': run.kind, 'uri': run.result_uri,\n"
             "                      'sha': run.parameters['inputs']['ledger']['sha256'],\n"
             "                      'findings': len(list_findings(s, run.org_id, run_id=run.id, limit=10000)),\n"
             "                      'actions': actions}))\n")
    stored = json.loads(subprocess.run([sys.executable, "-c", check], env={**os.environ, **env}, check=True,
                                       capture_output=True, text=True).stdout)
    assert stored["status"] == "succeeded" and stored["kind"] == "je_analysis"
    assert stored["uri"] == str(out.resolve()) and stored["sha"] == recorded["inputs"]["ledger"]["sha256"]
    assert stored["findings"] == summary["findings_recorded"]
    assert stored["actions"][-3:] == ["run.start", "findings.record", "run.finish"]


@pytest.mark.slow
def test_the_ray_job_entrypoint_writes_the_same_outputs(export, tmp_path: Path) -> None:
    out = tmp_path / "job"
    result = subprocess.run(
        [sys.executable, "-m", "jobs.je_analyze", str(export.out_dir / "gl_detail"), "--out", str(out),
         "--engine", "local", "--no-record"],
        check=False, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "AUDITRAY_DATA_DIR": str(tmp_path / "data")})
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout[result.stdout.index("{\n"):])
    assert summary["journals"] == export.n_journals and summary["run_id"] is None
    assert (out / "entries.parquet").is_file()


def test_bad_input_gets_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "gl.csv"
    bad.write_text("Business_Unit_Code,Journal_ID,Journal_ID_Line_Number,Effective_Date,GL_Account_Number,Amount\n"
                   "US01,1,1,2025-13-01,1000,10.00\n")
    result = auditray("je", "analyze", str(bad), "--out", str(tmp_path / "out"), "--no-record",
                      env={"AUDITRAY_DATA_DIR": str(tmp_path / "data")})
    assert result.returncode == 1
    assert "gl.csv" in result.stderr and "Effective_Date" in result.stderr
    assert not (tmp_path / "out").exists()
    config = tmp_path / "je.toml"
    config.write_text('materiality = 1000.5\n')
    result = auditray("je", "analyze", str(bad), "--out", str(tmp_path / "out"), "--config", str(config),
                      "--no-record", env={"AUDITRAY_DATA_DIR": str(tmp_path / "data")})
    assert result.returncode == 2 and "materiality" in result.stderr and "float" in result.stderr


# --- Settings --------------------------------------------------------------------------------------------


def test_the_catalogue_has_the_issue_s_tests_each_with_its_authority() -> None:
    assert TEST_IDS == tuple(ANOMALY_KINDS)
    fields = set(JETestSettings.model_fields) | {"high_value_threshold", "authorised_posters"}
    for test in CATALOGUE:
        assert 0 < test.weight <= 1 and 0 <= test.system_strength <= 1
        assert any(source in test.source for source in ("AS 2401", "ISA 240", "CAQ", "Nigrini")), test.id
        assert test.rationale.endswith(".") and test.title
        assert set(test.settings) <= fields, (test.id, set(test.settings) - fields)


@pytest.mark.parametrize("suffix", [".toml", ".yaml", ".json"])
def test_settings_load_from_toml_yaml_and_json(tmp_path: Path, suffix: str) -> None:
    values = {"materiality": "250000.00", "closing_date": "2026-01-25", "business_hours_start": "06:30:00",
              "weights": {"round_amount": 0.2}, "entities": {"DE01": {"approval_limit": "5000.00"}}}
    path = tmp_path / f"je{suffix}"
    if suffix == ".toml":
        path.write_text('materiality = "250000.00"\nclosing_date = 2026-01-25\nbusiness_hours_start = 06:30:00\n'
                        "[weights]\nround_amount = 0.2\n[entities.DE01]\napproval_limit = \"5000.00\"\n")
    elif suffix == ".yaml":
        path.write_text("je:\n  materiality: '250000.00'\n  closing_date: 2026-01-25\n  business_hours_start: "
                        "'06:30:00'\n  weights: {round_amount: 0.2}\n  entities: {DE01: {approval_limit: '5000.00'}}\n")
    else:
        path.write_text(json.dumps(values))
    settings = load_settings(path)
    assert str(settings.materiality) == "250000.00" and settings.weights == {"round_amount": 0.2}
    assert settings.business_hours_start.isoformat() == "06:30:00"
    assert str(settings.for_entity("DE01").approval_limit) == "5000.00"
    assert settings.for_entity("US01").approval_limit is None
    assert str(settings.for_entity("DE01").materiality) == "250000.00"


@pytest.mark.parametrize(("text", "message"), [
    ('weights = { no_such_test = 0.5 }\n', "unknown test ids"),
    ('approval_limit = 10000.5\n', "float"),
    ('business_hours_start = 19:00:00\nbusiness_hours_end = 07:00:00\n', "business_hours_start"),
    ('medium_risk_from = 0.9\n', "medium_risk_from"),
    ('not toml at all ===\n', "je.toml"),
])
def test_bad_settings_name_the_file_and_the_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "je.toml"
    path.write_text(text)
    with pytest.raises(SettingsError, match=message):
        load_settings(path)


def test_an_engagement_facts_file_gives_per_entity_facts(export) -> None:
    settings = load_settings(export.engagement)
    facts = json.loads(Path(export.engagement).read_text())
    first = facts["entities"][0]
    entity = settings.for_entity(first["entity_id"])
    assert str(entity.performance_materiality) == first["performance_materiality"]
    assert entity.authorised_posters == first["authorised_posters"]
    assert settings.closing_date.isoformat() == facts["closing_date"]


def test_a_registered_dataset_is_analyzed_and_its_run_filed_under_the_engagement(export, settings, tmp_path) -> None:
    from auditray import datasets
    from auditray.je.run import run_je_analysis
    from auditray.store import EngagementCreate, OrganizationCreate, init_db, make_engine, session_scope
    from auditray.store import services as svc
    from auditray.store.findings import list_findings

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    init_db(settings.resolved_database_url)
    db = make_engine(settings.resolved_database_url)
    with session_scope(db) as session:
        org = svc.create_organization(session, OrganizationCreate(name="Firm LLP", slug="firm"))
        engagement = svc.create_engagement(session, EngagementCreate(
            client_name="Auditray Industries", name="FY2025 audit", fiscal_year=2025, period_start="2025-01-01",
            period_end="2025-12-31", materiality="300000.00", performance_materiality="225000.00"),
            org_id=org.id, actor="partner@firm.example")
        org_id, engagement_id = org.id, engagement.id
    dataset = datasets.ingest(export.gl_detail_files[0], "gl_detail", org_id=org_id, actor="senior@firm.example",
                              engagement_id=engagement_id, settings=settings)
    outcome = run_je_analysis(f"dataset:{dataset.id}", tmp_path / "out", engagement_id=engagement_id, org="firm",
                              actor="senior@firm.example", app_settings=settings)
    assert outcome.registered and outcome.analysis.entries.height > 0
    facts = outcome.analysis.population["entities"]
    assert all(f["facts"]["high_value_threshold"] == "225,000.00" for f in facts.values())
    with session_scope(db) as session:
        run = svc.get_run(session, outcome.run_id, org_id=org_id)
        assert run.engagement_id == engagement_id and run.status == "succeeded"
        assert run.parameters["inputs"]["ledger"]["sha256"] == dataset.content_sha256
        findings = list_findings(session, org_id, run_id=run.id, limit=10_000)
        assert len(findings) == outcome.findings and all(f.engagement_id == engagement_id for f in findings)
    db.dispose()
