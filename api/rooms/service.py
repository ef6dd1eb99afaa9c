from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from argon2 import PasswordHasher
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.core import ratelimit
from api.core.cache import ROOM_LIST, invalidate_after_commit, room_scope
from api.core.exceptions import Conflict, Forbidden, NotFound, TooManyRequests, Unauthorized
from api.core.passwords import hash_password, verify_password
from api.genres.service import genres_service
from api.models import Room, RoomMember, RoomRole, User
from api.realtime.events import now_ms, publish_after_commit
from api.realtime.presence import Presence
from api.rooms.repository import rooms_repository
from api.rooms.schemas import (
    MemberJoinedFrame,
    MemberLeftFrame,
    RoomCreate,
    RoomDeletedFrame,
    RoomUpdate,
    RoomUpdatedFrame,
)

logger = logging.getLogger(__name__)

# Password attempts on a private room allowed within the window, counted before the password
# is checked (docs/auth.md): per user, per client address, and per room across all accounts
# (so fresh accounts get no fresh tries). A right password gives its attempt back.
JOIN_FAILURES_ALLOWED = 5
JOIN_FAILURES_PER_ADDRESS = 10
JOIN_FAILURES_PER_ROOM = 20
JOIN_FAILURE_WINDOW_S = 300


@dataclass(frozen=True, slots=True)
class RoomView:
    room: Room
    member_count: int
    # Distinct users connected to the room's live channel now (presence).
    online_count: int = 0


