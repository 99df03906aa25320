"""Keys derived from the one server secret, and API keys for service accounts.

Each use of ``settings.secret_key`` gets its own derived key (HMAC-SHA256 of a purpose label, in the
manner of HKDF's expand step), so a token signing key can never verify an evidence pack and vice versa.
API keys are 256-bit random strings; at rest only their SHA-256 is kept (a fast hash is enough for a
secret this long, and keeps every API request cheap), and the key is shown once.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from pydantic import SecretStr

API_KEY_PREFIX = "ark"
_API_KEY = re.compile(r"^ark_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")


def derive_key(secret: SecretStr | str, purpose: str) -> bytes:
    """A 32-byte key for one purpose ("jwt", "evidence-pack", ...), derived from the server secret."""
    raw = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
    return hmac.new(raw.encode("utf-8"), f"auditray:{purpose}".encode(), hashlib.sha256).digest()


@dataclass(frozen=True)
class NewApiKey:
    """A freshly minted key: ``key`` goes to the caller once; ``prefix`` and ``sha256`` are stored."""

    key: str
    prefix: str
    sha256: str


def new_api_key() -> NewApiKey:
    prefix = secrets.token_hex(6)
    key = f"{API_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    return NewApiKey(key=key, prefix=prefix, sha256=api_key_sha256(key))


def api_key_prefix(key: str) -> str | None:
    """The public prefix of a well-formed key, or None for anything else."""
    match = _API_KEY.match(key)
    return match.group(1) if match else None


def api_key_sha256(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def api_key_matches(key: str, stored_sha256: str) -> bool:
    return hmac.compare_digest(api_key_sha256(key), stored_sha256)
