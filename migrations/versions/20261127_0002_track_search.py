"""track search

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 03:43:54.700849

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('tracks', sa.Column('artist_names', sa.Text(), server_default='', nullable=False))
    # Tracks stored before this revision get their artists' names, in credit order.
    op.execute(
        """
        UPDATE tracks SET artist_names = credits.names
        FROM (
            SELECT track_artists.track_id,
                   string_agg(artists.name, ', ' ORDER BY track_artists.position) AS names
            FROM track_artists JOIN artists ON artists.id = track_artists.artist_id
            GROUP BY track_artists.track_id
        ) AS credits
        WHERE credits.track_id = tracks.id
        """
    )
    op.add_column('tracks', sa.Column('search_vector', postgresql.TSVECTOR(), sa.Computed("setweight(to_tsvector('simple', coalesce(title, '')), 'A') || setweight(to_tsvector('simple', coalesce(artist_names, '')), 'A') || setweight(to_tsvector('simple', coalesce(album, '')), 'C')", persisted=True), nullable=False))
    op.create_index('ix_tracks_search_vector', 'tracks', ['search_vector'], unique=False, postgresql_using='gin')


def downgrade() -> None:
    op.drop_index('ix_tracks_search_vector', table_name='tracks', postgresql_using='gin')
    op.drop_column('tracks', 'search_vector')
    op.drop_column('tracks', 'artist_names')
