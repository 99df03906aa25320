"""Journal-entry findings and their dispositions (filled in by the JE testing work).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

Reserved in the chain so that parallel work can land its tables without forking the migration history.
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