class RoomsService:
    async def get(self, session: AsyncSession, room_id: uuid.UUID) -> Room:
        room = await rooms_repository.get(session, room_id)
        if room is None:
            raise NotFound("room not found", code="room_not_found")
        return room

    async def view(
        self, session: AsyncSession, room: Room, *, redis: Redis | None = None
    ) -> RoomView:
        return (await self.views(session, [room], redis=redis))[0]

    async def views(
        self, session: AsyncSession, rooms: list[Room], *, redis: Redis | None = None
    ) -> list[RoomView]:
        """Rooms with their member counts (PostgreSQL) and, given ``redis``, their online
        counts (presence; 0 when Redis cannot be reached: a room read must not fail for a
        count)."""
        counts = await rooms_repository.member_counts(session, [room.id for room in rooms])
        online: dict[str, int] = {}
        if redis is not None:
            try:
                online = await Presence(redis, 0).counts([str(room.id) for room in rooms], now_ms())
            except RedisError:
                logger.warning("presence unreachable: online counts shown as 0")
        return [
            RoomView(room, counts.get(room.id, 0), online.get(str(room.id), 0)) for room in rooms
        ]

    async def get_by_name(self, session: AsyncSession, name: str) -> Room:
        room = await rooms_repository.get_by_name(session, name)
        if room is None:
            raise NotFound("room not found", code="room_not_found")
        return room

    async def list_rooms(
        self,
        session: AsyncSession,
        *,
        redis: Redis | None = None,
        genre: str | None,
        text: str | None,
        limit: int,
        offset: int,
    ) -> list[RoomView]:
        rooms = await rooms_repository.search(
            session, genre=genre, text=text, limit=limit, offset=offset
        )
        return await self.views(session, rooms, redis=redis)

    async def my_rooms(
        self, session: AsyncSession, user: User, *, redis: Redis | None = None
    ) -> list[RoomView]:
        rooms = await rooms_repository.list_for_member(session, user.id)
        return await self.views(session, rooms, redis=redis)

    async def create(
        self,
        session: AsyncSession,
        user: User,
        data: RoomCreate,
        *,
        hasher: PasswordHasher,
        max_owned: int | None = None,
    ) -> Room:
        if (
            max_owned is not None
            and await rooms_repository.count_owned(session, user.id) >= max_owned
        ):
            raise Conflict(
                f"you own {max_owned} rooms, the most allowed: delete or leave one first",
                code="too_many_rooms",
            )
        if await rooms_repository.name_taken(session, data.name):
            raise Conflict("a room with this name exists", code="room_name_taken")
        genres = await genres_service.resolve(session, data.genres)
        room = Room(
            name=data.name,
            description=data.description,
            owner_id=user.id,
            is_private=data.is_private,
            password_hash=await hash_password(hasher, data.password) if data.password else None,
            queue_policy=data.queue_policy,
            genres=genres,
        )
        await self._save_unique(session, room)
        await rooms_repository.add_member(session, room.id, user.id, RoomRole.owner)
        invalidate_after_commit(session, ROOM_LIST)
        return room

    async def update(
        self,
        session: AsyncSession,
        user: User,
        room_id: uuid.UUID,
        data: RoomUpdate,
        *,
        hasher: PasswordHasher,
    ) -> Room:
        room = await self._owned_room(session, user, room_id)
        changes = data.model_dump(exclude_unset=True)
        if changes.get("name") is not None and changes["name"] != room.name:
            if await rooms_repository.name_taken(session, data.name or "", except_room_id=room.id):
                raise Conflict("a room with this name exists", code="room_name_taken")
            room.name = changes["name"]
        if changes.get("description") is not None:
            room.description = changes["description"]
        if changes.get("queue_policy") is not None:
            room.queue_policy = changes["queue_policy"]
        if changes.get("genres") is not None:
            room.genres = await genres_service.resolve(session, changes["genres"])
        await self._apply_privacy(room, data, changes, hasher)
        await self._save_unique(session, room)
        invalidate_after_commit(session, ROOM_LIST, room_scope(room.id))
        publish_after_commit(session, room.id, RoomUpdatedFrame(room_id=room.id))
        return room

    async def _apply_privacy(
        self, room: Room, data: RoomUpdate, changes: dict, hasher: PasswordHasher
    ) -> None:
        is_private = changes.get("is_private")
        is_private = room.is_private if is_private is None else is_private
        if is_private:
            if data.password:
                room.password_hash = await hash_password(hasher, data.password)
            elif room.password_hash is None:
                raise Conflict("a private room needs a password", code="password_required")
        else:
            if data.password:
                raise Conflict("only private rooms take a password", code="password_not_allowed")
            room.password_hash = None
        room.is_private = is_private

    async def delete(self, session: AsyncSession, user: User, room_id: uuid.UUID) -> None:
        room = await self._owned_room(session, user, room_id)
        await rooms_repository.delete(session, room)
        invalidate_after_commit(session, ROOM_LIST, room_scope(room.id))
        _room_deleted(session, room.id)

    async def join(
        self,
        session: AsyncSession,
        redis: Redis,
        user: User,
        room_id: uuid.UUID,
        password: str | None,
        client_address: str | None = None,
        *,
        hasher: PasswordHasher,
    ) -> Room:
        room = await self.get(session, room_id)
        if await rooms_repository.get_membership(session, room.id, user.id) is not None:
            return room
        if room.is_private:
            prefix = f"tunewave:join-attempts:{room.id}"
            limits = {
                f"{prefix}:user:{user.id}": JOIN_FAILURES_ALLOWED,
                f"{prefix}:room": JOIN_FAILURES_PER_ROOM,
            }
            if client_address:
                limits[f"{prefix}:addr:{client_address[:64]}"] = JOIN_FAILURES_PER_ADDRESS
            retry_after_s = await ratelimit.reserve(redis, limits, window_s=JOIN_FAILURE_WINDOW_S)
            if retry_after_s:
                raise TooManyRequests(
                    f"too many password attempts on this room; try again in {retry_after_s} s",
                    retry_after_s=retry_after_s,
                    code="password_locked",
                )
            if not password or not await verify_password(
                hasher, room.password_hash or "", password
            ):
                raise Forbidden("wrong password", code="wrong_password")
            await ratelimit.refund(redis, list(limits))
        await _add_member(session, room, user)
        return room

    async def admit(
        self, session: AsyncSession, user_id: uuid.UUID, room_id: uuid.UUID
    ) -> tuple[User, Room] | None:
        """Let the user into the room's live channel: a member, or anyone into a public room,
        who joins it on the way in (as ``join`` does). None for an unknown user; raises
        NotFound, or Forbidden for a private room the user has not joined (joining one takes
        its password, over REST). A member's admission is one read: run it in autocommit and
        it costs one round trip (a join is then its own one-statement transaction)."""
        found = await rooms_repository.get_for_admission(session, user_id, room_id)
        if found is None:
            return None
        user, room, membership = found
        if room is None:
            raise NotFound("room not found", code="room_not_found")
        if membership is None:
            if room.is_private:
                raise Forbidden("members only", code="not_a_member")
            await _add_member(session, room, user)
        return user, room

    async def leave(self, session: AsyncSession, user: User, room_id: uuid.UUID) -> None:
        """Leave a room. An owner hands the room to the longest-standing member; an owner
        leaving a room nobody else is in closes (deletes) it."""
        room = await rooms_repository.get_for_update(session, room_id)
        if room is None:
            raise NotFound("room not found", code="room_not_found")
        membership = await rooms_repository.get_membership(session, room.id, user.id)
        if membership is None:
            raise Conflict("not a member of this room", code="not_a_member")
        invalidate_after_commit(session, ROOM_LIST, room_scope(room.id))
        if room.owner_id == user.id:
            successor = await rooms_repository.longest_standing_member(
                session, room.id, excluding=user.id
            )
            if successor is None:
                await rooms_repository.delete(session, room)
                _room_deleted(session, room.id)
                return
            successor.role = RoomRole.owner
            room.owner_id = successor.user_id
        await rooms_repository.remove_member(session, room.id, user.id)
        publish_after_commit(session, room.id, MemberLeftFrame(user_id=user.id))

    async def members(
        self, session: AsyncSession, user: User | None, room_id: uuid.UUID
    ) -> list[User]:
        room = await self.get(session, room_id)
        await self.ensure_can_see_inside(session, room, user)
        return await rooms_repository.members(session, room.id)

    async def ensure_can_see_inside(
        self, session: AsyncSession, room: Room, user: User | None
    ) -> None:
        """A private room's queue, members and chat are for its members only."""
        if room.is_private and user is not None:
            membership = await rooms_repository.get_membership(session, room.id, user.id)
        else:
            membership = None
        self.check_can_see_inside(room, user, membership)

    async def ensure_member(self, session: AsyncSession, room: Room, user: User) -> RoomRole:
        membership = await rooms_repository.get_membership(session, room.id, user.id)
        return self.check_member(membership)

    # The rules themselves, for callers that loaded the membership with the room.

    @staticmethod
    def check_can_see_inside(room: Room, user: User | None, membership: RoomMember | None) -> None:
        if not room.is_private:
            return
        if user is None:
            raise Unauthorized("sign in to see inside a private room", code="not_authenticated")
        if membership is None:
            raise Forbidden("members only", code="not_a_member")

    @staticmethod
    def check_member(membership: RoomMember | None) -> RoomRole:
        if membership is None:
            raise Forbidden("members only: join the room first", code="not_a_member")
        return membership.role

    async def _owned_room(self, session: AsyncSession, user: User, room_id: uuid.UUID) -> Room:
        room = await rooms_repository.get_for_update(session, room_id)
        if room is None:
            raise NotFound("room not found", code="room_not_found")
        if room.owner_id != user.id:
            raise Forbidden("only the room's owner can do this", code="owner_only")
        return room

    async def _save_unique(self, session: AsyncSession, room: Room) -> None:
        # The check above answers the common case; the unique index settles races.
        try:
            async with session.begin_nested():
                session.add(room)
                await session.flush()
        except IntegrityError as exc:
            raise Conflict("a room with this name exists", code="room_name_taken") from exc


async def _add_member(session: AsyncSession, room: Room, user: User) -> None:
    """``user`` becomes a member; the room's readers and sockets hear of it after commit."""
    await rooms_repository.add_member(session, room.id, user.id, RoomRole.member)
    invalidate_after_commit(session, ROOM_LIST, room_scope(room.id))
    publish_after_commit(session, room.id, MemberJoinedFrame(user_id=user.id))


def _room_deleted(session: AsyncSession, room_id: uuid.UUID) -> None:
    publish_after_commit(session, room_id, RoomDeletedFrame(room_id=room_id))


rooms_service = RoomsService()
