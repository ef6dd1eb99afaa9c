"""Tracks for the people in a room: each listener's own recommendations, combined.

The room's auto-DJ asks for ``GET /recommendations/rooms/{room_id}/tracks``. The people are
those present in the room right now (presence), or the room's members when nobody is
connected. Each person's list is what ``GET /recommendations/tracks`` would answer them (the
published model, else their genres, else popularity); a track's per-person satisfaction is
``1 - rank / len(list)``, 1 for a track they have played themselves (it is theirs), 0 when it
is neither; the per-track satisfactions are combined with
:func:`recommender.groups.aggregate` (average, least misery or a blend).
See docs/recommendations.md.
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING

import numpy as np
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.exceptions import NotFound
from api.models import User
from api.realtime.presence import users_key
from api.recommendations import store
from api.recommendations.reasons import join_words
from api.recommendations.repository import recommendations_repository
from api.recommendations.schemas import (
    ReasonPart,
    RoomTrackRecommendation,
    RoomTrackRecommendations,
    TrackRecommendation,
)
from api.recommendations.service import MAX_LIMIT, recommendations_service
from api.rooms.repository import rooms_repository
from api.rooms.service import RoomsService
from api.tracks.schemas import TrackBase

if TYPE_CHECKING:
    from recommender.groups import Strategy

MAX_PEOPLE = 20


async def present_user_ids(redis: Redis, room_id: uuid.UUID) -> list[str]:
    now_ms = int(time.time() * 1000)
    ids: list[str] = await redis.zrangebyscore(  # type: ignore[assignment]
        users_key(str(room_id)), now_ms, "+inf"
    )
    return ids


async def room_tracks(
    session: AsyncSession,
    redis: Redis,
    room_id: uuid.UUID,
    user: User,
    limit: int,
    strategy: Strategy,
) -> RoomTrackRecommendations:
    room = await rooms_repository.get(session, room_id)
    if room is None:
        raise NotFound("room not found")
    membership = await rooms_repository.get_membership(session, room_id, user.id)
    RoomsService.check_can_see_inside(room, user, membership)
    members = await rooms_repository.members(session, room_id)
    names = {str(member.id): member.display_name for member in members}
    present = await present_user_ids(redis, room_id)
    basis = "present" if present else "members"
    people = (present or [str(member.id) for member in members])[:MAX_PEOPLE]
    lists: list[list[TrackRecommendation]] = []
    for person in people:
        items, _version = await recommendations_service.tracks(
            session, redis, uuid.UUID(person), MAX_LIMIT
        )
        lists.append(items)
    version = await store.live_version(redis)
    tracks: dict[str, TrackBase] = {}
    for items in lists:
        for entry in items:
            tracks.setdefault(entry.track.spotify_id, entry.track)
    if not tracks:
        return RoomTrackRecommendations(
            items=[],
            strategy=strategy,
            listeners=len(people),
            basis=basis,
            model_version=version,
        )
    keys = list(tracks)
    satisfaction = _satisfaction(people, lists, keys)
    played = await recommendations_repository.played_spotify_ids(
        session, [uuid.UUID(person) for person in people], keys
    )
    column = {key: j for j, key in enumerate(keys)}
    person_index = {person: p for p, person in enumerate(people)}
    for user_id, spotify_id in played:
        satisfaction[person_index[str(user_id)], column[spotify_id]] = 1.0
    # Imported here: API processes load the recommender (pandas) only when it is used.
    from recommender.groups import aggregate

    group = aggregate(satisfaction, strategy)
    order = np.argsort(-group, kind="stable")[:limit]
    out = [
        _recommendation(
            tracks[keys[j]], float(group[j]), satisfaction[:, j], people, names, strategy
        )
        for j in order
    ]
    return RoomTrackRecommendations(
        items=out,
        strategy=strategy,
        listeners=len(people),
        basis=basis,
        model_version=version,
    )


def _satisfaction(
    people: list[str], lists: list[list[TrackRecommendation]], keys: list[str]
) -> np.ndarray:
    """people x tracks: 1 for a person's first recommendation down to 1/n for the last, 0
    for a track not in their list."""
    column = {key: j for j, key in enumerate(keys)}
    satisfaction = np.zeros((len(people), len(keys)), dtype=np.float64)
    for p, items in enumerate(lists):
        for rank, entry in enumerate(items):
            satisfaction[p, column[entry.track.spotify_id]] = 1.0 - rank / len(items)
    return satisfaction


def _recommendation(
    track: TrackBase,
    score: float,
    liking: np.ndarray,
    people: list[str],
    names: dict[str, str],
    strategy: Strategy,
) -> RoomTrackRecommendation:
    """One track for the room, with the people it is for (``liking``: each person's
    satisfaction with it) named in the reason."""
    fans = [people[p] for p in np.argsort(-liking, kind="stable") if liking[p] > 0]
    fan_names = [names.get(fan, "a listener") for fan in fans[:3]]
    if fans:
        more = f" and {len(fans) - 3} more" if len(fans) > 3 else ""
        reason = f"for {join_words(fan_names)}{more}"
    else:
        reason = "for the room"
    return RoomTrackRecommendation(
        track=track,
        score=round(score, 5),
        reason=reason,
        reason_parts=[
            ReasonPart(
                code="room_group",
                params={
                    "listeners": fan_names,
                    "liked_by": len(fans),
                    "people": len(people),
                    "strategy": strategy,
                },
            )
        ],
        liked_by=len(fans),
    )
