"""One journal-entry analysis as a recorded run: read the evidence, test it, write the results, file the findings.

The CLI (``auditray je analyze``) and the Ray job (``jobs.je_analyze``) are thin over ``run_je_analysis``:

1. resolve the ledger: a registered dataset (``dataset:ID``), canonical Parquet (a file or a directory of
   them, scanned lazily), or any client export ingestion accepts (CSV, Excel, Parquet with ADS, SAP, ...
   headers), validated by ``auditray.ingest.read_source``; likewise the optional trial balance and chart;
2. settings: defaults, then the engagement record (materiality, period end), then the ``--config`` file;
3. register the run in the store (``start_run``: parameters, input hashes, code version), analyze, write the
   outputs atomically, record the medium- and high-risk entries as findings, and close the run, or close it
   as failed with the reason. Every step lands in the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from auditray.contract import GL_DETAIL
from auditray.je.analyze import JEAnalysis, Progress, analyze, sha256_of, write_outputs
from auditray.je.settings import JETestSettings, load_settings, settings_from_engagement

DATASET_PREFIX = "dataset:"


class InputError(ValueError):
    """The input cannot be read as a ledger (or trial balance, chart); the message names the file and why."""


@dataclass
class ResolvedInput:
    """A ledger ready for the engines, with where it came from and its fingerprint."""

    source: Any
    description: str
    sha256: str | None
    rows: int | None = None
    dataset_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)


def _is_canonical_parquet(path: Path, kind: str) -> bool:
    from auditray.contract import contract_for

    try:
        names = set(pl.read_parquet_schema(path))
    except Exception:  # noqa: BLE001 - unreadable files are reported by ingestion, with the reason
        return False
    return set(contract_for(kind).required) <= names


def resolve_ledger(spec: str | Path, *, org_id: int | None = None, settings: Any = None) -> ResolvedInput:
    """The ledger named by ``spec``: ``dataset:ID``, canonical Parquet, or a client export to validate."""
    text = str(spec)
    if text.startswith(DATASET_PREFIX):
        return _registered_dataset(text, org_id, settings)
    path = Path(text)
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    if path.is_dir():
        files = sorted(path.rglob("*.parquet"))
        if not files:
            raise InputError(f"{path}: the directory holds no Parquet files")
        bad = [f for f in files if not _is_canonical_parquet(f, "gl_detail")]
        if bad:
            raise InputError(f"{bad[0]}: not canonical gl_detail Parquet (a directory must hold the output of "
                             "ingestion or `auditray generate`); pass client exports one file at a time")
        return ResolvedInput(source=path, description=f"canonical Parquet directory {path}", sha256=sha256_of(path))
    if path.suffix.lower() == ".parquet" and _is_canonical_parquet(path, "gl_detail"):
        return ResolvedInput(source=[path], description=f"canonical Parquet {path.name}", sha256=sha256_of(path))
    frame = read_client_file(path, "gl_detail")
    return ResolvedInput(source=frame, description=f"client export {path.name}, validated by ingestion",
                         sha256=sha256_of(path), rows=frame.height)


def read_client_file(path: str | Path, kind: str) -> pl.DataFrame:
    """Canonical rows of a trial balance, chart or ledger in any accepted format; InputError with the report."""
    from auditray.ingest import IngestError, read_source

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if path.suffix.lower() == ".parquet" and _is_canonical_parquet(path, kind):
        return pl.read_parquet(path)
    try:
        return read_source(path, kind)
    except IngestError as rejected:
        raise InputError(f"{path.name} is not a valid {kind} file:\n{rejected}") from None


def _registered_dataset(spec: str, org_id: int | None, settings: Any) -> ResolvedInput:
    from auditray import datasets
    from auditray.store import make_engine, session_scope
    from auditray.store.services import get_dataset

    try:
        dataset_id = int(spec.removeprefix(DATASET_PREFIX))
    except ValueError:
        raise InputError(f"{spec!r}: expected dataset:ID with a numeric id") from None
    if org_id is None:
        raise InputError(f"{spec}: a registered dataset needs the organization it belongs to (--org)")
    engine = make_engine(settings.resolved_database_url if settings is not None else None)
    try:
        with session_scope(engine) as session:
            dataset = get_dataset(session, dataset_id, org_id=org_id)
            if dataset.kind != GL_DETAIL.kind:
                raise InputError(f"dataset {dataset_id} is a {dataset.kind} dataset, not gl_detail")
            uri, sha, rows, name = dataset.uri, dataset.content_sha256, dataset.row_count, dataset.name
    finally:
        engine.dispose()
    files = datasets.dataset_files(uri)
    if not files:
        raise InputError(f"dataset {dataset_id} ({name}) has no Parquet files at {uri}")
    return ResolvedInput(source=files, description=f"dataset {dataset_id} ({name})", sha256=sha, rows=rows,
                         dataset_id=dataset_id)


def build_settings(config: str | Path | None, engagement: Any = None) -> JETestSettings:
    """Defaults, overridden by the engagement record, overridden by the config file."""
    base = load_settings(config) if config else JETestSettings()
    if engagement is None:
        return base
    # The file wins over the engagement record: it is the more specific statement of the auditor's intent.
    return settings_from_engagement(engagement, base)


@dataclass
class RunOutcome:
    """What ``run_je_analysis`` did."""

    analysis: JEAnalysis
    outputs: dict[str, Path]
    run_id: int | None
    findings: int
    registered: bool
    note: str | None = None


def run_je_analysis(
    input_spec: str | Path,
    out_dir: str | Path,
    *,
    engine: str = "local",
    config: str | Path | None = None,
    trial_balance: str | Path | None = None,
    chart: str | Path | None = None,
    engagement_id: int | None = None,
    org: str | int | None = None,
    actor: str = "system",
    record: bool = True,
    app_settings: Any = None,
    progress: Progress | None = None,
) -> RunOutcome:
    """Analyze a ledger, write the outputs and, with ``record``, register the run and its findings."""
    from auditray.settings import get_settings
    from auditray.version import code_version

    app_settings = app_settings or get_settings()
    org_id, engagement, note = None, None, None
    db = None
    if record or engagement_id is not None or str(input_spec).startswith(DATASET_PREFIX):
        from auditray.store import init_db, make_engine

        app_settings.data_dir.mkdir(parents=True, exist_ok=True)
        init_db(app_settings.resolved_database_url)
        db = make_engine(app_settings.resolved_database_url)
        org_id, engagement, note = _store_context(db, org, engagement_id)
    try:
        settings = build_settings(config, engagement)
        ledger = resolve_ledger(input_spec, org_id=org_id, settings=app_settings)
        tb = read_client_file(trial_balance, "trial_balance") if trial_balance else None
        coa = read_client_file(chart, "chart_of_accounts") if chart else None
        inputs = {
            "ledger": {"spec": str(input_spec), "description": ledger.description, "sha256": ledger.sha256,
                       "dataset_id": ledger.dataset_id},
            "trial_balance": {"path": str(trial_balance), "sha256": sha256_of(trial_balance)} if trial_balance
            else None,
            "chart_of_accounts": {"path": str(chart), "sha256": sha256_of(chart)} if chart else None,
            "config": {"path": str(config), "sha256": sha256_of(config)} if config else None,
        }
        parameters = {"input": str(input_spec), "out": str(out_dir), "engine": engine,
                      "config": str(config) if config else None, "engagement_id": engagement_id,
                      "record_bands": list(settings.record_bands), "inputs": inputs}
        version = code_version()
        run_id = None
        if db is not None and org_id is not None and record:
            run_id = _start(db, org_id, engagement_id, parameters, version, actor)
        try:
            analysis = analyze(ledger.source, settings=settings, engine=engine, trial_balance=tb, chart=coa,
                               engine_settings=app_settings, progress=progress)
            outputs = write_outputs(analysis, out_dir, inputs=inputs, code_version=version,
                                    parameters={**parameters, "run_id": run_id})
            findings = 0
            if run_id is not None:
                findings = _finish(db, org_id, run_id, analysis, outputs, settings, actor)
        except BaseException as failure:
            if run_id is not None:
                _fail(db, org_id, run_id, failure, actor)
            raise
        return RunOutcome(analysis=analysis, outputs=outputs, run_id=run_id, findings=findings,
                          registered=run_id is not None, note=note)
    finally:
        if db is not None:
            db.dispose()


def _store_context(db: Any, org: str | int | None, engagement_id: int | None) -> tuple[int | None, Any, str | None]:
    from sqlmodel import select

    from auditray.store import Organization, session_scope
    from auditray.store.services import get_engagement

    with session_scope(db) as session:
        organizations = session.exec(select(Organization).order_by(Organization.id)).all()
        if org is not None:
            chosen = [o for o in organizations if o.slug == str(org) or str(o.id) == str(org)]
            if not chosen:
                raise InputError(f"no organization {org!r} in the store")
            org_id = chosen[0].id
        elif len(organizations) == 1:
            org_id = organizations[0].id
        elif not organizations:
            if engagement_id is not None:
                raise InputError("the store has no organization, so it has no engagement "
                                 f"{engagement_id}; run `auditray demo` or create one")
            return None, None, ("not registered in the store: it has no organization yet (run `auditray demo` "
                                "or create one, then pass --org)")
        else:
            raise InputError("the store has several organizations; name one with --org "
                             f"({', '.join(o.slug for o in organizations)})")
        engagement = None
        if engagement_id is not None:
            engagement = get_engagement(session, engagement_id, org_id=org_id)
            session.expunge(engagement)
    return org_id, engagement, None


def _start(db: Any, org_id: int, engagement_id: int | None, parameters: dict[str, Any], version: str,
           actor: str) -> int:
    from auditray.store import JobRunCreate, session_scope
    from auditray.store.services import start_run

    with session_scope(db) as session:
        run = start_run(session, JobRunCreate(engagement_id=engagement_id, kind="je_analysis", parameters=parameters,
                                              code_version=version), org_id=org_id, actor=actor)
        return int(run.id)


def _finish(db: Any, org_id: int, run_id: int, analysis: JEAnalysis, outputs: dict[str, Path],
            settings: JETestSettings, actor: str) -> int:
    from auditray.store import session_scope
    from auditray.store.findings import record_findings
    from auditray.store.services import finish_run

    entries_sha = sha256_of(outputs["entries.parquet"])
    with session_scope(db) as session:
        count = record_findings(session, run_id, analysis.entries, org_id=org_id, actor=actor,
                                bands=settings.record_bands, entries_sha256=entries_sha)
        finish_run(session, run_id=run_id, status="succeeded", org_id=org_id, actor=actor,
                   result_uri=str(Path(outputs["entries.parquet"]).parent.resolve()))
    return count


def _fail(db: Any, org_id: int, run_id: int, failure: BaseException, actor: str) -> None:
    from auditray.store import session_scope
    from auditray.store.services import finish_run

    reason = f"{type(failure).__name__}: {failure}"[:4000] or type(failure).__name__
    with session_scope(db) as session:
        finish_run(session, run_id=run_id, status="failed", org_id=org_id, actor=actor, error=reason)


__all__ = ["InputError", "ResolvedInput", "RunOutcome", "build_settings", "read_client_file", "resolve_ledger",
           "run_je_analysis"]
