"""Trial-balance account mappings: auditors' overrides and each period's saved mapping, per client.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

``tb_mapping_overrides`` holds one decision per (organization, client, account number) with its reason, who
set it and when; ``tb_period_mappings`` one row per account of each saved period (entity, fiscal year,
period), which the next period reads as its prior-period layer. Types follow 0001: plain SQLAlchemy types,
time zone-aware timestamps.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tb_mapping_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("client_key", sa.String(200), nullable=False),
        sa.Column("gl_account_number", sa.String(64), nullable=False),
        sa.Column("account_name", sa.String(500), nullable=True),
        sa.Column("fsli", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("set_by", sa.String(320), nullable=False),
        sa.Column("set_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_tb_mapping_overrides_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tb_mapping_overrides")),
        sa.UniqueConstraint(
            "org_id", "client_key", "gl_account_number",
            name=op.f("uq_tb_mapping_overrides_org_id_client_key_gl_account_number"),
        ),
    )
    op.create_index(op.f("ix_tb_mapping_overrides_org_id"), "tb_mapping_overrides", ["org_id"])

    op.create_table(
        "tb_period_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("engagement_id", sa.Integer(), nullable=True),
        sa.Column("client_key", sa.String(200), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("gl_account_number", sa.String(64), nullable=False),
        sa.Column("account_name", sa.String(500), nullable=True),
        sa.Column("fsli", sa.String(64), nullable=True),
        sa.Column("sub_line", sa.String(64), nullable=True),
        sa.Column("suggested_fsli", sa.String(64), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("mapping_source", sa.String(32), nullable=True),
        sa.Column("needs_review", sa.Boolean(), nullable=False),
        sa.Column("run_hash", sa.String(64), nullable=False),
        sa.Column("saved_by", sa.String(320), nullable=False),
        sa.Column("saved_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["engagement_id"], ["engagements.id"], name=op.f("fk_tb_period_mappings_engagement_id_engagements")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_tb_period_mappings_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tb_period_mappings")),
        sa.UniqueConstraint(
            "org_id", "client_key", "entity_id", "fiscal_year", "period", "gl_account_number",
            name=op.f("uq_tb_period_mappings_org_id_client_key_entity_id_fiscal_year_period_gl_account_number"),
        ),
    )
    op.create_index(op.f("ix_tb_period_mappings_engagement_id"), "tb_period_mappings", ["engagement_id"])
    op.create_index(op.f("ix_tb_period_mappings_org_id"), "tb_period_mappings", ["org_id"])
    op.create_index(
        "ix_tb_period_mappings_client_period", "tb_period_mappings", ["org_id", "client_key", "fiscal_year", "period"]
    )


def downgrade() -> None:
    op.drop_index("ix_tb_period_mappings_client_period", table_name="tb_period_mappings")
    op.drop_index(op.f("ix_tb_period_mappings_org_id"), table_name="tb_period_mappings")
    op.drop_index(op.f("ix_tb_period_mappings_engagement_id"), table_name="tb_period_mappings")
    op.drop_table("tb_period_mappings")
    op.drop_index(op.f("ix_tb_mapping_overrides_org_id"), table_name="tb_mapping_overrides")
    op.drop_table("tb_mapping_overrides")
