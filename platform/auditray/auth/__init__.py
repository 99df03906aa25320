"""Who is calling: passwords (argon2), signed tokens (JWT), API keys, sign-in sessions and lockout.

The primitives (``passwords``, ``tokens``, ``keys``) are pure functions; ``services`` changes the store
and records every change in the audit trail, like ``auditray.store.services``. Authorization (what a
caller may do) is decided elsewhere, in one place: ``auditray.permissions``.
"""

from auditray.auth.passwords import PasswordPolicyError, check_password_policy, hash_password, verify_password
from auditray.auth.policy import AuthPolicy
from auditray.auth.tokens import TokenError, TokenPair, decode_token, issue_tokens

__all__ = [
    "AuthPolicy",
    "PasswordPolicyError",
    "TokenError",
    "TokenPair",
    "check_password_policy",
    "decode_token",
    "hash_password",
    "issue_tokens",
    "verify_password",
]
