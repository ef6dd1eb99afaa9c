"""POST /auth/refresh: renewing a valid token, bounded by the sign-in's age (issue 12, 4)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import jwt
from fastapi import FastAPI

from api.auth.tokens import decode_access_claims, issue_access_token
from api.core.config import Settings
from tests.conftest import asgi_client
from tests.support.people import SignIn


def token_with(settings: Settings, user_id: uuid.UUID, **claims: object) -> str:
    now = datetime.now(UTC)
    base: dict[str, object] = {
        "sub": str(user_id),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "jti": uuid.uuid4().hex,
        "typ": "access",
    }
    return jwt.encode(
        {**base, **claims}, settings.jwt_secret.get_secret_value(), settings.jwt_algorithm
    )


async def test_a_valid_token_is_renewed_keeping_its_sign_in_time(
    client: httpx.AsyncClient, sign_in: SignIn, settings: Settings
) -> None:
    alice = await sign_in("alice")
    signed_in_at = int(time.time()) - 3600
    old = token_with(settings, alice.user.id, auth_time=signed_in_at)
    response = await client.post("/auth/refresh", headers={"Authorization": f"Bearer {old}"})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    claims = decode_access_claims(settings, body["access_token"])
    assert claims.user_id == alice.user.id
    assert claims.auth_time_s == signed_in_at
    assert body["expires_in"] == settings.jwt_access_ttl_s
    me = await client.get("/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200


async def test_expired_missing_or_too_old_tokens_are_not_renewed(
    make_app: Callable[..., FastAPI], sign_in: SignIn, settings: Settings
) -> None:
    alice = await sign_in("alice")
    async with asgi_client(make_app(jwt_session_max_s=3600)) as client:
        assert (await client.post("/auth/refresh")).status_code == 401
        expired = token_with(settings, alice.user.id, exp=datetime.now(UTC) - timedelta(minutes=1))
        refused = await client.post("/auth/refresh", headers={"Authorization": f"Bearer {expired}"})
        assert refused.status_code == 401
        # Signed in two hours ago with a one-hour session cap: sign in again.
        stale = token_with(settings, alice.user.id, auth_time=int(time.time()) - 7200)
        refused = await client.post("/auth/refresh", headers={"Authorization": f"Bearer {stale}"})
        assert refused.status_code == 401
        assert "sign in again" in refused.json()["detail"]


def test_renewed_tokens_never_outlive_the_session_cap(settings: Settings) -> None:
    capped = settings.model_copy(update={"jwt_session_max_s": 600})
    token, expires_in = issue_access_token(capped, uuid.uuid4(), auth_time_s=int(time.time()) - 500)
    assert 0 < expires_in <= 100
    assert decode_access_claims(capped, token).expires_at_s <= int(time.time()) + 101
