from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel


class UserResponse(BaseModel):
    id: uuid.UUID
    display_name: str
    email: str | None
    avatar_url: str | None
    favorite_genres: list[str]
    created_at: datetime
