from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from api.models import Genre, QueuePolicy, Room, RoomGenre, RoomMember, RoomRole, User


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class RoomsRepository:
    async def get(self, session: AsyncSession, room_id: uuid.UUID) -> Room | None:
        return await session.scalar(
            select(Room).where(Room.id == room_id).options(selectinload(Room.genres))
        )

    async def get_for_update(self, session: AsyncSession, room_id: uuid.UUID) -> Room | None:
        return await session.scalar(
            select(Room)
            .where(Room.id == room_id)
            .options(selectinload(Room.genres))
            .with_for_update(of=Room)
        )

    async def get_by_name(self, session: AsyncSession, name: str) -> Room | None:
        return await session.scalar(
            select(Room)
            .where(func.lower(Room.name) == name.strip().lower())
            .options(selectinload(Room.genres))
        )

    async def count_owned(self, session: AsyncSession, user_id: uuid.UUID) -> int:
        query = select(func.count()).select_from(Room).where(Room.owner_id == user_id)
        return await session.scalar(query) or 0

    async def name_taken(
        self, session: AsyncSession, name: str, *, except_room_id: uuid.UUID | None = None
    ) -> bool:
        query = select(Room.id).where(func.lower(Room.name) == name.strip().lower())
        if except_room_id is not None:
            query = query.where(Room.id != except_room_id)
        return (await session.scalar(query.limit(1))) is not None

    async def search(
        self,
        session: AsyncSession,
        *,
        genre: str | None,
        text: str | None,
        limit: int,
        offset: int,
    ) -> list[Room]:
        query = select(Room).options(selectinload(Room.genres))
        if genre is not None:
            query = query.where(
                exists()
                .where(RoomGenre.room_id == Room.id)
                .where(RoomGenre.genre_id == Genre.id)
                .where(Genre.slug == genre)
            )
        if text:
            pattern = f"%{_escape_like(text)}%"
            query = query.where(
                or_(
                    Room.name.ilike(pattern, escape="\\"),
                    Room.description.ilike(pattern, escape="\\"),
                )
            )
        query = query.order_by(Room.last_activity_at.desc(), Room.id).limit(limit).offset(offset)
        return list(await session.scalars(query))

    async def list_for_member(self, session: AsyncSession, user_id: uuid.UUID) -> list[Room]:
        return list(
            await session.scalars(
                select(Room)
                .join(RoomMember, RoomMember.room_id == Room.id)
                .where(RoomMember.user_id == user_id)
                .options(selectinload(Room.genres))
                .order_by(Room.last_activity_at.desc(), Room.id)
            )
        )

    async def member_counts(
        self, session: AsyncSession, room_ids: Collection[uuid.UUID]
    ) -> dict[uuid.UUID, int]:
        if not room_ids:
            return {}
        result = await session.execute(
            select(RoomMember.room_id, func.count())
            .where(RoomMember.room_id.in_(room_ids))
            .group_by(RoomMember.room_id)
        )
        return dict(result.all())

    async def get_for_admission(
        self, session: AsyncSession, user_id: uuid.UUID, room_id: uuid.UUID
    ) -> tuple[User, Room | None, RoomMember | None] | None:
        """The user, the room row alone (no genres) and the user's membership, in one query:
        what a socket's admission reads, once per connect. None when the user is unknown."""
        query = (
            select(User, Room, RoomMember)
            .select_from(User)
            .outerjoin(Room, Room.id == room_id)
            .outerjoin(
                RoomMember,
                (RoomMember.room_id == Room.id) & (RoomMember.user_id == User.id),
            )
            .where(User.id == user_id)
        )
        row = (await session.execute(query)).first()
        return (row[0], row[1], row[2]) if row is not None else None

    async def get_membership(
        self, session: AsyncSession, room_id: uuid.UUID, user_id: uuid.UUID
    ) -> RoomMember | None:
        return await session.get(RoomMember, (room_id, user_id))

    async def add_member(
        self, session: AsyncSession, room_id: uuid.UUID, user_id: uuid.UUID, role: RoomRole
    ) -> RoomMember:
        member = RoomMember(room_id=room_id, user_id=user_id, role=role)
        session.add(member)
        await session.flush()
        return member

    async def remove_member(
        self, session: AsyncSession, room_id: uuid.UUID, user_id: uuid.UUID
    ) -> None:
        await session.execute(
            delete(RoomMember).where(RoomMember.room_id == room_id, RoomMember.user_id == user_id)
        )

    async def longest_standing_member(
        self, session: AsyncSession, room_id: uuid.UUID, *, excluding: uuid.UUID
    ) -> RoomMember | None:
        return await session.scalar(
            select(RoomMember)
            .where(RoomMember.room_id == room_id, RoomMember.user_id != excluding)
            .order_by(RoomMember.joined_at, RoomMember.user_id)
            .limit(1)
        )

    async def members(self, session: AsyncSession, room_id: uuid.UUID) -> list[User]:
        return list(
            await session.scalars(
                select(User)
                .join(RoomMember, RoomMember.user_id == User.id)
                .where(RoomMember.room_id == room_id)
                .options(selectinload(User.favorite_genres))
                .order_by(RoomMember.joined_at, User.id)
            )
        )

    async def lock_touching_activity(self, session: AsyncSession, room_id: uuid.UUID) -> bool:
        """Lock the room row for the rest of the transaction and bump its activity time.

        An UPDATE takes the row lock, so concurrent queue changes of one room run one after
        another (positions and limits stay consistent) at the cost of a single statement.
        """
        updated = await session.scalar(
            update(Room)
            .where(Room.id == room_id)
            # clock_timestamp(): the moment of the change, not the start of the transaction.
            .values(last_activity_at=func.clock_timestamp())
            .returning(Room.id)
            .execution_options(synchronize_session=False)
        )
        return updated is not None

    async def add_demo_room(
        self,
        session: AsyncSession,
        *,
        name: str,
        description: str,
        owner_id: uuid.UUID,
        member_ids: Sequence[uuid.UUID],
        genre_ids: Sequence[int],
    ) -> uuid.UUID:
        """A demo room (members may add tracks) with its owner, members and genres."""
        room = Room(
            name=name,
            description=description,
            owner_id=owner_id,
            is_demo=True,
            queue_policy=QueuePolicy.members,
        )
        session.add(room)
        await session.flush()
        for member_id in dict.fromkeys([owner_id, *member_ids]):
            role = RoomRole.owner if member_id == owner_id else RoomRole.member
            session.add(RoomMember(room_id=room.id, user_id=member_id, role=role))
        for genre_id in dict.fromkeys(genre_ids):
            session.add(RoomGenre(room_id=room.id, genre_id=genre_id))
        return room.id

    async def add(self, session: AsyncSession, room: Room) -> Room:
        session.add(room)
        await session.flush()
        return room

    async def delete(self, session: AsyncSession, room: Room) -> None:
        await session.delete(room)
        await session.flush()


rooms_repository = RoomsRepository()
