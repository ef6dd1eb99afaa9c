from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel

from api.models import ListeningSource
from api.tracks.schemas import TrackBase

if TYPE_CHECKING:
    from api.history.repository import HistoryRow
    from api.models import Track


class HistoryRoom(BaseModel):
    id: uuid.UUID
    name: str


class HistoryItem(BaseModel):
    id: int
    played_at: datetime
    ms_played: int
    # "room": heard in a TuneWave room; "spotify": imported from Spotify; "demo": demo data.
    source: ListeningSource
    # The room it was heard in; null for imported plays and for rooms since deleted.
    room: HistoryRoom | None
    track: TrackBase

    @classmethod
    def from_row(cls, row: HistoryRow, track: Track) -> HistoryItem:
        """A play and its track (artists and genres loaded)."""
        return cls(
            id=row.id,
            played_at=row.played_at,
            ms_played=row.ms_played,
            source=row.source,
            room=HistoryRoom(id=row.room_id, name=row.room_name)
            if row.room_id is not None and row.room_name is not None
            else None,
            track=TrackBase.from_track(track),
        )


class HistoryPage(BaseModel):
    items: list[HistoryItem]
    # Pass as ``before`` for the next (older) page; null on the last page.
    next_before: str | None


class GenreCount(BaseModel):
    slug: str
    name: str
    plays: int


class ArtistCount(BaseModel):
    id: uuid.UUID
    name: str
    plays: int


class ListeningSummary(BaseModel):
    plays: int
    ms_played: int
    first_played_at: datetime | None
    last_played_at: datetime | None
    top_genres: list[GenreCount]
    top_artists: list[ArtistCount]
