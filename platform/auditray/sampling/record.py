"""A selection kept with its run: the store records who selected what, from which population, how.

The run's parameters (and so its ``run.start`` audit event) carry the method, the seed, the
population's SHA-256 and the selection parameters; the run's ``result_uri`` is the directory
holding ``selection.parquet`` (the items and why each was chosen) and ``selection.json`` (the
documentation). Files are written under temporary names and renamed, and a failure closes the
run as failed with the reason, so nothing half-done is ever presented as a result.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from auditray.sampling.selection import Selection

if TYPE_CHECKING:
    from auditray.settings import Settings
    from auditray.store import JobRun
    from auditray.store.services import Actor

RUN_KIND = "sampling.selection"


def run_parameters(selection: Selection) -> dict:
    """What the audit trail records about a selection: enough to re-perform it."""
    doc = selection.documentation
    population = doc["population"]
    return {
        "method": doc["method"],
        "seed": doc["seed"],
        "population_sha256": population["sha256"],
        "population_source": population["source"],
        "population_items": population["items"],
        "key_columns": population["key_columns"],
        "amount_column": population["amount_column"],
        "parameters": doc["parameters"],
        "selected_items": doc["selected_items"],
    }


def record_selection(
    selection: Selection,
    *,
    org_id: int,
    actor: Actor,
    engagement_id: int | None = None,
    settings: Settings | None = None,
    engine=None,
) -> JobRun:
    """Store ``selection`` as a finished run of ``engagement_id`` (refused if the engagement is finalized)."""
    from auditray.settings import get_settings
    from auditray.store import JobRunCreate, make_engine, session_scope
    from auditray.store import services as svc

    settings = settings or get_settings()
    db = engine or make_engine(settings.resolved_database_url)
    try:
        with session_scope(db) as session:
            run = svc.start_run(
                session,
                JobRunCreate(engagement_id=engagement_id, kind=RUN_KIND, parameters=run_parameters(selection),
                             code_version=selection.documentation.get("code_version")),
                org_id=org_id,
                actor=actor,
            )
            run_id = run.id
        out = Path(settings.data_dir) / "runs" / f"run-{run_id}"
        try:
            selection.documentation["run_id"] = run_id
            selection.write(out / "selection.parquet")
        except Exception as failure:
            with session_scope(db) as session:
                svc.finish_run(session, run_id=run_id, status="failed", org_id=org_id, actor=actor,
                               error=f"{type(failure).__name__}: {failure}")
            raise
        with session_scope(db) as session:
            return svc.finish_run(session, run_id=run_id, status="succeeded", org_id=org_id, actor=actor,
                                  result_uri=str(out))
    finally:
        if engine is None:
            db.dispose()
