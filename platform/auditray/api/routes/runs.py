"""Runs: start an analysis as Ray work, follow its progress and log, read its results, seal its evidence."""

from __future__ import annotations

import io
import logging
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from sqlmodel import select

from auditray import runs
from auditray.api.deps import CurrentPrincipal, State, engagement_for
from auditray.api.errors import ApiError, ErrorResponse, not_found
from auditray.api.schemas import (
    Id,
    Limit,
    Offset,
    Page,
    ResultTable,
    RunKindOut,
    RunLogLineOut,
    RunOut,
    RunResults,
    RunStart,
)
from auditray.store import services as svc
from auditray.store.auth_models import RunLogLine
from auditray.store.models import JobRun, RunStatus

log = logging.getLogger("auditray.api")
router = APIRouter(tags=["runs"])
_ERRORS = {401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}, 404: {"model": ErrorResponse},
           409: {"model": ErrorResponse}, 422: {"model": ErrorResponse}}


def run_for(session, principal, run_id: int, action: str) -> JobRun:
    """The run, if the caller may ``action`` its engagement (404 for other tenants and unseen engagements)."""
    run = session.get(JobRun, run_id)
    if run is None or run.org_id != principal.org_id or run.engagement_id is None:
        raise not_found(f"run {run_id}")
    engagement_for(session, principal, run.engagement_id, action)
    return run


@router.get("/run-kinds", response_model=list[RunKindOut], responses=_ERRORS)
def run_kinds(principal: CurrentPrincipal) -> list[RunKindOut]:
    """The analyses this server can run, with the JSON schema of each one's parameters."""
    return [RunKindOut(**kind.describe()) for kind in runs.kinds().values()]


@router.post("/engagements/{engagement_id}/runs", response_model=RunOut, status_code=202, responses=_ERRORS)
def start_run(engagement_id: Id, body: RunStart, principal: CurrentPrincipal, state: State) -> RunOut:
    """Start a run (completeness, JE analysis, TB normalization, sampling, ...) as a Ray task and answer at once.

    The run is recorded, with its parameters, code version and the hashes of its input datasets, before
    the work starts; follow it with GET /runs/{id}.
    """
    with state.write() as session:
        engagement_for(session, principal, engagement_id, "run.start")
        try:
            run, kind = runs.start(session, body.kind, body.parameters, org_id=principal.org_id,
                                   engagement_id=engagement_id, actor=principal.actor.email)
        except runs.UnknownRunKind as error:
            raise ApiError(422, "unknown_run_kind", str(error), details={"known": list(runs.kinds())}) from None
        except runs.InvalidRunParameters as error:
            raise ApiError(422, "invalid_parameters", str(error), details=error.details) from None
    try:
        state.launcher.submit(run, kind, state.settings)
    except Exception as error:  # noqa: BLE001 - the run must not stay "running" when it never started
        runs.fail_if_running(run.id, run.org_id, run.created_by, f"could not start the Ray task: {error}",
                             state.settings)
        raise ApiError(503, "unavailable", f"the run could not be started: {error}") from None
    state.metrics.runs_started.labels(kind.name).inc()
    return RunOut.model_validate(run)


@router.post("/runs/{run_id}/cancel", response_model=RunOut, responses=_ERRORS)
def cancel_run(run_id: Id, principal: CurrentPrincipal, state: State) -> RunOut:
    """Cancel a running run: it is closed as cancelled at once (audited) and its work stops."""
    with state.write() as session:
        run_for(session, principal, run_id, "run.start")
        run = runs.cancel(session, run_id, org_id=principal.org_id, actor=principal.actor.email)
    try:
        state.launcher.cancel(run_id)
    except Exception:  # the run is already closed; interrupting the task is best effort
        log.warning("could not interrupt the task of run %s", run_id, exc_info=True)
    return RunOut.model_validate(run)


@router.get("/engagements/{engagement_id}/runs", response_model=list[RunOut], responses=_ERRORS)
def list_runs(engagement_id: Id, principal: CurrentPrincipal, state: State,
              status: Annotated[RunStatus | None, Query()] = None) -> list[RunOut]:
    with state.read() as session:
        engagement_for(session, principal, engagement_id, "run.read")
        return [RunOut.model_validate(r) for r in svc.list_runs(session, org_id=principal.org_id,
                                                                engagement_id=engagement_id, status=status)]


