"""Signed access and refresh tokens (JWT, HS256 with a key derived from the server secret).

Both name the sign-in session (``sid``) and the user's token version (``ver``): the API checks both
against the store on every request, so logout, revocation and deactivation take effect at once even
though the token itself is still within its lifetime. A refresh token is used once: refreshing returns
a new pair and retires the old refresh token (rotation, RFC 9700 4.14.2).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import jwt
from pydantic import SecretStr

from auditray.auth.keys import derive_key
from auditray.store.types import utc_now

ISSUER = "auditray"
AUDIENCE = "auditray-api"
ALGORITHM = "HS256"
TokenType = Literal["access", "refresh"]


class TokenError(Exception):
    """The token is malformed, forged, expired or of the wrong type; the message says which."""


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    access_expires_at: datetime
    refresh_expires_at: datetime
    refresh_jti: str
    token_type: str = "bearer"


def new_token_id() -> str:
    return secrets.token_hex(16)


def _encode(claims: dict[str, Any], secret: SecretStr | str) -> str:
    return jwt.encode(claims, derive_key(secret, "jwt"), algorithm=ALGORITHM)


def issue_tokens(
    *,
    secret: SecretStr | str,
    user_id: int,
    org_id: int,
    session_id: str,
    token_version: int,
    refresh_expires_at: datetime,
    access_ttl: timedelta,
    refresh_jti: str | None = None,
    now: datetime | None = None,
) -> TokenPair:
    """An access token for ``access_ttl`` and a refresh token that ends with the session."""
    now = now or utc_now()
    access_exp = min(now + access_ttl, refresh_expires_at)
    refresh_jti = refresh_jti or new_token_id()
    common = {"iss": ISSUER, "aud": AUDIENCE, "sub": str(user_id), "org": org_id, "sid": session_id,
              "ver": token_version, "iat": int(now.timestamp())}
    access = _encode({**common, "typ": "access", "jti": new_token_id(), "exp": int(access_exp.timestamp())}, secret)
    refresh = _encode(
        {**common, "typ": "refresh", "jti": refresh_jti, "exp": int(refresh_expires_at.timestamp())}, secret
    )
    return TokenPair(access_token=access, refresh_token=refresh, access_expires_at=access_exp,
                     refresh_expires_at=refresh_expires_at, refresh_jti=refresh_jti)


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    org_id: int
    session_id: str
    token_version: int
    jti: str
    type: TokenType
    expires_at: int


def decode_token(token: str, *, secret: SecretStr | str, expected: TokenType) -> TokenClaims:
    """Verify signature, issuer, audience, expiry and type; return the claims the API relies on."""
    try:
        claims = jwt.decode(
            token, derive_key(secret, "jwt"), algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "jti", "iss", "aud"]}, leeway=5,
        )
    except jwt.ExpiredSignatureError:
        raise TokenError(f"the {expected} token has expired") from None
    except jwt.InvalidTokenError as error:
        raise TokenError(f"the {expected} token is not valid: {error}") from None
    if claims.get("typ") != expected:
        raise TokenError(f"a {claims.get('typ') or 'untyped'} token was given where a {expected} token is needed")
    try:
        return TokenClaims(user_id=int(claims["sub"]), org_id=int(claims["org"]), session_id=str(claims["sid"]),
                           token_version=int(claims["ver"]), jti=str(claims["jti"]), type=expected,
                           expires_at=int(claims["exp"]))
    except (KeyError, TypeError, ValueError):
        raise TokenError(f"the {expected} token lacks the claims Auditray issues") from None
