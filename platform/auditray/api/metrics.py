"""Prometheus metrics of the API: requests by route and status, latency, rate-limit refusals.

Each app gets its own registry, so several apps in one process (tests, uvicorn beside Serve) never
collide; ``/metrics`` serves it in the text exposition format.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("auditray_api_requests_total", "HTTP requests by method, route and status",
                                ("method", "route", "status"), registry=self.registry)
        self.latency = Histogram("auditray_api_request_duration_seconds", "Request latency by method and route",
                                 ("method", "route"), buckets=_BUCKETS, registry=self.registry)
        self.in_flight = Gauge("auditray_api_requests_in_flight", "Requests being handled",
                               registry=self.registry)
        self.rate_limited = Counter("auditray_api_rate_limited_total", "Requests refused by the rate limiter",
                                    ("scope",), registry=self.registry)
        self.logins = Counter("auditray_api_logins_total", "Sign-in attempts by outcome", ("outcome",),
                              registry=self.registry)
        self.runs_started = Counter("auditray_api_runs_started_total", "Runs started by kind", ("kind",),
                                    registry=self.registry)

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
