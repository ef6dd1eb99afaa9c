from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.models import QueueEntryStatus
from api.realtime.schemas import ServerFrameModel
from api.tracks.schemas import SpotifyId, TrackBase

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


# --- live frames (docs/realtime.md) -----------------------------------------------------------


class QueueFrame(ServerFrameModel):
    """Server -> client: the queue changed (refetch ``GET /rooms/{id}/queue``)."""

    type: Literal["queue"] = "queue"
    action: Literal["added", "removed", "moved"]
    entry_id: uuid.UUID
    user_id: uuid.UUID
