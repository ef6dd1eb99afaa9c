from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy import false as sa_false
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.models.base import Base, TimestampMixin, uuid_pk


class Genre(Base):
    """One entry of the genre vocabulary shared by tracks, artists, rooms and profiles."""

    __tablename__ = "genres"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Normalised key ("r&b", "indie rock"); `name` is how people read it.
    slug: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(64), nullable=False)


class Artist(TimestampMixin, Base):
    __tablename__ = "artists"

    id: Mapped[uuid.UUID] = uuid_pk()
    spotify_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255), nullable=False, index=True)
    image_url: Mapped[str | None] = mapped_column(Text)
    # When genre enrichment last looked this artist up (None: never), so an artist the
    # provider knows no genres for is not asked about again every hour.
    genres_checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    genres: Mapped[list[Genre]] = relationship(
        secondary="artist_genres", lazy="raise", order_by="Genre.name"
    )


# 'simple': no stemming or stop words, so names ("The The", "Live") are found as typed.
TRACK_SEARCH_VECTOR = (
    "setweight(to_tsvector('simple', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('simple', coalesce(artist_names, '')), 'A') || "
    "setweight(to_tsvector('simple', coalesce(album, '')), 'C')"
)


class Track(TimestampMixin, Base):
    __tablename__ = "tracks"
    __table_args__ = (Index("ix_tracks_search_vector", "search_vector", postgresql_using="gin"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    spotify_id: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    title: Mapped[str] = mapped_column(String(512), nullable=False)
    # The artists' names in credit order, kept with the track for search and listings.
    artist_names: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")
    album: Mapped[str | None] = mapped_column(String(512))
    duration_ms: Mapped[int] = mapped_column(Integer, nullable=False)
    image_url: Mapped[str | None] = mapped_column(Text)
    popularity: Mapped[int | None] = mapped_column(SmallInteger)
    release_date: Mapped[str | None] = mapped_column(String(10))
    # When genre enrichment last filled this track's genres (None: never).
    genres_checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Metadata a listener posted (POST /track/) that Spotify did not vouch for.
    user_submitted: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=sa_false()
    )
    search_vector: Mapped[str] = mapped_column(
        TSVECTOR, Computed(TRACK_SEARCH_VECTOR, persisted=True), deferred=True
    )

    artists: Mapped[list[Artist]] = relationship(
        secondary="track_artists", lazy="raise", order_by="TrackArtist.position"
    )
    genres: Mapped[list[Genre]] = relationship(
        secondary="track_genres", lazy="raise", order_by="Genre.name"
    )


class TrackArtist(Base):
    __tablename__ = "track_artists"

    track_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tracks.id", ondelete="CASCADE"), primary_key=True
    )
    artist_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("artists.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=0)


class TrackGenre(Base):
    __tablename__ = "track_genres"

    track_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tracks.id", ondelete="CASCADE"), primary_key=True
    )
    genre_id: Mapped[int] = mapped_column(
        ForeignKey("genres.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ArtistGenre(Base):
    __tablename__ = "artist_genres"

    artist_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("artists.id", ondelete="CASCADE"), primary_key=True
    )
    genre_id: Mapped[int] = mapped_column(
        ForeignKey("genres.id", ondelete="CASCADE"), primary_key=True, index=True
    )
