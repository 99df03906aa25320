"""The Auditray HTTP API (FastAPI), hosted on Ray Serve: ``create_app(settings)`` builds it."""

from auditray.api.app import create_app

__all__ = ["create_app"]
