from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.models import QueueEntryStatus
from api.realtime.schemas import ServerFrameModel
from api.tracks.schemas import SpotifyId, TrackBase

if TYPE_CHECKING:
    from api.models import QueueEntry, User

# Mirrors the service's queue length limit: an index past the end just means "last".
MAX_MOVE_INDEX = 10_000


class QueueAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    spotify_id: SpotifyId


class QueueMove(BaseModel):
    """``index`` is the 0-based place among the queued entries (the playing one excluded);
    past the end means last."""

    model_config = ConfigDict(extra="forbid")

    index: int = Field(ge=0, le=MAX_MOVE_INDEX, strict=True)


class QueueEntryAdder(BaseModel):
    """Who added an entry; ``is_demo``: a sample profile built from a public playlist."""

    id: uuid.UUID
    display_name: str
    avatar_url: str | None
    is_demo: bool

    @classmethod
    def from_user(cls, user: User) -> QueueEntryAdder:
        return cls(
            id=user.id,
            display_name=user.display_name,
            avatar_url=user.avatar_url,
            is_demo=user.is_demo,
        )


class QueueEntryResponse(BaseModel):
    association_id: uuid.UUID
    room_id: uuid.UUID
    track: TrackBase
    added_by: uuid.UUID | None
    # null once the account that added it is gone
    added_by_user: QueueEntryAdder | None
    position: int
    status: QueueEntryStatus
    added_at: datetime

    @classmethod
    def from_entry(cls, entry: QueueEntry) -> QueueEntryResponse:
        """Needs ``track`` with its artists and genres, and ``adder``, loaded."""
        adder = entry.adder
        return cls(
            association_id=entry.id,
            room_id=entry.room_id,
            track=TrackBase.from_track(entry.track),
            added_by=entry.added_by,
            added_by_user=QueueEntryAdder.from_user(adder) if adder is not None else None,
            position=entry.position,
            status=entry.status,
            added_at=entry.added_at,
        )


# --- live frames (docs/realtime.md) -----------------------------------------------------------


class QueueFrame(ServerFrameModel):
    """Server -> client: the queue changed (refetch ``GET /rooms/{id}/queue``)."""

    type: Literal["queue"] = "queue"
    action: Literal["added", "removed", "moved"]
    entry_id: uuid.UUID
    user_id: uuid.UUID
