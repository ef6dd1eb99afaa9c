from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from api.chat.schemas import storable_text
from api.core.names import room_name
from api.models import QueuePolicy
from api.realtime.schemas import ServerFrameModel

if TYPE_CHECKING:
    from api.rooms.service import RoomView

RoomName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=80),
    AfterValidator(storable_text),
    AfterValidator(room_name),
]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Password = Annotated[str, StringConstraints(min_length=4, max_length=128)]
GenreName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class RoomCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: RoomName
    description: Description = ""
    is_private: bool = False
    password: Password | None = None
    genres: list[GenreName] = Field(default_factory=list, max_length=10)
    queue_policy: QueuePolicy = QueuePolicy.owner

    @model_validator(mode="after")
    def _private_rooms_need_a_password(self) -> RoomCreate:
        if self.is_private and not self.password:
            raise ValueError("a private room needs a password")
        if not self.is_private and self.password:
            raise ValueError("only private rooms take a password")
        return self


class RoomUpdate(BaseModel):
    """Every field optional; a room made private needs a password unless it already has one."""

    model_config = ConfigDict(extra="forbid")

    name: RoomName | None = None
    description: Description | None = None
    is_private: bool | None = None
    password: Password | None = None
    genres: list[GenreName] | None = Field(default=None, max_length=10)
    queue_policy: QueuePolicy | None = None


class JoinRoomRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: Annotated[str, StringConstraints(max_length=128)] | None = None


class RoomResponse(BaseModel):
    id: uuid.UUID
    name: str
    description: str
    owner_id: uuid.UUID | None
    is_private: bool
    genres: list[str]
    # Members of the room (joined, whether here or not).
    member_count: int
    # Distinct people connected to the room's live channel right now (presence). Room reads
    # are cached: at most ONLINE_COUNT_MAX_AGE_S + the near cache's 2.5 s old (docs/realtime.md).
    online_count: int
    # A demo room seeded on first start: it plays its playlist in a loop on the server's clock.
    is_demo: bool
    queue_policy: QueuePolicy
    created_at: datetime
    last_activity_at: datetime

    @classmethod
    def from_view(cls, view: RoomView) -> RoomResponse:
        room = view.room
        return cls(
            id=room.id,
            name=room.name,
            description=room.description,
            owner_id=room.owner_id,
            is_private=room.is_private,
            genres=[genre.slug for genre in room.genres],
            member_count=view.member_count,
            online_count=view.online_count,
            is_demo=room.is_demo,
            queue_policy=room.queue_policy,
            created_at=room.created_at,
            last_activity_at=room.last_activity_at,
        )


class StatusResponse(BaseModel):
    status: str


# --- live frames (docs/realtime.md) -----------------------------------------------------------


class RoomUpdatedFrame(ServerFrameModel):
    """The room's name, description, privacy, genres or policy changed (refetch it)."""

    type: Literal["room_updated"] = "room_updated"
    room_id: uuid.UUID


class RoomDeletedFrame(ServerFrameModel):
    """The room is gone; the server closes its sockets with 4410."""

    type: Literal["room_deleted"] = "room_deleted"
    room_id: uuid.UUID


class MemberJoinedFrame(ServerFrameModel):
    """A user became a member (``POST /rooms/{id}/join``, or a public room's socket)."""

    type: Literal["member_joined"] = "member_joined"
    user_id: uuid.UUID


class MemberLeftFrame(ServerFrameModel):
    """A user left the room or deleted their account: their sockets there are closed."""

    type: Literal["member_left"] = "member_left"
    user_id: uuid.UUID
