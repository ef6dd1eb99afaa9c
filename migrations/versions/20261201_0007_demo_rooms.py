"""demo rooms: rooms.is_demo; demo rooms take tracks from their members

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 06:40:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        'rooms', sa.Column('is_demo', sa.Boolean(), server_default='false', nullable=False)
    )
    # Demo rooms seeded before this revision: the ones a demo listener owns.
    op.execute(
        "UPDATE rooms SET is_demo = true, queue_policy = 'members' "
        "WHERE owner_id IN (SELECT id FROM users WHERE is_demo)"
    )


def downgrade() -> None:
    op.drop_column('rooms', 'is_demo')
