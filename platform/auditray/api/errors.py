"""One error format for every failure: ``{"error": {"code", "message", "details", "request_id"}}``.

Validation errors, unknown routes, refused permissions, store rule violations and rejected uploads all
take this shape, so a client handles errors in one place. Store exceptions keep their auditor-facing
message; unexpected exceptions answer 500 with only the request id (the detail goes to the log).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from auditray.api.context import REQUEST_ID_HEADER, current_request_id

log = logging.getLogger("auditray.api")


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None
    request_id: str | None = None


class ErrorResponse(BaseModel):
    """Every error the API returns has this shape."""

    error: ErrorBody


class ApiError(Exception):
    """An error to return as it is: status, stable code, a message for people, optional details."""

    def __init__(self, status: int, code: str, message: str, details: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details
        self.headers = headers or {}


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


def error_response(status: int, code: str, message: str, details: Any = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    request_id = current_request_id()
    body = {"error": {"code": code, "message": message, "details": jsonable_encoder(details),
                      "request_id": request_id}}
    all_headers = dict(headers or {})
    if request_id:
        all_headers[REQUEST_ID_HEADER] = request_id
    return JSONResponse(body, status_code=status, headers=all_headers)


_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 406: "not_acceptable", 409: "conflict", 413: "payload_too_large",
               415: "unsupported_media_type", 422: "validation_error", 423: "locked", 429: "rate_limited",
               500: "internal_error", 503: "unavailable"}


def _store_error(error: Exception) -> tuple[int, str]:
    from auditray.store import (
        AlreadyExists,
        AuditChainConflict,
        EngagementFinalized,
        InvalidRunState,
        InvalidTransition,
        NotFound,
        TenantMismatch,
    )

    for kind, status, code in (
        (NotFound, 404, "not_found"),
        (TenantMismatch, 404, "not_found"),
        (EngagementFinalized, 409, "engagement_finalized"),
        (AlreadyExists, 409, "already_exists"),
        (InvalidTransition, 409, "invalid_transition"),
        (InvalidRunState, 409, "invalid_run_state"),
        (AuditChainConflict, 503, "retry"),
    ):
        if isinstance(error, kind):
            return status, code
    return 409, "rule_violation"


def install(app: FastAPI) -> None:
    """Register the handlers that give every error the one format."""
    from auditray.auth.passwords import PasswordPolicyError
    from auditray.store import StoreError

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, error: ApiError) -> JSONResponse:
        return error_response(error.status, error.code, error.message, error.details, error.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(error.status_code, "http_error")
        message = error.detail if isinstance(error.detail, str) else code.replace("_", " ")
        if error.status_code == 404 and message == "Not Found":
            message = "no such route"
        return error_response(error.status_code, code, message, None if isinstance(error.detail, str) else
                              error.detail, dict(error.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
        details = [{"location": list(e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type", "")}
                   for e in error.errors()]
        first = details[0] if details else None
        where = ".".join(str(part) for part in first["location"]) if first else "request"
        message = f"invalid request: {where}: {first['message']}" if first else "invalid request"
        return error_response(422, "validation_error", message, details)

    @app.exception_handler(StoreError)
    async def _store(_request: Request, error: StoreError) -> JSONResponse:
        status, code = _store_error(error)
        return error_response(status, code, str(error))

    @app.exception_handler(PasswordPolicyError)
    async def _weak_password(_request: Request, error: PasswordPolicyError) -> JSONResponse:
        return error_response(422, "weak_password", str(error))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s (request %s)", request.method, request.url.path,
                      current_request_id())
        return error_response(500, "internal_error", "an unexpected error occurred; quote the request id")
