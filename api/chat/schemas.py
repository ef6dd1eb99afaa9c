from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, ClassVar, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_serializer,
)

from api.realtime.schemas import ClientFrameModel, ServerFrameModel

if TYPE_CHECKING:
    from api.chat.service import MessageView

MAX_MESSAGE_LENGTH = 2000


def storable_text(value: str) -> str:
    """PostgreSQL text cannot hold NUL, and a lone surrogate has no UTF-8 encoding."""
    if "\x00" in value:
        raise ValueError("text must not contain NUL (\\x00) characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from exc
    return value


def utc_datetime(value: datetime) -> datetime:
    """Naive datetimes are read as UTC; everything is compared in UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("datetime out of range") from exc


MessageText = Annotated[
    str,
    # The pattern tells API clients that blank text is refused (it is trimmed to nothing).
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=MAX_MESSAGE_LENGTH, pattern=r"\S"
    ),
    AfterValidator(storable_text),
]
# A sender-chosen id (a UUID or a nonce) that makes a resend idempotent.
ClientId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]
UtcDatetime = Annotated[datetime, AfterValidator(utc_datetime)]


class MessageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: MessageText
    client_id: ClientId | None = None


class MessageAuthor(BaseModel):
    id: uuid.UUID
    display_name: str
    avatar_url: str | None
    # A sample profile built from a public playlist, not a person.
    is_demo: bool


class MessageResponse(BaseModel):
    """A stored chat message: the REST answer, and the live ``message`` frame's body."""

    id: uuid.UUID
    room_id: uuid.UUID
    seq: int
    # null once the author deleted their account: the message stays, anonymised.
    user: MessageAuthor | None
    text: str
    client_id: str | None
    created_at: datetime

    @classmethod
    def from_view(cls, view: MessageView) -> Self:
        author = view.author
        return cls(
            id=view.id,
            room_id=view.room_id,
            seq=view.seq,
            user=MessageAuthor(
                id=author.id,
                display_name=author.display_name,
                avatar_url=author.avatar_url,
                is_demo=author.is_demo,
            )
            if author is not None
            else None,
            text=view.text,
            client_id=view.client_id,
            created_at=view.created_at,
        )


# --- live frames (docs/realtime.md) -----------------------------------------------------------


class ChatFrame(ClientFrameModel):
    """Client -> server: a chat message (``type`` may be left out: the seed's format)."""

    type: Literal["chat"] = "chat"
    # Length and content rules are MessageCreate's, checked when the frame is handled.
    text: Annotated[str, Field(strict=True, max_length=16 * 1024)]
    client_id: Annotated[str, Field(strict=True, max_length=256)] | None = None
    refusal: ClassVar[str | None] = None


class MessageFrame(MessageResponse, ServerFrameModel):
    """Server -> client: a stored chat message, the same object ``POST /chat`` answers."""

    type: Literal["message"] = "message"

    @field_serializer("created_at")
    def _created_at(self, created_at: datetime) -> str:
        # The live frame has always carried Python's ISO 8601 (``+00:00``), REST pydantic's
        # (``Z``): the same instant; kept so the wire does not change.
        return created_at.isoformat()
