from __future__ import annotations

from pydantic import BaseModel


class GenreResponse(BaseModel):
    slug: str
    name: str
    track_count: int
