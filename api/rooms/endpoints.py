from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import TypeAdapter

from api.cached_reads import room_list_key, room_view_key
from api.core.cache import ReadCache
from api.core.exceptions import (
    Conflict,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
    Unprocessable,
    error_responses,
)
from api.core.json import JSONBytes
from api.deps import (
    CurrentUser,
    OptionalUser,
    PasswordHasherDep,
    RedisDep,
    SessionDep,
    SettingsDep,
)
from api.genres.vocabulary import genre_slug
from api.rooms.schemas import (
    JoinRoomRequest,
    RoomCreate,
    RoomResponse,
    RoomUpdate,
    StatusResponse,
)
from api.rooms.service import RoomView, rooms_service
from api.users.schemas import UserResponse

router = APIRouter(prefix="/rooms", tags=["rooms"])

_ROOM = TypeAdapter(RoomResponse)
_ROOMS = TypeAdapter(list[RoomResponse])


@router.post(
    "/",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(Unauthorized, Conflict, Unprocessable),
)
async def create_room(
    data: RoomCreate,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    hasher: PasswordHasherDep,
) -> RoomResponse:
    """Create a room; the creator becomes its owner and first member."""
    room = await rooms_service.create(
        session, user, data, hasher=hasher, max_owned=settings.max_rooms_per_user
    )
    return RoomResponse.from_view(RoomView(room, 1))


@router.get("/", response_model=list[RoomResponse])
async def list_rooms(
    session: SessionDep,
    redis: RedisDep,
    genre: Annotated[str | None, Query(max_length=64, description="genre slug")] = None,
    q: Annotated[
        str | None, Query(max_length=100, description="text in name or description")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> Response:
    """All rooms, most recently active first; filter by genre and text."""
    slug = genre_slug(genre) if genre else None
    text = q.strip() if q else None

    async def compute() -> str:
        views = await rooms_service.list_rooms(
            session, redis=redis, genre=slug, text=text, limit=limit, offset=offset
        )
        return _ROOMS.dump_json([RoomResponse.from_view(view) for view in views]).decode()

    key = room_list_key(slug, text, limit, offset)
    return JSONBytes(await ReadCache(redis).get_or_compute(*key, compute))


@router.get("/by-name/", responses=error_responses(NotFound))
async def get_room_by_name(
    session: SessionDep, redis: RedisDep, name: Annotated[str, Query(min_length=1, max_length=80)]
) -> RoomResponse:
    """A room by its name, case-insensitively."""
    room = await rooms_service.get_by_name(session, name)
    return RoomResponse.from_view(await rooms_service.view(session, room, redis=redis))


@router.get("/my-rooms", responses=error_responses(Unauthorized))
async def my_rooms(user: CurrentUser, session: SessionDep, redis: RedisDep) -> list[RoomResponse]:
    """The rooms the caller is a member of."""
    return [
        RoomResponse.from_view(view)
        for view in await rooms_service.my_rooms(session, user, redis=redis)
    ]


@router.get("/{room_id}", response_model=RoomResponse, responses=error_responses(NotFound))
async def get_room(room_id: uuid.UUID, session: SessionDep, redis: RedisDep) -> Response:
    """One room."""

    async def compute() -> str:
        room = await rooms_service.get(session, room_id)
        view = await rooms_service.view(session, room, redis=redis)
        return _ROOM.dump_json(RoomResponse.from_view(view)).decode()

    return JSONBytes(await ReadCache(redis).get_or_compute(*room_view_key(room_id), compute))


@router.put(
    "/{room_id}",
    responses=error_responses(Unauthorized, Forbidden, NotFound, Conflict, Unprocessable),
)
async def update_room(
    room_id: uuid.UUID,
    data: RoomUpdate,
    user: CurrentUser,
    session: SessionDep,
    redis: RedisDep,
    hasher: PasswordHasherDep,
) -> RoomResponse:
    """Change a room (owner only)."""
    room = await rooms_service.update(session, user, room_id, data, hasher=hasher)
    return RoomResponse.from_view(await rooms_service.view(session, room, redis=redis))


@router.delete("/{room_id}", responses=error_responses(Unauthorized, Forbidden, NotFound))
async def delete_room(room_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> StatusResponse:
    """Delete a room with its queue, members and chat (owner only)."""
    await rooms_service.delete(session, user, room_id)
    return StatusResponse(status="deleted")


@router.post(
    "/{room_id}/join",
    responses=error_responses(Unauthorized, Forbidden, NotFound, TooManyRequests),
)
async def join_room(
    room_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    redis: RedisDep,
    hasher: PasswordHasherDep,
    request: Request,
    data: JoinRoomRequest | None = None,
) -> RoomResponse:
    """Join a room; private rooms need their password."""
    password = data.password if data else None
    # The peer as uvicorn reports it: behind a proxy, run uvicorn with --proxy-headers and
    # --forwarded-allow-ips so this is the client, not the proxy (docs/deployment.md).
    address = request.client.host if request.client else None
    room = await rooms_service.join(session, redis, user, room_id, password, address, hasher=hasher)
    return RoomResponse.from_view(await rooms_service.view(session, room, redis=redis))


@router.post("/{room_id}/leave", responses=error_responses(Unauthorized, NotFound, Conflict))
async def leave_room(room_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> StatusResponse:
    """Leave a room; an owner hands it to the longest-standing member."""
    await rooms_service.leave(session, user, room_id)
    return StatusResponse(status="left")


@router.get("/{room_id}/members", responses=error_responses(Unauthorized, Forbidden, NotFound))
async def list_members(
    room_id: uuid.UUID, user: OptionalUser, session: SessionDep
) -> list[UserResponse]:
    """The room's members, longest-standing first (private rooms: members only)."""
    members = await rooms_service.members(session, user, room_id)
    return [UserResponse.for_viewer(member, user) for member in members]
