"""Per-request context: the request id travels in a context variable so every error can name it."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_request_id: ContextVar[str | None] = ContextVar("auditray_request_id", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def accept_request_id(given: str | None) -> str:
    """The caller's X-Request-ID when it is a sane token, else a fresh one (never echo arbitrary bytes)."""
    if given and _VALID_ID.match(given):
        return given
    return uuid.uuid4().hex


def set_request_id(value: str):
    return _request_id.set(value)


def reset_request_id(token) -> None:
    _request_id.reset(token)
