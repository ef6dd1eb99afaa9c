from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel

from api.tracks.schemas import TrackBase

# "model": the trained model's published answer; "genres": matched on the listener's genres;
# "popular": what is popular (new listeners, or nothing closer).
Basis = Literal["model", "genres", "popular"]


class ReasonPart(BaseModel):
    """One translatable piece of a reason: a stable ``code`` and its ``params`` (genre slugs,
    names, counts). Every code is listed in docs/recommendations.md."""

    code: str
    params: dict[str, str | int | float | list[str]]


class TrackRecommendation(BaseModel):
    track: TrackBase
    score: float
    reason: str
    # The reason in parts a client translates; empty only for answers of a model published
    # before reasons had parts (show ``reason`` then).
    reason_parts: list[ReasonPart]
    basis: Basis


class RecommendedPerson(BaseModel):
    id: uuid.UUID
    display_name: str
    avatar_url: str | None
    # Demo listeners are built from the bundled catalog's playlists, not real people.
    is_demo: bool


class PersonRecommendation(BaseModel):
    user: RecommendedPerson
    score: float
    reason: str
    # The reason in parts a client translates; empty only for answers of a model published
    # before reasons had parts (show ``reason`` then).
    reason_parts: list[ReasonPart]
    shared_genres: list[str]
    basis: Basis


class RecommendedRoom(BaseModel):
    id: uuid.UUID
    name: str
    description: str
    is_private: bool
    genres: list[str]
    member_count: int
    # Distinct people connected to the room's live channel (presence), at most ~10 s old.
    online_count: int
    is_demo: bool
    now_playing: TrackBase | None

    @classmethod
    def from_snapshot(cls, room: Mapping[str, Any]) -> RecommendedRoom:
        """A room of the live-rooms snapshot (``RecommendationsService.live_rooms``)."""
        return cls.model_validate(
            {
                "id": room["id"],
                "name": room["name"],
                "description": room["description"],
                "is_private": room["is_private"],
                "genres": room["genres"],
                "member_count": room["member_count"],
                "online_count": room["online_count"],
                "is_demo": room["is_demo"],
                "now_playing": room["now_playing"],
            }
        )


class RoomRecommendation(BaseModel):
    room: RecommendedRoom
    score: float
    reason: str
    # The reason in parts a client translates; empty only for answers of a model published
    # before reasons had parts (show ``reason`` then).
    reason_parts: list[ReasonPart]
    basis: Basis


class TrackRecommendations(BaseModel):
    items: list[TrackRecommendation]
    # The published model version the answer came from; null when it came from fallbacks.
    model_version: str | None


class PersonRecommendations(BaseModel):
    items: list[PersonRecommendation]
    model_version: str | None


class RoomRecommendations(BaseModel):
    items: list[RoomRecommendation]
    model_version: str | None


# How a room's listeners' tastes are combined (recommender.groups).
GroupStrategy = Literal["average", "least_misery", "blend"]


class RoomTrackRecommendation(BaseModel):
    track: TrackBase
    score: float
    reason: str
    reason_parts: list[ReasonPart]
    # How many of the people counted have this track among their own recommendations.
    liked_by: int


class RoomTrackRecommendations(BaseModel):
    items: list[RoomTrackRecommendation]
    strategy: GroupStrategy
    # The people whose tastes were combined: those present now, else the room's members.
    listeners: int
    basis: Literal["present", "members"]
    model_version: str | None
