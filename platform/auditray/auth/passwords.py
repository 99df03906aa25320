"""Password hashing with argon2id (the OWASP-recommended default) and a minimal password policy."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256


class PasswordPolicyError(ValueError):
    """The password is too weak to set; the message says why."""


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    return PasswordHasher()


def check_password_policy(password: str, *, email: str | None = None) -> None:
    """Length rules after NIST SP 800-63B 5.1.1.2: at least 12 characters, no composition rules."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordPolicyError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordPolicyError(f"a password has at most {MAX_PASSWORD_LENGTH} characters")
    if email and password.strip().lower() in {email.lower(), email.split("@")[0].lower()}:
        raise PasswordPolicyError("a password must not be the email address")
    if len(set(password)) < 4:
        raise PasswordPolicyError("a password must not repeat the same few characters")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; a missing hash still costs one hash, so timing reveals nothing."""
    if not password_hash:
        _burn(password)
        return False
    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the stored hash uses weaker parameters than today's: rehash at the next login."""
    try:
        return _hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher().hash("auditray timing equaliser")


def _burn(password: str) -> None:
    try:
        _hasher().verify(_dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        pass
