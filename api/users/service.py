from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from api.core.cache import ROOM_LIST, invalidate_after_commit, room_scope
from api.core.exceptions import Conflict, NotFound
from api.genres.service import genres_service
from api.models import User
from api.realtime.events import publish_after_commit
from api.rooms.schemas import MemberLeftFrame
from api.rooms.service import rooms_service
from api.users.repository import users_repository
from api.users.schemas import UserUpdate


class UsersService:
    async def get_profile(self, session: AsyncSession, user_id: uuid.UUID) -> User:
        """The user with favourite genres loaded."""
        user = await users_repository.get_with_genres(session, user_id)
        if user is None:
            raise NotFound("user not found", code="user_not_found")
        return user

    async def update_profile(
        self, session: AsyncSession, user_id: uuid.UUID, data: UserUpdate
    ) -> User:
        """Change the fields sent; genres come from the vocabulary only (unknown: 422)."""
        user = await self.get_profile(session, user_id)
        if data.display_name is not None and data.display_name != user.display_name:
            # A name someone else shows would let one pass for them in chat and member lists.
            if await users_repository.display_name_taken(
                session, data.display_name, except_user_id=user.id
            ):
                raise Conflict("another listener already uses this display name")
            user.display_name = data.display_name
            await self._invalidate_rooms_showing(session, user.id)
        if data.favorite_genres is not None:
            genres = await genres_service.resolve(session, data.favorite_genres)
            # The same order a fresh load gives (the relationship orders by name).
            user.favorite_genres = sorted(genres, key=lambda genre: genre.name)
        await session.flush()
        return user

    async def delete_account(self, session: AsyncSession, user: User) -> None:
        """Remove the account and its personal data.

        Rooms the user owns follow the leave rule (handed to the longest-standing member,
        or closed when nobody else is in). Their chat messages stay, anonymised.
        """
        await self._invalidate_rooms_showing(session, user.id)
        invalidate_after_commit(session, ROOM_LIST)
        for view in await rooms_service.my_rooms(session, user):
            if view.room.owner_id == user.id:
                await rooms_service.leave(session, user, view.room.id)
            else:
                # The membership goes by cascade; the event is what closes the account's
                # sockets in that room, on every API process (as leaving over REST does).
                publish_after_commit(session, view.room.id, MemberLeftFrame(user_id=user.id))
        await users_repository.delete(session, user)

    async def _invalidate_rooms_showing(self, session: AsyncSession, user_id: uuid.UUID) -> None:
        """Cached member lists and chat pages carry names: drop those of the user's rooms."""
        room_ids = await users_repository.rooms_showing(session, user_id)
        invalidate_after_commit(session, *(room_scope(room_id) for room_id in room_ids))


users_service = UsersService()
