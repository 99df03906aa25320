"""Pure ASGI middleware (no BaseHTTPMiddleware: it costs a task per request): request ids and metrics."""

from __future__ import annotations

import time
from typing import Any

from auditray.api.context import REQUEST_ID_HEADER, accept_request_id, set_request_id
from auditray.api.metrics import ApiMetrics

_HEADER = REQUEST_ID_HEADER.lower().encode()


class RequestContextMiddleware:
    """Accepts or assigns X-Request-ID, returns it on every response, and records the request's metrics."""

    def __init__(self, app: Any, metrics: ApiMetrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = None
        for name, value in scope.get("headers") or ():
            if name == _HEADER:
                given = value.decode("latin-1")
                break
        request_id = accept_request_id(given)
        set_request_id(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        raw_id = request_id.encode()
        status_holder = [500]

        async def send_with_id(message: dict) -> None:
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != _HEADER]
                headers.append((_HEADER, raw_id))
                message = {**message, "headers": headers}
            await send(message)

        started = time.perf_counter()
        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self.metrics.in_flight.dec()
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            self.metrics.requests.labels(method, template, str(status_holder[0])).inc()
            self.metrics.latency.labels(method, template).observe(time.perf_counter() - started)
