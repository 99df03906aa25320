"""The numbers behind sign-in: token lifetimes and the lockout rule, in one place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class AuthPolicy:
    """Token lifetimes and lockout.

    Short-lived access tokens limit what a leaked token is worth; the refresh token keeps a working
    day's session without re-entering the password. Five failures in fifteen minutes lock the account
    for fifteen minutes: enough to stop guessing, short enough not to need the help desk.
    """

    access_ttl: timedelta = timedelta(hours=1)
    refresh_ttl: timedelta = timedelta(days=7)
    max_failed_logins: int = 5
    failure_window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)
