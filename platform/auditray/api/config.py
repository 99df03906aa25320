"""The API's own knobs (``AUDITRAY_API_*``), beside the platform's one ``Settings`` object.

Secrets are not here: the API signs with ``Settings.secret_key``, which refuses weak or default values
when ``AUDITRAY_ENV=production``.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from auditray.auth.policy import AuthPolicy


class ApiSettings(BaseSettings):
    """Rate limits, upload limits, token lifetimes and lockout; defaults suit one firm on one machine."""

    model_config = SettingsConfigDict(env_prefix="AUDITRAY_API_", extra="ignore")

    rate_per_second: float = Field(default=20.0, gt=0, description="Sustained requests per second per user.")
    rate_burst: int = Field(default=120, ge=1, description="Requests a user may make at once before throttling.")
    login_per_minute: float = Field(default=20.0, gt=0, description="Sign-in attempts per minute per client address.")
    max_upload_mb: int = Field(default=2048, ge=1, description="Largest file accepted by an upload route.")
    max_attachment_mb: int = Field(default=50, ge=1)
    access_ttl_minutes: int = Field(default=60, ge=1, le=24 * 60)
    refresh_ttl_days: int = Field(default=7, ge=1, le=90)
    max_failed_logins: int = Field(default=5, ge=1)
    failure_window_minutes: int = Field(default=15, ge=1)
    lockout_minutes: int = Field(default=15, ge=1)
    docs: bool = Field(default=True, description="Serve /docs and /redoc (the OpenAPI schema is always served).")

    def policy(self) -> AuthPolicy:
        from datetime import timedelta

        return AuthPolicy(
            access_ttl=timedelta(minutes=self.access_ttl_minutes),
            refresh_ttl=timedelta(days=self.refresh_ttl_days),
            max_failed_logins=self.max_failed_logins,
            failure_window=timedelta(minutes=self.failure_window_minutes),
            lockout=timedelta(minutes=self.lockout_minutes),
        )
