"""genre enrichment marks

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-27 05:15:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('artists', sa.Column('genres_checked_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('tracks', sa.Column('genres_checked_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('tracks', 'genres_checked_at')
    op.drop_column('artists', 'genres_checked_at')
