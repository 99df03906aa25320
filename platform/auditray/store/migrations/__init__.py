"""Alembic environment shipped inside the package; configured in code by ``auditray.store.db``."""
