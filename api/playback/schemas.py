from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class PlaybackTrack(BaseModel):
    id: uuid.UUID
    spotify_id: str
    title: str
    artist_names: str
    duration_ms: int
    image_url: str | None


class PlaybackStateResponse(BaseModel):
    """Derived from time: playing at ``server now - started_at_ms``, or paused."""

    room_id: uuid.UUID
    version: int
    status: Literal["playing", "paused", "idle"]
    entry_id: uuid.UUID | None
    track: PlaybackTrack | None
    started_at_ms: int | None
    paused_position_ms: int | None
    position_ms: int
    server_time_ms: int


class PlaybackCommand(BaseModel):
    """A control action; ``version`` makes it apply only to that version of the state."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["play", "pause", "seek", "skip"]
    position_ms: int | None = Field(default=None, ge=0, le=2**31 - 1)
    version: int | None = Field(default=None, ge=0, le=2**31 - 1)