@router.get("/runs/{run_id}", response_model=RunOut, responses=_ERRORS)
def read_run(run_id: Id, principal: CurrentPrincipal, state: State) -> RunOut:
    """The run's status and progress (0-1)."""
    with state.read() as session:
        return RunOut.model_validate(run_for(session, principal, run_id, "run.read"))


@router.get("/runs/{run_id}/logs", response_model=Page[RunLogLineOut], responses=_ERRORS)
def run_logs(run_id: Id, principal: CurrentPrincipal, state: State,
             after: Annotated[int, Query(ge=0, le=2**62, description="Only lines after this id")] = 0,
             limit: Limit = 500) -> Page[RunLogLineOut]:
    """What the run logged, oldest first; poll with ``after`` set to the last id seen."""
    with state.read() as session:
        run_for(session, principal, run_id, "run.read")
        rows = session.exec(select(RunLogLine).where(RunLogLine.run_id == run_id, RunLogLine.org_id == principal.org_id,
                                                     RunLogLine.id > after)
                            .order_by(RunLogLine.id).limit(limit)).all()
        return Page(items=[RunLogLineOut.model_validate(r) for r in rows], total=len(rows), offset=0, limit=limit)


def _finished(run: JobRun) -> str:
    if run.status != RunStatus.succeeded or not run.result_uri:
        raise ApiError(409, "run_not_finished" if run.status == RunStatus.running else "no_results",
                       f"run {run.id} is {run.status}: it has no results" + (f" ({run.error})" if run.error else ""))
    return run.result_uri


def _json_value(value):
    """Exact amounts (Decimal), dates and lists as JSON; non-finite floats as null."""
    import math

    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


@router.get("/runs/{run_id}/results", response_model=RunResults, responses=_ERRORS)
def run_results(run_id: Id, principal: CurrentPrincipal, state: State) -> RunResults:
    """The run's summary and its result tables (names, row counts, column types)."""
    import pyarrow.parquet as pq

    with state.read() as session:
        run = run_for(session, principal, run_id, "run.read")
    uri = _finished(run)
    tables = []
    for name in runs.result_tables(uri):
        path = f"{uri.rstrip('/')}/{name}.parquet"
        meta = pq.ParquetFile(path).schema_arrow
        tables.append(ResultTable(name=name, rows=pq.ParquetFile(path).metadata.num_rows,
                                  columns={field.name: str(field.type) for field in meta}))
    return RunResults(run_id=run.id, status=run.status, summary=runs.read_summary(uri), tables=tables)


@router.get("/runs/{run_id}/results/{table}", responses={**_ERRORS, 200: {
    "content": {"application/json": {}, "application/vnd.apache.parquet": {}},
    "description": "Rows as JSON (exact amounts as strings), or the whole table as Parquet"}})
def run_result_table(
    run_id: Id,
    table: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_]+$")],
    principal: CurrentPrincipal,
    state: State,
    format: Annotated[Literal["json", "parquet"], Query()] = "json",
    offset: Offset = 0,
    limit: Limit = 1000,
) -> Response:
    """One result table: a page of rows as JSON, or the whole table as Parquet (what the Python client reads)."""
    import json

    with state.read() as session:
        run = run_for(session, principal, run_id, "run.read")
    uri = _finished(run)
    if table not in runs.result_tables(uri):
        raise not_found(f"result table {table!r} of run {run_id}")
    frame = runs.read_result(uri, table)
    if format == "parquet":
        buffer = io.BytesIO()
        frame.write_parquet(buffer)
        return Response(buffer.getvalue(), media_type="application/vnd.apache.parquet",
                        headers={"Content-Disposition": f'attachment; filename="run-{run_id}-{table}.parquet"'})
    page = frame.slice(offset, limit)
    rows = [{k: _json_value(v) for k, v in row.items()} for row in page.to_dicts()]
    body = {"run_id": run_id, "table": table, "total": frame.height, "offset": offset, "limit": limit,
            "columns": {name: str(dtype) for name, dtype in frame.schema.items()}, "rows": rows}
    return Response(json.dumps(body, allow_nan=False, default=str), media_type="application/json")
