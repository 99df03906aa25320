"""The demo engagement, end to end on whatever the settings point at.

A newcomer's first run: a firm and its team, a client engagement, a synthetic multi-entity
ledger exported the way clients send them, ingestion through validation into the dataset store,
the population completeness check (GL rolls the TB forward) on the chosen engine, journal-entry
testing of the whole ledger with its findings recorded for review (and, since the ledger is synthetic, how
many of the planted anomalies the tests found), the trial balance mapped to the standard chart, a
random sample of ledger lines for a test of approval controls (sized by the AICPA guide's Table A-1), and
the audit trail verified at the end. The last two are registered runs, exactly as the API runs them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from auditray.settings import Settings

DEMO_ORG = ("Demo Audit LLP", "demo-audit")
DEMO_TEAM = (
    ("paula.partner@demo-audit.example", "Paula Partner", "partner"),
    ("manny.manager@demo-audit.example", "Manny Manager", "manager"),
    ("sam.senior@demo-audit.example", "Sam Senior", "senior"),
    ("stacy.staff@demo-audit.example", "Stacy Staff", "staff"),
    ("quinn.qc@demo-audit.example", "Quinn Reviewer", "qc_reviewer"),
)

Say = Callable[[str], None]


@dataclass
class DemoResult:
    """What the demo did, for the console summary and the tests."""

    org_id: int
    engagement_id: int
    datasets: dict[str, int] = field(default_factory=dict)
    run_id: int | None = None
    result_uri: str | None = None
    lines: int = 0
    accounts_checked: int = 0
    roll_forward_differences: int = 0
    planted_anomalies: dict[str, int] = field(default_factory=dict)
    je_run_id: int | None = None
    je_findings: int = 0
    je_entries: int = 0
    je_kinds_found: int = 0
    je_planted_flagged: float = 0.0
    tb_run_id: int | None = None
    tb_accounts: int = 0
    tb_review: int = 0
    sample_run_id: int | None = None
    sample_items: int = 0
    audit_events: int = 0
    audit_trail_ok: bool = False
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _ensure_firm(session) -> tuple[int, str]:
    """The demo firm and its team, created once and reused by later demo runs."""
    from sqlmodel import select

    from auditray.store import Organization, OrganizationCreate, Role, User, UserCreate
    from auditray.store import services as svc

    name, slug = DEMO_ORG
    org = session.exec(select(Organization).where(Organization.slug == slug)).first()
    if org is None:
        org = svc.create_organization(session, OrganizationCreate(name=name, slug=slug), actor="system")
    for email, full_name, role in DEMO_TEAM:
        if session.exec(select(User).where(User.email == email)).first() is None:
            svc.create_user(session, UserCreate(email=email, full_name=full_name, role=Role(role)),
                            org_id=org.id, actor="system")
    return org.id, DEMO_TEAM[0][0]


def run_demo(
    settings: Settings,
    *,
    lines: int = 200_000,
    seed: int = 42,
    engine: str = "ray",
    say: Say = print,
    progress: Callable[[int], None] | None = None,
) -> DemoResult:
    """Run the demo engagement; every state change lands in the audit trail."""
    from auditray import audit_trail, datasets
    from auditray.completeness import ACCOUNT_ACTIVITY, roll_forward
    from auditray.engine import run
    from auditray.generate import GeneratorConfig, generate_engagement
    from auditray.store import JobRunCreate, init_db, make_engine, session_scope
    from auditray.store import services as svc
    from auditray.version import code_version

    timings: dict[str, float] = {}
    clock = time.perf_counter()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    init_db(settings.resolved_database_url)
    db = make_engine(settings.resolved_database_url)

    say(f"Generating a synthetic engagement: {lines:,} journal-entry lines, seed {seed}")
    source_dir = settings.data_dir / "demo" / f"client-export-seed{seed}-{lines}"
    generated = generate_engagement(
        GeneratorConfig(seed=seed, n_lines=lines, export_formats=("ads_csv",)), source_dir, progress=progress
    )
    facts = json.loads(Path(generated.engagement).read_text())
    timings["generate"] = time.perf_counter() - clock

    with session_scope(db) as session:
        org_id, partner = _ensure_firm(session)
        engagement = svc.create_engagement(session, _engagement_from(facts), org_id=org_id, actor=partner)
        for email, _, role in DEMO_TEAM[1:4]:
            user = svc.get_user_by_email(session, email)
            svc.add_engagement_member(session, engagement_id=engagement.id, user_id=user.id, team_role=role,
                                      org_id=org_id, actor=partner)
        svc.transition_engagement(session, engagement_id=engagement.id, to_state="fieldwork", org_id=org_id,
                                  actor=partner, reason="client data received")
    result = DemoResult(org_id=org_id, engagement_id=engagement.id)
    say(f"Engagement {engagement.id}: {engagement.client_name}, {engagement.name} (fieldwork)")

    clock = time.perf_counter()
    senior = DEMO_TEAM[2][0]
    inputs = {
        "gl_detail": Path(generated.exports["ads_csv"]),
        "trial_balance": Path(generated.trial_balance),
        "chart_of_accounts": Path(generated.chart_of_accounts),
    }
    registered = {}
    for kind, path in inputs.items():
        dataset = datasets.ingest(path, kind, org_id=org_id, actor=senior, engagement_id=engagement.id,
                                  settings=settings)
        registered[kind] = dataset
        result.datasets[kind] = dataset.id
        say(f"Ingested {path.name} as {kind} dataset {dataset.id}: {dataset.row_count:,} rows, "
            f"format {dataset.profile['source_format']}, sha256 {dataset.content_sha256[:12]}...")
    gl, tb = registered["gl_detail"], registered["trial_balance"]
    timings["ingest"] = time.perf_counter() - clock
    result.lines = gl.row_count

    clock = time.perf_counter()
    parameters = {"gl_dataset": gl.id, "tb_dataset": tb.id, "engine": engine}
    with session_scope(db) as session:
        job = svc.start_run(session, JobRunCreate(engagement_id=engagement.id, kind="completeness",
                                                  parameters=parameters, code_version=code_version()),
                            org_id=org_id, actor=senior)
    try:
        activity = run(ACCOUNT_ACTIVITY, datasets.dataset_files(gl.uri), engine=engine, settings=settings)
        check = roll_forward(datasets.scan(tb).collect(), activity)
        out = settings.data_dir / "runs" / f"run-{job.id}"
        out.mkdir(parents=True, exist_ok=True)
        check.write_parquet(out / "roll_forward.parquet")
    except Exception as failure:
        with session_scope(db) as session:
            svc.finish_run(session, run_id=job.id, status="failed", org_id=org_id, actor=senior,
                           error=f"{type(failure).__name__}: {failure}")
        raise
    with session_scope(db) as session:
        svc.finish_run(session, run_id=job.id, status="succeeded", org_id=org_id, actor=senior,
                       result_uri=str(out))
    timings["completeness"] = time.perf_counter() - clock
    broken = check.filter(pl.col("difference") != 0)
    result.run_id, result.result_uri = job.id, str(out)
    result.accounts_checked = check.height
    result.roll_forward_differences = broken.height
    total_activity = check["activity"].sum()
    say(f"Completeness ({engine} engine): {check.height:,} accounts, net GL activity {total_activity:,}, "
        f"{broken.height} accounts where opening + activity != closing")

    labels = pl.read_parquet(generated.labels)
    result.planted_anomalies = dict(sorted(labels.group_by("kind").len().iter_rows()))

    clock = time.perf_counter()
    _journal_entry_testing(result, settings, engine=engine, gl_id=gl.id, inputs=inputs, labels=labels,
                           actor=senior, say=say)
    timings["je_testing"] = time.perf_counter() - clock

    clock = time.perf_counter()
    coa = registered["chart_of_accounts"]
    mapped = _registered_run(settings, db, "tb_normalization", {"tb_dataset": tb.id, "coa_dataset": coa.id},
                             result, actor=senior)
    result.tb_run_id = mapped["run_id"]
    mapping = mapped["summary"]["mapping"]
    result.tb_accounts, result.tb_review = int(mapping["accounts"]), int(mapping["needs_review"])
    sources = ", ".join(f"{n:,} by {source.replace('_', ' ')}" for source, n in mapping["by_source"].items() if n)
    say(f"Trial balance mapped to the standard chart (run {mapped['run_id']}): {result.tb_accounts:,} accounts, "
        f"{sources}; {result.tb_review:,} sent to review")
    timings["tb_mapping"] = time.perf_counter() - clock

    clock = time.perf_counter()
    from auditray.sampling.attribute import attribute_sample_size

    # A test of the approval control over journal lines: 5 % tolerable deviation rate, none expected, 5 % risk
    # of overreliance (AICPA Audit Sampling, Table A-1).
    plan = attribute_sample_size("0.05", "0", "0.05")
    sampled = _registered_run(settings, db, "sampling", {
        "population_dataset": gl.id, "method": "random", "seed": seed, "sample_size": plan.sample_size,
        "keys": ["entity_id", "journal_id", "line_number"]}, result, actor=senior)
    result.sample_run_id, result.sample_items = sampled["run_id"], int(sampled["items"])
    say(f"Random sample for the approval-control test (run {sampled['run_id']}): {result.sample_items} ledger "
        f"lines (Table A-1: 5 % tolerable, 0 % expected deviations, 5 % risk), seed {seed}")
    timings["sampling"] = time.perf_counter() - clock

    with session_scope(db) as session:
        verified = audit_trail.verify(session)
    result.audit_trail_ok, result.audit_events = verified.ok, verified.count
    say(f"Audit trail: {verified.message}")
    result.timings = {k: round(v, 2) for k, v in timings.items()}
    db.dispose()
    return result


def _journal_entry_testing(result: DemoResult, settings: Settings, *, engine: str, gl_id: int,
                           inputs: dict[str, Path], labels: pl.DataFrame, actor: str, say: Say) -> None:
    """The whole ledger through the JE battery, findings recorded; then the planted anomalies it found."""
    from auditray.je.analyze import detection_report
    from auditray.je.run import run_je_analysis

    out = settings.data_dir / "runs" / f"je-engagement-{result.engagement_id}"
    outcome = run_je_analysis(f"dataset:{gl_id}", out, engine=engine, trial_balance=inputs["trial_balance"],
                              chart=inputs["chart_of_accounts"], engagement_id=result.engagement_id,
                              org=result.org_id, actor=actor, app_settings=settings)
    entries = outcome.analysis.entries
    report = detection_report(entries, labels)
    found = sum(1 for kind in report["recall"].values() if kind["found"] > 0)
    flagged = labels.select("entity_id", "journal_id").unique().join(
        entries.filter(pl.col("risk_band") != "low").select("entity_id", "journal_id"),
        on=["entity_id", "journal_id"], how="semi").height
    result.je_run_id, result.je_findings, result.je_entries = outcome.run_id, outcome.findings, entries.height
    result.je_kinds_found = found
    result.je_planted_flagged = round(flagged / report["planted_entries"], 4) if report["planted_entries"] else 0.0
    bands = dict(entries.group_by("risk_band").len().iter_rows())
    say(f"Journal-entry testing ({engine} engine): {entries.height:,} entries, {bands.get('high', 0):,} high and "
        f"{bands.get('medium', 0):,} medium risk; {outcome.findings:,} findings recorded for review (run "
        f"{outcome.run_id}, outputs in {out})")
    say(f"Planted anomalies: {report['planted_entries']:,} entries of {len(report['recall'])} kinds; "
        f"{found} kinds found by their own test, {result.je_planted_flagged:.1%} of the planted entries in the "
        f"medium or high band")


def _registered_run(settings: Settings, db: Any, kind: str, parameters: dict[str, Any], result: DemoResult, *,
                    actor: str) -> dict[str, Any]:
    """Start a run of ``kind`` in the store and execute it here, as the API's inline launcher does."""
    from auditray import runs
    from auditray.store import session_scope

    with session_scope(db) as session:
        run, _ = runs.start(session, kind, parameters, org_id=result.org_id, engagement_id=result.engagement_id,
                            actor=actor)
        run_id, validated = run.id, dict(run.parameters)
    status = runs.execute(kind, run_id, result.org_id, result.engagement_id, actor, validated, settings)
    if status != "succeeded":
        raise RuntimeError(f"the demo's {kind} run {run_id} {status}; its log is in the store")
    uri = runs.results_uri(settings, org_id=result.org_id, run_id=run_id)
    tables = runs.result_tables(uri)
    items = runs.read_result(uri, "selection").height if "selection" in tables else 0
    return {"run_id": run_id, "summary": runs.read_summary(uri), "items": items}


def _engagement_from(facts: dict[str, Any]):
    """The engagement record from the generator's engagement facts (group materiality = sum of entities)."""
    from auditray.store import EngagementCreate

    entities = facts["entities"]
    materiality = sum(Decimal(str(e["materiality"])) for e in entities)
    performance = sum(Decimal(str(e["performance_materiality"])) for e in entities)
    return EngagementCreate(
        client_name=facts["entities"][0]["legal_name"].split(" Inc.")[0] + " group",
        name=f"FY{facts['fiscal_year']} group financial statement audit",
        fiscal_year=facts["fiscal_year"],
        period_start=facts["fiscal_period_start"],
        period_end=facts["fiscal_period_end"],
        materiality=materiality,
        performance_materiality=performance,
    )
