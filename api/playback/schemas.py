from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.realtime.schemas import INT_MAX, ClientFrameModel, ServerFrameModel

PlaybackAction = Literal["play", "pause", "seek", "skip"]
# Why a playback frame was sent: a command, the end of an entry (advance), the queue running
# dry (idle), or the state resent after this process lost Redis (resync).
PlaybackReason = Literal["play", "pause", "seek", "skip", "advance", "idle", "resync"]


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


# --- live frames (docs/realtime.md) -----------------------------------------------------------


class PlaybackCommandFrame(ClientFrameModel):
    """Client -> server: ``play``, ``pause``, ``seek`` (with ``position_ms``) or ``skip``;
    ``version`` makes it apply only to that version of the state."""

    type: PlaybackAction
    version: Annotated[int, Field(strict=True, ge=0, le=INT_MAX)] | None = None
    position_ms: Annotated[int, Field(strict=True, ge=0, le=INT_MAX)] | None = None


class PlaybackFrame(ServerFrameModel):
    """Server -> client: the room's playback changed."""

    type: Literal["playback"] = "playback"
    reason: PlaybackReason
    state: PlaybackStateResponse

    @classmethod
    def of(cls, reason: str, state: dict[str, Any]) -> PlaybackFrame:
        """From a reason (one of PlaybackReason) and a state's wire dict
        (``PlaybackState.wire``)."""
        return cls.model_validate({"reason": reason, "state": state})
