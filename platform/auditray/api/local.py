"""The API under plain uvicorn in a background thread: for notebooks, tests and the benchmark's baseline.

``auditray serve`` (Ray Serve) is the real front door; this starts the same app in-process on
127.0.0.1 and a free port, so a notebook can talk HTTP to it without a second terminal.

Example::

    with serve_in_background(create_app(settings)) as server:
        client = auditray.Client(server.url, email=..., password=...)
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from typing import Any, Self


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


@dataclass
class LocalServer:
    url: str
    server: Any
    thread: threading.Thread

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def serve_in_background(app: Any, *, host: str = "127.0.0.1", port: int | None = None,
                        timeout: float = 30.0, **uvicorn_options: Any) -> LocalServer:
    """Start ``app`` with uvicorn (uvloop and httptools when installed, no access log) and wait until it listens."""
    import uvicorn

    port = port or free_port(host)
    options = {"log_level": "warning", "access_log": False, "loop": "auto", "http": "auto", **uvicorn_options}
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, **options))
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]  # not the main thread
    thread = threading.Thread(target=server.run, name=f"auditray-api-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the API did not start on {host}:{port}")
        time.sleep(0.02)
    return LocalServer(url=f"http://{host}:{port}", server=server, thread=thread)
