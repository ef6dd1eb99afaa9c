from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from api.recommendations.schemas import ReasonPart, RecommendedPerson, RecommendedRoom
from api.tracks.schemas import TrackBase

# "published": the graph the worker published; "on_demand": built from PostgreSQL for this
# answer because none was published; "none": nobody has played anything yet.
GraphSource = Literal["published", "on_demand", "none"]
# "taste_neighbours": played by the listener's nearest people by taste (the published people
# recommendations); "adjacent": next to the listener's genres in co-listening; "popular":
# widely played (a listener with no plays and no favourites, or nothing else left).
ExploreBasis = Literal["taste_neighbours", "adjacent", "popular"]


class GenreRef(BaseModel):
    slug: str
    name: str


class GenreRoom(BaseModel):
    room: RecommendedRoom
    # What plays now is of this genre (else the room is only tagged with it).
    playing_now: bool
    tagged: bool

    @classmethod
    def from_snapshot(cls, room: dict[str, Any], slug: str) -> GenreRoom:
        """A room of the recommendations' live-rooms snapshot."""
        now_playing = room["now_playing"]
        return cls(
            room=RecommendedRoom.from_snapshot(room),
            playing_now=bool(now_playing and slug in now_playing["genres"]),
            tagged=slug in room["genres"],
        )


class GenreTrack(BaseModel):
    track: TrackBase
    # Plays on TuneWave in the last 30 days.
    recent_plays: int


class GenreFanItem(BaseModel):
    user: RecommendedPerson
    reason: str
    reason_parts: list[ReasonPart]
    # Plays of the genre's tracks, all time, and whether it is among their favourites.
    genre_plays: int
    favourite: bool


class GenrePage(BaseModel):
    genre: GenreRef
    track_count: int
    # Public rooms playing the genre now first, then those tagged with it.
    rooms: list[GenreRoom]
    top_tracks: list[GenreTrack]
    people: list[GenreFanItem]
    # The genres most co-listened with it (the genre graph), closest first.
    related: list[GenreRef]


class GenreToExplore(BaseModel):
    genre: GenreRef
    score: float
    reason: str
    reason_parts: list[ReasonPart]
    basis: ExploreBasis
    # A public room playing the genre right now, the one with most people there; or null.
    room: RecommendedRoom | None
    # Up to 3 of the genre's top tracks the listener has not played.
    tracks: list[TrackBase]


class GenresToExplore(BaseModel):
    items: list[GenreToExplore]
    graph: GraphSource
    graph_built_at: datetime | None
