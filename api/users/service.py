from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from api.exceptions import NotFound
from api.models import User
from api.users.repository import users_repository


class UsersService:
    async def get_profile(self, session: AsyncSession, user_id: uuid.UUID) -> User:
        """The user with favourite genres loaded."""
        user = await users_repository.get_with_genres(session, user_id)
        if user is None:
            raise NotFound("user not found")
        return user


users_service = UsersService()
