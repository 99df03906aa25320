"""Auditray.

``import auditray`` stays light: ``auditray.Client`` (the API client, with httpx) loads on first use.
"""

from typing import Any

__all__ = ["Client"]


def __getattr__(name: str) -> Any:
    if name == "Client":
        from auditray.client import Client

        return Client
    raise AttributeError(f"module 'auditray' has no attribute {name!r}")
