from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, func, select, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from api.core.bulk import copy_insert
from api.models import Message, RoomMember, User, UserGenre


class UsersRepository:
    async def any_demo_user(self, session: AsyncSession) -> bool:
        return bool(await session.scalar(select(User.id).where(User.is_demo).limit(1)))

    async def insert_demo_users(
        self, session: AsyncSession, users: Sequence[tuple[uuid.UUID, str]]
    ) -> None:
        """(id, display name) demo listeners, in bulk; one that exists is left as it is."""
        await copy_insert(
            session,
            User.__table__,  # type: ignore[arg-type]
            ("id", "display_name", "is_demo", "email_verified"),
            ((user_id, name, True, False) for user_id, name in users),
            on_conflict="ON CONFLICT (id) DO NOTHING",
        )

    async def insert_favourite_genres(
        self, session: AsyncSession, rows: Sequence[tuple[uuid.UUID, int]]
    ) -> None:
        """(user id, genre id) rows, in bulk."""
        if rows:
            await copy_insert(
                session,
                UserGenre.__table__,  # type: ignore[arg-type]
                ("user_id", "genre_id"),
                rows,
            )

    async def get(self, session: AsyncSession, user_id: uuid.UUID) -> User | None:
        return await session.get(User, user_id)

    async def get_with_genres(self, session: AsyncSession, user_id: uuid.UUID) -> User | None:
        result = await session.scalars(
            select(User).where(User.id == user_id).options(selectinload(User.favorite_genres))
        )
        return result.one_or_none()

    async def get_by_email(self, session: AsyncSession, email: str) -> User | None:
        result = await session.scalars(
            select(User).where(func.lower(User.email) == email.lower()).limit(1)
        )
        return result.one_or_none()

    async def display_name_taken(
        self, session: AsyncSession, name: str, *, except_user_id: uuid.UUID
    ) -> bool:
        """Whether another user shows this name (case-insensitively; names are stored NFKC)."""
        query = select(User.id).where(
            func.lower(User.display_name) == name.lower(), User.id != except_user_id
        )
        return (await session.scalar(query.limit(1))) is not None

    async def add(self, session: AsyncSession, user: User) -> User:
        session.add(user)
        await session.flush()
        return user

    async def rooms_showing(self, session: AsyncSession, user_id: uuid.UUID) -> list[uuid.UUID]:
        """Rooms whose member list or chat shows the user's name."""
        query = union(
            select(RoomMember.room_id).where(RoomMember.user_id == user_id),
            select(Message.room_id).where(Message.user_id == user_id),
        )
        return list(await session.scalars(query))

    async def delete(self, session: AsyncSession, user: User) -> None:
        """Delete the row; the schema's foreign keys remove or detach everything that
        points at it (identities, genres, history, memberships; messages, queue entries and
        ownerless rooms keep their rows with the user set to NULL)."""
        await session.flush()
        await session.execute(
            delete(User).where(User.id == user.id).execution_options(synchronize_session=False)
        )
        session.expunge(user)


users_repository = UsersRepository()
