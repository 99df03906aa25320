"""Index audit events by resource, and datasets by content hash.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21

Plain ``op.create_index`` rather than a batch operation: on SQLite a batch "recreate" would copy the
audit table and silently drop its append-only triggers.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_audit_events_resource", "audit_events", ["resource_type", "resource_id", "seq"])
    op.create_index("ix_datasets_org_id_content_sha256", "datasets", ["org_id", "content_sha256"])


def downgrade() -> None:
    op.drop_index("ix_datasets_org_id_content_sha256", table_name="datasets")
    op.drop_index("ix_audit_events_resource", table_name="audit_events")
