"""Trial-balance account mappings, auditor overrides and prior-period maps (filled in by the TB normalization work).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

Reserved in the chain so that parallel work can land its tables without forking the migration history.
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
