from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from api.models import ListeningSource
from api.tracks.schemas import TrackBase


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
