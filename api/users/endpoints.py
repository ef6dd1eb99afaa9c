from __future__ import annotations

import uuid

from fastapi import APIRouter

from api.deps import CurrentUser, SessionDep
from api.exceptions import Conflict, NotFound, Unauthorized, Unprocessable, error_responses
from api.models import User
from api.rooms.schemas import StatusResponse
from api.users.schemas import PublicUserResponse, UserResponse, UserUpdate
from api.users.service import users_service

router = APIRouter(prefix="/users", tags=["users"])


def user_response(user: User, *, show_email: bool = True) -> UserResponse:
    """Needs ``favorite_genres`` loaded. Genres go out as vocabulary slugs, like everywhere."""
    return UserResponse(
        id=user.id,
        display_name=user.display_name,
        email=user.email if show_email else None,
        avatar_url=user.avatar_url,
        favorite_genres=[genre.slug for genre in user.favorite_genres],
        is_demo=user.is_demo,
        created_at=user.created_at,
    )


def public_user_response(user: User) -> PublicUserResponse:
    """Needs ``favorite_genres`` loaded."""
    return PublicUserResponse(
        id=user.id,
        display_name=user.display_name,
        avatar_url=user.avatar_url,
        favorite_genres=[genre.slug for genre in user.favorite_genres],
        is_demo=user.is_demo,
        created_at=user.created_at,
    )


# The /me routes come before /{user_id}, which would otherwise try to read "me" as a UUID.
@router.get("/me", responses=error_responses(Unauthorized))
async def get_me(user: CurrentUser, session: SessionDep) -> UserResponse:
    """The signed-in user's profile."""
    return user_response(await users_service.get_profile(session, user.id))


@router.patch("/me", responses=error_responses(Unauthorized, Conflict, Unprocessable))
async def update_me(data: UserUpdate, user: CurrentUser, session: SessionDep) -> UserResponse:
    """Change the signed-in user's display name or favourite genres."""
    return user_response(await users_service.update_profile(session, user.id, data))


@router.delete("/me", responses=error_responses(Unauthorized))
async def delete_me(user: CurrentUser, session: SessionDep) -> StatusResponse:
    """Delete the signed-in user's account and personal data."""
    await users_service.delete_account(session, user)
    return StatusResponse(status="deleted")


@router.get("/{user_id}", responses=error_responses(NotFound, Unprocessable))
async def get_user(user_id: uuid.UUID, session: SessionDep) -> PublicUserResponse:
    """Another listener's public profile (no email)."""
    return public_user_response(await users_service.get_profile(session, user_id))
