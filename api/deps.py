"""Dependency aliases every endpoint uses."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from argon2 import PasswordHasher
from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from api.auth.tokens import AccessClaims, decode_access_claims, decode_access_token
from api.core.config import Settings
from api.core.db import session_scope, use_autocommit
from api.core.exceptions import Unauthorized
from api.models import User
from api.users.repository import users_repository


async def get_session(connection: HTTPConnection) -> AsyncIterator[AsyncSession]:
    """The request's unit of work, from the app's sessionmaker (``app.state``, api/main.py)."""
    async with session_scope(connection.app.state.sessionmaker) as session:
        yield session


# scope="function": the commit happens before the response is sent, so a failed commit
# becomes an error response instead of a 200 for data that was never stored.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_autocommit(session: SessionDep) -> None:
    """The request's session in autocommit (``api/core/db.py`` use_autocommit): declare it
    before any dependency that reads, for an endpoint whose only write is one statement."""
    await use_autocommit(session)


Autocommit = Annotated[None, Depends(get_autocommit)]


# Dependencies are `async def` on purpose: FastAPI runs a plain `def` dependency in its thread
# pool, a thread hand-off per request for what is only a lookup.
async def get_redis_client(connection: HTTPConnection) -> Redis:
    """The app's Redis client (``app.state``, api/main.py)."""
    redis: Redis = connection.app.state.redis
    return redis


RedisDep = Annotated[Redis, Depends(get_redis_client)]


async def get_app_settings(connection: HTTPConnection) -> Settings:
    """The settings the app was created with (tests build apps with their own)."""
    settings: Settings = connection.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


async def get_password_hasher(connection: HTTPConnection) -> PasswordHasher:
    """Room-password hashing at the cost the app's settings ask for."""
    hasher: PasswordHasher = connection.app.state.password_hasher
    return hasher


PasswordHasherDep = Annotated[PasswordHasher, Depends(get_password_hasher)]


# auto_error=False: a missing or non-Bearer header is our own 401 with WWW-Authenticate,
# not FastAPI's 403.
_bearer = HTTPBearer(
    auto_error=False,
    description="Our access token, from an OAuth callback or POST /auth/dev-login.",
)


async def get_current_user_id(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> uuid.UUID:
    """The caller's user id from their token alone: enough for an endpoint whose own query
    reads the user (and answers 401 ``invalid_token`` when they no longer exist)."""
    if credentials is None:
        raise Unauthorized("not authenticated")
    return decode_access_token(settings, credentials.credentials)


CurrentUserId = Annotated[uuid.UUID, Depends(get_current_user_id)]


async def _known_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await users_repository.get(session, user_id)
    if user is None:
        raise Unauthorized("unknown user", code="invalid_token")
    return user


async def get_current_user(session: SessionDep, user_id: CurrentUserId) -> User:
    return await _known_user(session, user_id)


async def get_optional_user(
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User | None:
    """Anonymous without a header; a bad token is still a 401, never silently anonymous."""
    if credentials is None:
        return None
    return await _known_user(session, decode_access_token(settings, credentials.credentials))


CurrentUser = Annotated[User, Depends(get_current_user)]
OptionalUser = Annotated[User | None, Depends(get_optional_user)]


async def get_access_claims(
    user: CurrentUser,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> AccessClaims:
    """The caller's token claims (expiry, sign-in time), for ticket and renewal endpoints."""
    assert credentials is not None  # CurrentUser refused a missing header already
    return decode_access_claims(settings, credentials.credentials)


AccessClaimsDep = Annotated[AccessClaims, Depends(get_access_claims)]
