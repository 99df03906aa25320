"""Health (liveness and the database) and Prometheus metrics; no authentication, no tenant data."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from auditray import runs
from auditray.api.deps import State
from auditray.api.schemas import Health
from auditray.version import code_version

router = APIRouter(tags=["system"])


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
def health(state: State) -> Response:
    """Alive, and whether the metadata store answers (503 when it does not)."""
    try:
        with state.db_read.connect() as connection:
            connection.execute(text("SELECT 1"))
        database = "ok"
    except Exception as error:  # noqa: BLE001 - the point is to report it, not to fail
        database = f"unavailable: {type(error).__name__}"
    body = Health(status="ok" if database == "ok" else "degraded", database=database, version=code_version(),
                  run_kinds=list(runs.kinds()))
    return JSONResponse(body.model_dump(), status_code=200 if database == "ok" else 503)


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
def metrics(state: State) -> Response:
    """Request counts, latencies, rate-limit refusals, sign-ins and runs, in Prometheus' text format."""
    body, content_type = state.metrics.render()
    return Response(body, media_type=content_type)
