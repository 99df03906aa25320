"""What one running app holds: settings, database engines, the run launcher, limiters and metrics."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from auditray.api.config import ApiSettings
from auditray.api.metrics import ApiMetrics
from auditray.api.ratelimit import TokenBucketLimiter
from auditray.auth.policy import AuthPolicy

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlmodel import Session

    from auditray.runs import Launcher
    from auditray.settings import Settings


@dataclass
class ApiState:
    settings: Settings
    api: ApiSettings
    db: Engine
    db_read: Engine
    launcher: Launcher
    limiter: TokenBucketLimiter
    login_limiter: TokenBucketLimiter
    metrics: ApiMetrics
    policy: AuthPolicy

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits with its audit events when the block ends, or not at all."""
        from auditray.store import session_scope

        with session_scope(self.db) as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read transaction; on SQLite it does not take the write lock (BEGIN DEFERRED)."""
        from auditray.store import session_scope

        with session_scope(self.db_read) as session:
            yield session
