from __future__ import annotations

import uuid

from fastapi import APIRouter

from api.core.exceptions import Conflict, NotFound, Unauthorized, Unprocessable, error_responses
from api.deps import CurrentUser, SessionDep
from api.rooms.schemas import StatusResponse
from api.users.schemas import PublicUserResponse, UserResponse, UserUpdate
from api.users.service import users_service

router = APIRouter(prefix="/users", tags=["users"])


# The /me routes come before /{user_id}, which would otherwise try to read "me" as a UUID.
@router.get("/me", responses=error_responses(Unauthorized))
async def get_me(user: CurrentUser, session: SessionDep) -> UserResponse:
    """The signed-in user's profile."""
    return UserResponse.from_user(await users_service.get_profile(session, user.id))


@router.patch("/me", responses=error_responses(Unauthorized, Conflict, Unprocessable))
async def update_me(data: UserUpdate, user: CurrentUser, session: SessionDep) -> UserResponse:
    """Change the signed-in user's display name or favourite genres."""
    return UserResponse.from_user(await users_service.update_profile(session, user.id, data))


@router.delete("/me", responses=error_responses(Unauthorized))
async def delete_me(user: CurrentUser, session: SessionDep) -> StatusResponse:
    """Delete the signed-in user's account and personal data."""
    await users_service.delete_account(session, user)
    return StatusResponse(status="deleted")


@router.get("/{user_id}", responses=error_responses(NotFound, Unprocessable))
async def get_user(user_id: uuid.UUID, session: SessionDep) -> PublicUserResponse:
    """Another listener's public profile (no email)."""
    return PublicUserResponse.from_user(await users_service.get_profile(session, user_id))
