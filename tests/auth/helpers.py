"""Steps of the browser's part in an OAuth sign-in, and reading what it ends with."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.models import OAuthIdentity, User

FRONTEND_URL = "http://frontend.test:5173"
PUBLIC_API_URL = "http://api.test:8000"


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def fragment_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).fragment).items()}


def callback_path(url: str) -> str:
    """Our callback URL as the provider redirected to it, as a path for the ASGI client."""
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == PUBLIC_API_URL, url
    return f"{parts.path}?{parts.query}"


def signed_in(response: httpx.Response) -> dict[str, str]:
    """The token fragment of a successful callback's redirect."""
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(f"{FRONTEND_URL}/signed-in#"), location
    fragment = fragment_of(location)
    assert "error" not in fragment, fragment
    assert fragment["token_type"] == "bearer"
    assert int(fragment["expires_in"]) > 0
    return fragment


def sign_in_error(response: httpx.Response) -> dict[str, str]:
    """The error fragment of a failed callback's redirect."""
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(f"{FRONTEND_URL}/signed-in#"), location
    fragment = fragment_of(location)
    assert "access_token" not in fragment, fragment
    return fragment


async def count_users_and_identities(session: AsyncSession) -> tuple[int, int]:
    users = await session.scalar(select(func.count()).select_from(User))
    identities = await session.scalar(select(func.count()).select_from(OAuthIdentity))
    return int(users or 0), int(identities or 0)
