"""The Auditray API on Ray Serve: ``serve run serve_apps/serve_config.yaml`` (or ``serve_apps.api:app``).

A thin adapter: the deployment lives in ``auditray.api.serve`` (so ``auditray serve`` works from an
installed package) and builds the FastAPI app of ``auditray.api.create_app`` inside each replica.
Settings come from the replicas' environment (``AUDITRAY_*``); the Serve config may pass overrides as
``args`` to ``build_app``.
"""

from auditray.api.serve import AuditrayAPI, build_app

# `import_path: serve_apps.api:app` in the Serve config; `serve_apps.api:build_app` takes args.
app = build_app()

__all__ = ["AuditrayAPI", "app", "build_app"]
