"""The live channel's own frames (docs/realtime.md): hello, pong, resumed, presence (joined,
left and their batches), errors, and the client's ping and resume. Domain frames (chat,
playback, queue, rooms) live in their domain's ``schemas.py``; ``api/live/wire.py`` gathers
them all into ``ServerFrame`` and ``ClientFrame``. This module imports no domain code, so
every domain can build frames.

Server frames are built by their producer and encoded once per event (``encode_frame``); the
same text then goes to every socket. Encoding leaves out the optional fields a producer did
not set (an ``error`` carries ``client_id`` only when it answers a chat frame, even when
that is ``null``), so each frame says exactly what it did as a dict literal.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

# PostgreSQL's bigint: chat seqs; integer: playback versions and positions.
BIGINT_MAX = 2**63 - 1
INT_MAX = 2**31 - 1
# JavaScript's exact integers: a clock reading the client can echo back faithfully.
SAFE_INTEGER_MAX = 2**53 - 1


def _type_required(schema: dict[str, Any]) -> None:
    # Defaulted, yet always sent: a client may rely on it (the union's discriminator).
    required = schema.setdefault("required", [])
    if "type" not in required:
        required.insert(0, "type")


class ServerFrameModel(BaseModel):
    """A frame the server sends. ``type`` always goes out, set or defaulted."""

    model_config = ConfigDict(frozen=True, json_schema_extra=_type_required)

    def model_post_init(self, context: Any, /) -> None:
        self.__pydantic_fields_set__.add("type")


def encode_frame(frame: BaseModel) -> str:
    """The frame's wire text: compact JSON without the optional fields left unset."""
    return frame.model_dump_json(exclude_unset=True)


class ClientFrameModel(BaseModel):
    """A frame a client sends. Unknown fields are ignored: clients may add their own
    bookkeeping to a frame."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    # What a refusal says when the frame fails validation (else pydantic's messages).
    refusal: ClassVar[str | None] = None


# --- client -> server -------------------------------------------------------------------------


class PingFrame(ClientFrameModel):
    type: Literal["ping"]
    t0: Annotated[
        float,
        Field(strict=True, allow_inf_nan=False, ge=-SAFE_INTEGER_MAX, le=SAFE_INTEGER_MAX),
    ]
    refusal: ClassVar[str | None] = "ping needs a finite numeric t0 (|t0| < 2^53)"


class ResumeFrame(ClientFrameModel):
    type: Literal["resume"]
    after_seq: Annotated[int, Field(strict=True, ge=0, le=BIGINT_MAX)]
    refusal: ClassVar[str | None] = "resume needs an integer after_seq, 0 <= after_seq < 2^63"


# --- server -> client -------------------------------------------------------------------------


class PresenceUser(BaseModel):
    """Who a socket belongs to, as presence stores it (a user swept after their info was
    lost is announced with ``id`` alone)."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID
    display_name: str | None = None
    avatar_url: str | None = None
    # A sample profile built from a public playlist, not a person.
    is_demo: bool = False


class HelloFrame(ServerFrameModel):
    """The first frame of a connection. ``playback`` is the playback domain's state
    (``PlaybackStateResponse``; ``api/live/wire.py`` exports it typed)."""

    type: Literal["hello"] = "hello"
    room_id: uuid.UUID
    user_id: uuid.UUID
    connection_id: str
    server_time_ms: int
    last_seq: int
    playback: dict[str, Any]
    online: list[PresenceUser]


class PongFrame(ServerFrameModel):
    type: Literal["pong"] = "pong"
    t0: float
    t1: int
    t2: int


class ResumedFrame(ServerFrameModel):
    type: Literal["resumed"] = "resumed"
    after_seq: int
    last_seq: int
    count: int


class JoinedFrame(ServerFrameModel):
    """A user's first socket in the room opened (on any process)."""

    type: Literal["joined"] = "joined"
    user: PresenceUser
    online: int


class LeftFrame(ServerFrameModel):
    """A user's last socket in the room closed, or their process died."""

    type: Literal["left"] = "left"
    user: PresenceUser
    online: int


class PresenceFrame(ServerFrameModel):
    """Several presence changes of the room gathered within 0.2 s, in the order they
    happened; a client applies each as if it had come as its own frame."""

    type: Literal["presence"] = "presence"
    events: list[Annotated[JoinedFrame | LeftFrame, Field(discriminator="type")]]


class ErrorFrame(ServerFrameModel):
    """A refused or failed frame; the connection stays open. The optional fields go out only
    where they apply (docs/realtime.md, error codes)."""

    type: Literal["error"] = "error"
    code: str
    detail: Any
    client_id: str | None = None
    frame: str | None = None
    retry_after_s: int | float | None = None
    after_seq: int | None = None
    last_seq: int | None = None
    count: int | None = None
    # stale_version: the room's current playback state (PlaybackStateResponse).
    state: dict[str, Any] | None = None
