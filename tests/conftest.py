"""Fixtures shared by the whole suite: one local Ray for the session, and isolated settings."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

pytest_plugins = ["tests.store_fixtures"]

os.environ.setdefault("RAY_SERVE_PROXY_READY_CHECK_TIMEOUT_S", "60")
os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def ray_session() -> Iterator[None]:
    """One local Ray for the whole suite: two CPUs, a modest object store."""
    import ray

    if not ray.is_initialized():
        ray.init(
            num_cpus=2,
            object_store_memory=1_500 * 1024 * 1024,
            include_dashboard=False,
            log_to_driver=False,
        )
    yield
    ray.shutdown()


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Settings for the embedded default under a fresh data directory."""
    from auditray.settings import get_settings

    for key in list(os.environ):
        if key.startswith("AUDITRAY_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("AUDITRAY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("AUDITRAY_ENV", "test")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()
