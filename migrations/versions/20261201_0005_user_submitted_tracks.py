"""user-submitted tracks are marked; images only from Spotify's hosts

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 07:00:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The hosts api.core.security_headers.SPOTIFY_IMAGE_HOSTS names, as of this revision.
_SPOTIFY_IMAGE_URL = (
    r'^https://(i\.scdn\.co|mosaic\.scdn\.co|image-cdn-ak\.spotifycdn\.com'
    r'|image-cdn-fa\.spotifycdn\.com|seed-mix-image\.spotifycdn\.com)/'
)


def upgrade() -> None:
    op.add_column(
        'tracks',
        sa.Column('user_submitted', sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    # An image anywhere else was posted by a listener and would reach every other listener's
    # browser (their address, their listening times): those tracks are marked, the URLs go.
    op.execute(
        sa.text(
            "UPDATE tracks SET user_submitted = true, image_url = NULL "
            "WHERE image_url IS NOT NULL AND image_url !~ :pattern"
        ).bindparams(pattern=_SPOTIFY_IMAGE_URL)
    )


def downgrade() -> None:
    op.drop_column('tracks', 'user_submitted')
