from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)
from pydantic.json_schema import SkipJsonSchema

from api.chat.schemas import storable_text
from api.core.names import display_name
from api.genres.service import MAX_GENRES_PER_OWNER

if TYPE_CHECKING:
    from api.models import User


class UserResponse(BaseModel):
    id: uuid.UUID
    display_name: str
    email: str | None
    avatar_url: str | None
    favorite_genres: list[str]
    # A sample profile built from a public playlist of the bundled catalog, not a person.
    is_demo: bool
    created_at: datetime

    @classmethod
    def from_user(cls, user: User, *, show_email: bool = True) -> UserResponse:
        """Needs ``favorite_genres`` loaded. Genres go out as vocabulary slugs, like
        everywhere."""
        return cls(
            id=user.id,
            display_name=user.display_name,
            email=user.email if show_email else None,
            avatar_url=user.avatar_url,
            favorite_genres=[genre.slug for genre in user.favorite_genres],
            is_demo=user.is_demo,
            created_at=user.created_at,
        )

    @classmethod
    def for_viewer(cls, user: User, viewer: User | None) -> UserResponse:
        """``user`` as ``viewer`` sees them: other people's email addresses are personal
        data, only your own is shown."""
        return cls.from_user(user, show_email=viewer is not None and viewer.id == user.id)


DisplayName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"\S"),
    AfterValidator(storable_text),
    AfterValidator(display_name),
]
GenreName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"\S"),
    AfterValidator(storable_text),
]


class UserUpdate(BaseModel):
    """Only the fields sent change; ``favorite_genres: []`` clears them."""

    model_config = ConfigDict(extra="forbid")

    # SkipJsonSchema: the schema says what is accepted; null is refused below.
    display_name: DisplayName | SkipJsonSchema[None] = None
    favorite_genres: (
        Annotated[list[GenreName], Field(max_length=MAX_GENRES_PER_OWNER)] | SkipJsonSchema[None]
    ) = None

    @field_validator("display_name", "favorite_genres")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Leaving a field out keeps it; an explicit null is a mistake, not a way to clear it.
        if value is None:
            raise ValueError("must not be null")
        return value


class PublicUserResponse(BaseModel):
    """Another listener's profile: never their email."""

    id: uuid.UUID
    display_name: str
    avatar_url: str | None
    favorite_genres: list[str]
    # A sample profile built from a public playlist of the bundled catalog, not a person.
    is_demo: bool
    created_at: datetime

    @classmethod
    def from_user(cls, user: User) -> PublicUserResponse:
        """Needs ``favorite_genres`` loaded."""
        return cls(
            id=user.id,
            display_name=user.display_name,
            avatar_url=user.avatar_url,
            favorite_genres=[genre.slug for genre in user.favorite_genres],
            is_demo=user.is_demo,
            created_at=user.created_at,
        )
