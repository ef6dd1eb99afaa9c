from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import jwt
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.config import get_settings
from api.models import User
from tests.factories import auth_headers, create_genre, create_user


async def test_me_returns_the_profile(client: httpx.AsyncClient, session: AsyncSession) -> None:
    jazz, ambient = await create_genre(session, "Jazz"), await create_genre(session, "Ambient")
    user = await create_user(
        session,
        display_name="Nina",
        email="nina@example.test",
        avatar_url="https://i.test/n.png",
        genres=[jazz, ambient],
    )

    response = await client.get("/users/me", headers=auth_headers(get_settings(), user))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "id",
        "display_name",
        "email",
        "avatar_url",
        "favorite_genres",
        "is_demo",
        "created_at",
    }
    assert body["is_demo"] is False
    assert body["id"] == str(user.id)
    assert body["display_name"] == "Nina"
    assert body["email"] == "nina@example.test"
    assert body["avatar_url"] == "https://i.test/n.png"
    assert body["favorite_genres"] == ["ambient", "jazz"]
    assert datetime.fromisoformat(body["created_at"]).tzinfo is not None


def assert_401(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    assert isinstance(response.json()["detail"], str)


async def test_missing_or_non_bearer_header_is_401(client: httpx.AsyncClient) -> None:
    assert_401(await client.get("/users/me"))
    assert_401(await client.get("/users/me", headers={"Authorization": "Basic YTpi"}))
    assert_401(await client.get("/users/me", headers={"Authorization": "Bearer"}))


async def test_expired_token_is_401(client: httpx.AsyncClient, session: AsyncSession) -> None:
    settings = get_settings()
    user = await create_user(session)
    past = datetime.now(UTC) - timedelta(hours=2)
    token = jwt.encode(
        {
            "sub": str(user.id),
            "iss": settings.jwt_issuer,
            "aud": settings.jwt_audience,
            "iat": past,
            "exp": past + timedelta(hours=1),
            "jti": "x",
            "typ": "access",
        },
        settings.jwt_secret.get_secret_value(),
        "HS256",
    )
    response = await client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
    assert_401(response)
    assert response.json() == {"detail": "token expired", "code": "token_expired"}


async def test_tampered_and_unsigned_tokens_are_401(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user, other = await create_user(session), await create_user(session)
    token = auth_headers(get_settings(), user)["Authorization"].removeprefix("Bearer ")
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = str(other.id)

    def b64(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    tampered = f"{header}.{b64(claims)}.{signature}"
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
    for bad in (tampered, unsigned, "not-a-jwt"):
        assert_401(await client.get("/users/me", headers={"Authorization": f"Bearer {bad}"}))


async def test_deleted_user_is_401(client: httpx.AsyncClient, session: AsyncSession) -> None:
    user = await create_user(session)
    headers = auth_headers(get_settings(), user)
    await session.execute(delete(User).where(User.id == user.id))
    await session.flush()

    response = await client.get("/users/me", headers=headers)

    assert_401(response)
    assert response.json() == {"detail": "unknown user", "code": "invalid_token"}


async def test_unknown_user_id_is_401(client: httpx.AsyncClient) -> None:
    assert_401(await client.get("/users/me", headers=auth_headers(get_settings(), uuid.uuid4())))
