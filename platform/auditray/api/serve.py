"""The API as a Ray Serve deployment: each replica builds the app with ``create_app`` when it starts.

The FastAPI app holds database engines and locks, which cannot travel between processes, so the
deployment uses Serve's late-bound ingress (``__serve_build_asgi_app__``): the replica builds its own app
from the settings in its environment (``AUDITRAY_*``) plus any overrides passed as arguments.

Replicas ask for no CPU of their own by default (``num_cpus: 0``): the API is I/O-bound and its runs go
to the cluster as Ray tasks. Throughput comes from replicas x ``max_ongoing_requests``; Serve's HAProxy
ingress (``RAY_SERVE_ENABLE_HA_PROXY=1`` before Ray starts) and disabled access logs take the proxy
off the critical path (see ``benchmarks/api_bench.py``).
"""

from __future__ import annotations

from typing import Any

from ray import serve

DEPLOYMENT_NAME = "AuditrayAPI"
DEFAULT_MAX_ONGOING_REQUESTS = 64


@serve.deployment(
    name=DEPLOYMENT_NAME,
    ray_actor_options={"num_cpus": 0},
    max_ongoing_requests=DEFAULT_MAX_ONGOING_REQUESTS,
    health_check_period_s=10,
    logging_config={"enable_access_log": False},
)
@serve.ingress()
class AuditrayAPI:
    """One API replica. ``settings`` and ``api_settings`` override the environment's values."""

    def __init__(self, settings: dict[str, Any] | None = None, api_settings: dict[str, Any] | None = None,
                 launcher: str = "ray") -> None:
        self._settings = dict(settings or {})
        self._api_settings = dict(api_settings or {})
        self._launcher = launcher

    async def self_check(self, path: str = "/health") -> dict[str, Any]:
        """GET ``path`` on this replica's own app in-process: proves the wiring without the HTTP proxy
        (Serve's local testing mode has none)."""
        import httpx

        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://replica") as client:
            response = await client.get(path)
        return {"status": response.status_code, "headers": dict(response.headers), "body": response.json()}

    def __serve_build_asgi_app__(self):
        from auditray.api import create_app
        from auditray.api.config import ApiSettings
        from auditray.runs import InlineLauncher, RayLauncher
        from auditray.settings import Settings

        launcher = InlineLauncher() if self._launcher == "inline" else RayLauncher()
        return create_app(Settings(**self._settings), api_settings=ApiSettings(**self._api_settings),
                          launcher=launcher)


def build_app(args: dict[str, Any] | None = None) -> serve.Application:
    """An application builder for ``serve run`` / ``serve deploy`` and ``auditray serve``.

    ``args`` may hold ``settings`` and ``api_settings`` (overrides), ``launcher`` ("ray" or "inline"),
    ``num_replicas`` and ``max_ongoing_requests``.
    """
    args = dict(args or {})
    options: dict[str, Any] = {}
    for key in ("num_replicas", "max_ongoing_requests", "ray_actor_options"):
        if key in args:
            options[key] = args.pop(key)
    deployment = AuditrayAPI.options(**options) if options else AuditrayAPI
    return deployment.bind(args.get("settings"), args.get("api_settings"), args.get("launcher", "ray"))
