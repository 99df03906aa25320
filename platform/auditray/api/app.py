"""The FastAPI application, built by a factory so it runs the same under Ray Serve, uvicorn and tests.

``create_app(settings)`` wires the store, the run launcher (Ray tasks by default), the rate limiters,
the metrics and every router. Ray Serve wraps the result with ``@serve.ingress`` (``serve_apps/api.py``);
``auditray serve`` starts that on the embedded default; tests call it with a test client.
"""

from __future__ import annotations

import gc
import logging
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from auditray.api import errors
from auditray.api.config import ApiSettings
from auditray.api.metrics import ApiMetrics
from auditray.api.middleware import RequestContextMiddleware
from auditray.api.ratelimit import TokenBucketLimiter
from auditray.api.state import ApiState

if TYPE_CHECKING:
    from auditray.runs import Launcher
    from auditray.settings import Settings

log = logging.getLogger("auditray.api")

DESCRIPTION = """\
The Auditray API: engagements, client files, analyses on Ray, findings review, the audit trail and
signed evidence packs, for one audit firm (tenant) at a time.

Sign in with `POST /auth/login` and send `Authorization: Bearer <access_token>`; service accounts send
`X-API-Key`. Every error has the shape `{"error": {"code", "message", "details", "request_id"}}`; send
`X-Request-ID` to choose the id, or read the one assigned from the response header.
"""


class InsecureConfiguration(RuntimeError):
    """The app refuses to start in production with a weak or default secret."""


def refuse_weak_secrets(settings: Settings) -> None:
    """Production start-up needs a real secret: it signs every token and evidence pack."""
    from auditray.settings import DEFAULT_SECRET, MIN_SECRET_LENGTH

    if settings.env != "production":
        return
    secret = settings.secret_key.get_secret_value()
    if secret == DEFAULT_SECRET or len(secret) < MIN_SECRET_LENGTH or len(set(secret)) < 8:
        raise InsecureConfiguration(
            f"AUDITRAY_SECRET_KEY must be a random secret of at least {MIN_SECRET_LENGTH} characters, not the "
            "default, when AUDITRAY_ENV=production (e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )


def create_app(
    settings: Settings | None = None,
    *,
    api_settings: ApiSettings | None = None,
    launcher: Launcher | None = None,
    migrate: bool = True,
) -> FastAPI:
    """Build the API for ``settings`` (default: the process settings).

    ``launcher`` decides where runs execute (default: a Ray task each); ``migrate`` upgrades the
    metadata store to the shipped schema first (idempotent, safe with several replicas starting at once).
    """
    from auditray.runs import RayLauncher
    from auditray.settings import get_settings
    from auditray.store import init_db, make_engine
    from auditray.version import code_version

    settings = settings or get_settings()
    refuse_weak_secrets(settings)
    api_settings = api_settings or ApiSettings()
    if settings.is_embedded:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.resolved_database_url
    if migrate:
        init_db(url)
    db = make_engine(url, pool_size=20, max_overflow=20, pool_timeout=30)
    db_read = db.execution_options(sqlite_begin="DEFERRED") if db.dialect.name == "sqlite" else db
    metrics = ApiMetrics()
    state = ApiState(
        settings=settings,
        api=api_settings,
        db=db,
        db_read=db_read,
        launcher=launcher or RayLauncher(),
        limiter=TokenBucketLimiter(api_settings.rate_per_second, api_settings.rate_burst),
        login_limiter=TokenBucketLimiter(api_settings.login_per_minute / 60.0,
                                         max(1, int(api_settings.login_per_minute))),
        metrics=metrics,
        policy=api_settings.policy(),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        # Objects alive at start-up (modules, routes, schemas) live as long as the app: keep them out of
        # the collector's way, so full collections do not stall requests (tail latency).
        gc.collect()
        gc.freeze()
        yield
        db.dispose()

    app = FastAPI(
        title="Auditray API",
        version=code_version(),
        description=DESCRIPTION,
        docs_url="/docs" if api_settings.docs else None,
        redoc_url="/redoc" if api_settings.docs else None,
        lifespan=lifespan,
    )
    app.state.auditray = state
    errors.install(app)
    app.add_middleware(RequestContextMiddleware, metrics=metrics)

    from auditray.api.routes import (
        audit,
        auth,
        datasets,
        engagements,
        evidence,
        findings,
        rag,
        runs,
        system,
        users,
    )

    for module in (system, auth, users, engagements, datasets, runs, findings, audit, evidence, rag):
        app.include_router(module.router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The schema, with FastAPI's default 422 body replaced by the one error format the API really returns."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("ErrorResponse", errors.ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}"))
    body_schema = errors.ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    components.setdefault("ErrorBody", body_schema)
    for defs_name in list(components["ErrorResponse"].get("$defs", {})):
        components.setdefault(defs_name, components["ErrorResponse"]["$defs"][defs_name])
    components["ErrorResponse"].pop("$defs", None)
    error_ref = {"$ref": "#/components/schemas/ErrorResponse"}
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.get("responses", {})
            invalid = responses.get("422")
            if invalid and "HTTPValidationError" in str(invalid):
                invalid["content"] = {"application/json": {"schema": error_ref}}
    if not any("HTTPValidationError" in str(p) for p in schema.get("paths", {}).values()):
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
    app.openapi_schema = schema
    return schema
