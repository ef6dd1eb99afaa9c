"""Dependency aliases every endpoint uses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from api.config import Settings
from api.db import session_scope
from api.redis import get_redis


async def get_session() -> AsyncIterator[AsyncSession]:
    async with session_scope() as session:
        yield session


# scope="function": the commit happens before the response is sent, so a failed commit
# becomes an error response instead of a 200 for data that was never stored.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
RedisDep = Annotated[Redis, Depends(get_redis)]


def get_app_settings(connection: HTTPConnection) -> Settings:
    """The settings the app was created with (tests build apps with their own)."""
    settings: Settings = connection.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
