"""Journal-entry findings and their dispositions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

``findings`` holds the flagged items of a run (one journal entry each for ``kind='je_entry'``) with their risk,
tests and reasons; ``finding_dispositions`` the auditors' conclusions about them, appended, never edited.
Types follow 0001: plain SQLAlchemy types, VARCHAR(32) enums without CHECK, time zone-aware timestamps.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHEN = sa.DateTime(timezone=True)
_ENUM = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("engagement_id", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.Column("item_key", sa.String(128), nullable=False),
        sa.Column("risk_score", sa.Float(), nullable=False),
        sa.Column("risk_band", sa.String(16), nullable=False),
        sa.Column("tests", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("status", _ENUM, nullable=False),
        sa.Column("tests_index", sa.Text(), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["engagement_id"], ["engagements.id"], name=op.f("fk_findings_engagement_id_engagements")
        ),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], name=op.f("fk_findings_org_id_organizations")),
        sa.ForeignKeyConstraint(["run_id"], ["job_runs.id"], name=op.f("fk_findings_run_id_job_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_findings")),
        sa.UniqueConstraint(
            "run_id", "kind", "entity_id", "item_key", name=op.f("uq_findings_run_id_kind_entity_id_item_key")
        ),
    )
    op.create_index(op.f("ix_findings_engagement_id"), "findings", ["engagement_id"])
    op.create_index(op.f("ix_findings_org_id"), "findings", ["org_id"])
    op.create_index(op.f("ix_findings_run_id"), "findings", ["run_id"])
    op.create_index("ix_findings_run_id_risk_score", "findings", ["run_id", "risk_score"])

    op.create_table(
        "finding_dispositions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=False),
        sa.Column("disposition", _ENUM, nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("evidence_uri", sa.String(2048), nullable=True),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["finding_id"], ["findings.id"], name=op.f("fk_finding_dispositions_finding_id_findings")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_finding_dispositions_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finding_dispositions")),
    )
    op.create_index(op.f("ix_finding_dispositions_finding_id"), "finding_dispositions", ["finding_id"])
    op.create_index(op.f("ix_finding_dispositions_org_id"), "finding_dispositions", ["org_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_finding_dispositions_org_id"), table_name="finding_dispositions")
    op.drop_index(op.f("ix_finding_dispositions_finding_id"), table_name="finding_dispositions")
    op.drop_table("finding_dispositions")
    op.drop_index("ix_findings_run_id_risk_score", table_name="findings")
    op.drop_index(op.f("ix_findings_run_id"), table_name="findings")
    op.drop_index(op.f("ix_findings_org_id"), table_name="findings")
    op.drop_index(op.f("ix_findings_engagement_id"), table_name="findings")
    op.drop_table("findings")
