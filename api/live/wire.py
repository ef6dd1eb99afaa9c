"""Every frame of the live channel (``WS /ws/chat/{room_id}``, docs/realtime.md), typed.

Each frame is a pydantic model in the ``schemas.py`` of the domain it belongs to (the
channel's own ones in ``api/realtime/schemas.py``); this module gathers them into the two
unions, discriminated by ``type``, and is the one place that may import them all:
``api/realtime`` knows only its own frames and publishes any frame model it is handed.

The unions are exported with the OpenAPI document (``frame_schemas``, added by
``api.main``) as ``components/schemas/ServerFrame`` and ``ClientFrame``, so the web app's
generated types (``web/src/api/schema.d.ts``) cover the live channel too.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, TypeAdapter

from api.chat.schemas import ChatFrame, MessageFrame
from api.playback.schemas import PlaybackCommandFrame, PlaybackFrame, PlaybackStateResponse
from api.queue.schemas import QueueFrame
from api.realtime import frames, schemas
from api.realtime.schemas import (
    ClientFrameModel,
    JoinedFrame,
    LeftFrame,
    PingFrame,
    PongFrame,
    PresenceFrame,
    ResumedFrame,
    ResumeFrame,
)
from api.rooms.schemas import MemberJoinedFrame, MemberLeftFrame, RoomDeletedFrame, RoomUpdatedFrame


class HelloFrame(schemas.HelloFrame):
    """The first frame of a connection: who is here, the playback state, the latest seq."""

    playback: PlaybackStateResponse  # type: ignore[assignment]


class ErrorFrame(schemas.ErrorFrame):
    """A refused or failed frame; the connection stays open. ``client_id`` when it answers a
    chat frame, ``frame`` the type it answers, ``retry_after_s`` for ``rate_limited``,
    ``after_seq``/``last_seq``/``count`` for ``resume_failed``, ``state`` for
    ``stale_version``."""

    state: PlaybackStateResponse | None = None  # type: ignore[assignment]


ServerFrame = Annotated[
    HelloFrame
    | MessageFrame
    | ResumedFrame
    | JoinedFrame
    | LeftFrame
    | PresenceFrame
    | PlaybackFrame
    | PongFrame
    | QueueFrame
    | RoomUpdatedFrame
    | RoomDeletedFrame
    | MemberJoinedFrame
    | MemberLeftFrame
    | ErrorFrame,
    Field(discriminator="type"),
]

ClientFrame = ChatFrame | PingFrame | ResumeFrame | PlaybackCommandFrame

CLIENT_FRAMES: dict[str, type[ClientFrameModel]] = {
    "chat": ChatFrame,
    "ping": PingFrame,
    "resume": ResumeFrame,
    "play": PlaybackCommandFrame,
    "pause": PlaybackCommandFrame,
    "seek": PlaybackCommandFrame,
    "skip": PlaybackCommandFrame,
}


def parse_frame(raw: str) -> ClientFrame:
    """The validated client frame in ``raw`` (a frame without ``type`` but with ``text`` is
    chat, the seed's format); ``api.realtime.frames.FrameError`` for anything else."""
    return frames.parse_frame(raw, CLIENT_FRAMES, untyped="chat")  # type: ignore[return-value]


_SERVER = TypeAdapter(ServerFrame)
_CLIENT = TypeAdapter(ClientFrame)
REF_TEMPLATE = "#/components/schemas/{model}"


def frame_schemas() -> dict[str, Any]:
    """``ServerFrame``, ``ClientFrame`` and the models they name, as OpenAPI components."""
    components: dict[str, Any] = {}
    for name, adapter, mode in (
        ("ServerFrame", _SERVER, "serialization"),
        ("ClientFrame", _CLIENT, "validation"),
    ):
        schema = adapter.json_schema(ref_template=REF_TEMPLATE, mode=mode)  # type: ignore[arg-type]
        components.update(schema.pop("$defs", {}))
        components[name] = schema
    return components
