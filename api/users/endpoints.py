from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentUser, SessionDep
from api.exceptions import Unauthorized, error_responses
from api.models import User
from api.users.schemas import UserResponse
from api.users.service import users_service

router = APIRouter(prefix="/users", tags=["users"], responses=error_responses(Unauthorized))


def user_response(user: User, *, show_email: bool = True) -> UserResponse:
    """Needs ``favorite_genres`` loaded. Genres go out as vocabulary slugs, like everywhere."""
    return UserResponse(
        id=user.id,
        display_name=user.display_name,
        email=user.email if show_email else None,
        avatar_url=user.avatar_url,
        favorite_genres=[genre.slug for genre in user.favorite_genres],
        created_at=user.created_at,
    )


@router.get("/me")
async def get_me(user: CurrentUser, session: SessionDep) -> UserResponse:
    """The signed-in user's profile."""
    return user_response(await users_service.get_profile(session, user.id))
