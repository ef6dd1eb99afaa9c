"""Google sign-in, round trip by round trip, against oidc-provider-mock on loopback."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.models import OAuthIdentity, OAuthProvider, User
from tests.auth.helpers import (
    FRONTEND_URL,
    PUBLIC_API_URL,
    callback_path,
    count_users_and_identities,
    query_of,
    sign_in_error,
    signed_in,
)
from tests.conftest import asgi_client
from tests.factories import create_user
from tests.fakes.fixtures import google_settings
from tests.fakes.google import TOKEN_PATH, FakeGoogle

CLIENT_ID = "tunewave-google-test"


@pytest.fixture
def google_app(make_app: Callable[..., FastAPI], fake_google: FakeGoogle) -> FastAPI:
    return make_app(
        **google_settings(fake_google, CLIENT_ID),
        frontend_url=FRONTEND_URL,
        public_api_url=PUBLIC_API_URL,
        http_timeout_s=2.0,
    )


@pytest.fixture
async def browser(google_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(google_app) as client:
        yield client


async def new_google_user(fake_google: FakeGoogle, **claims: object) -> str:
    sub = f"g-{uuid.uuid4().hex[:12]}"
    defaults: dict[str, object] = {
        "email": f"{sub}@gmail.test",
        "email_verified": True,
        "name": "Ada Lovelace",
        "picture": "https://images.test/ada.png",
    }
    await fake_google.set_user(sub, {**defaults, **claims})
    return sub


async def start_login(browser: httpx.AsyncClient) -> str:
    response = await browser.get("/auth/google/login")
    assert response.status_code == 302, response.text
    return response.headers["location"]


async def sign_in(browser: httpx.AsyncClient, fake_google: FakeGoogle, sub: str) -> httpx.Response:
    authorize_url = await start_login(browser)
    back = await fake_google.authorize(authorize_url, sub)
    return await browser.get(callback_path(back))


async def test_sign_in_creates_user_and_token_works(
    browser: httpx.AsyncClient, fake_google: FakeGoogle, session: AsyncSession
) -> None:
    sub = await new_google_user(fake_google)
    authorize_url = await start_login(browser)

    params = query_of(authorize_url)
    assert authorize_url.startswith(f"{fake_google.base_url}/oauth2/authorize?")
    assert params["client_id"] == CLIENT_ID
    assert params["redirect_uri"] == f"{PUBLIC_API_URL}/auth/google/callback"
    assert params["response_type"] == "code"
    assert set(params["scope"].split()) == {"openid", "email", "profile"}
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43
    assert params["state"]
    assert params["nonce"]
    assert params["state"] != params["nonce"]
    cookie = browser.cookies.get("tunewave_oauth_google")
    assert cookie

    back = await fake_google.authorize(authorize_url, sub)
    response = await browser.get(callback_path(back))
    fragment = signed_in(response)
    assert "tunewave_oauth_google" not in browser.cookies

    me = await browser.get(
        "/users/me", headers={"Authorization": f"Bearer {fragment['access_token']}"}
    )
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["display_name"] == "Ada Lovelace"
    assert body["email"] == f"{sub}@gmail.test"
    assert body["avatar_url"] == "https://images.test/ada.png"
    assert body["favorite_genres"] == []

    identity = await session.scalar(
        select(OAuthIdentity).where(
            OAuthIdentity.provider == OAuthProvider.google, OAuthIdentity.subject == sub
        )
    )
    assert identity is not None
    assert str(identity.user_id) == body["id"]
    user = await session.get(User, identity.user_id)
    assert user is not None
    assert user.email_verified


async def test_second_sign_in_reuses_the_account(
    browser: httpx.AsyncClient, fake_google: FakeGoogle, session: AsyncSession
) -> None:
    sub = await new_google_user(fake_google)
    first = signed_in(await sign_in(browser, fake_google, sub))
    before = await count_users_and_identities(session)
    second = signed_in(await sign_in(browser, fake_google, sub))
    assert await count_users_and_identities(session) == before

    ids = []
    for fragment in (first, second):
        me = await browser.get(
            "/users/me", headers={"Authorization": f"Bearer {fragment['access_token']}"}
        )
        ids.append(me.json()["id"])
    assert ids[0] == ids[1]


async def test_verified_email_links_to_existing_verified_account(
    browser: httpx.AsyncClient, fake_google: FakeGoogle, session: AsyncSession
) -> None:
    existing = await create_user(session, email="Grace@Example.test", email_verified=True)
    sub = await new_google_user(fake_google, email="grace@example.test")

    fragment = signed_in(await sign_in(browser, fake_google, sub))

    me = await browser.get(
        "/users/me", headers={"Authorization": f"Bearer {fragment['access_token']}"}
    )
    assert me.json()["id"] == str(existing.id)


async def test_verified_email_claims_address_from_unverified_account(
    browser: httpx.AsyncClient, fake_google: FakeGoogle, session: AsyncSession
) -> None:
    squatter = await create_user(session, email="linus@example.test", email_verified=False)
    sub = await new_google_user(fake_google, email="linus@example.test")

    fragment = signed_in(await sign_in(browser, fake_google, sub))

    me = (
        await browser.get(
            "/users/me", headers={"Authorization": f"Bearer {fragment['access_token']}"}
        )
    ).json()
    assert me["id"] != str(squatter.id)
    assert me["email"] == "linus@example.test"
    await session.refresh(squatter)
    assert squatter.email is None


async def test_unverified_email_never_links(
    browser: httpx.AsyncClient, fake_google: FakeGoogle, session: AsyncSession
) -> None:
    existing = await create_user(session, email="mary@example.test", email_verified=True)
    sub = await new_google_user(fake_google, email="mary@example.test", email_verified=False)

    fragment = signed_in(await sign_in(browser, fake_google, sub))

    me = (
        await browser.get(
            "/users/me", headers={"Authorization": f"Bearer {fragment['access_token']}"}
        )
    ).json()
    assert me["id"] != str(existing.id)
    assert me["email"] is None


async def test_callback_without_state_is_400(
    browser: httpx.AsyncClient, fake_google: FakeGoogle, session: AsyncSession
) -> None:
    before = await count_users_and_identities(session)
    response = await browser.get("/auth/google/callback", params={"code": "abc"})
    assert response.status_code == 400
    assert response.json() == {"detail": "missing state", "code": "bad_request"}
    assert await count_users_and_identities(session) == before


async def test_callback_with_forged_state_is_400(
    browser: httpx.AsyncClient, fake_google: FakeGoogle, session: AsyncSession
) -> None:
    sub = await new_google_user(fake_google)
    authorize_url = await start_login(browser)
    back = await fake_google.authorize(authorize_url, sub)
    forged = callback_path(back).replace(query_of(back)["state"], "forged" + "x" * 40)

    response = await browser.get(forged)

    assert response.status_code == 400
    assert "state" in response.json()["detail"]


async def test_reused_code_and_state_are_400(
    browser: httpx.AsyncClient, fake_google: FakeGoogle, session: AsyncSession
) -> None:
    sub = await new_google_user(fake_google)
    authorize_url = await start_login(browser)
    back = await fake_google.authorize(authorize_url, sub)
    signed_in(await browser.get(callback_path(back)))
    before = await count_users_and_identities(session)

    replay = await browser.get(callback_path(back))

    assert replay.status_code == 400
    assert replay.json() == {
        "detail": "unknown, expired or already used sign-in state",
        "code": "bad_request",
    }
    assert await count_users_and_identities(session) == before


async def test_callback_in_another_browser_is_400(
    google_app: FastAPI, browser: httpx.AsyncClient, fake_google: FakeGoogle
) -> None:
    sub = await new_google_user(fake_google)
    authorize_url = await start_login(browser)
    back = await fake_google.authorize(authorize_url, sub)

    # Login CSRF: the attacker's finished login opened in the victim's browser.
    async with asgi_client(google_app) as victim:
        response = await victim.get(callback_path(back))

    assert response.status_code == 400
    assert response.json() == {
        "detail": "this sign-in was started in another browser",
        "code": "bad_request",
    }


async def test_wrong_nonce_is_rejected(
    browser: httpx.AsyncClient, fake_google: FakeGoogle, redis: Redis, session: AsyncSession
) -> None:
    before = await count_users_and_identities(session)
    sub = await new_google_user(fake_google)
    authorize_url = await start_login(browser)
    state = query_of(authorize_url)["state"]
    # What a replayed ID token looks like to us: the nonce we expect is not the one inside.
    key = f"auth:login:{state}"
    stored = json.loads(await redis.get(key))
    stored["nonce"] = "a-different-nonce-" + "n" * 30
    await redis.set(key, json.dumps(stored), ex=600)
    back = await fake_google.authorize(authorize_url, sub)

    fragment = sign_in_error(await browser.get(callback_path(back)))

    assert fragment["error"] == "invalid_id_token"
    assert "nonce" in fragment["error_description"]
    assert await count_users_and_identities(session) == before


async def test_id_token_for_another_audience_is_rejected(
    browser: httpx.AsyncClient, fake_google: FakeGoogle, session: AsyncSession
) -> None:
    before = await count_users_and_identities(session)
    sub = await new_google_user(fake_google)
    authorize_url = await start_login(browser)
    # A genuine, correctly signed token with our nonce, but issued to another client.
    fake_google.id_token_override = await fake_google.id_token_for(
        client_id="someone-else",
        sub=sub,
        nonce=query_of(authorize_url)["nonce"],
        redirect_uri="http://elsewhere.test/cb",
    )
    back = await fake_google.authorize(authorize_url, sub)

    fragment = sign_in_error(await browser.get(callback_path(back)))

    assert fragment["error"] == "invalid_id_token"
    assert "aud" in fragment["error_description"]
    assert await count_users_and_identities(session) == before


async def test_id_token_with_bad_signature_is_rejected(
    browser: httpx.AsyncClient, fake_google: FakeGoogle, session: AsyncSession
) -> None:
    before = await count_users_and_identities(session)
    sub = await new_google_user(fake_google)
    authorize_url = await start_login(browser)
    genuine = await fake_google.id_token_for(
        client_id=CLIENT_ID,
        sub=sub,
        nonce=query_of(authorize_url)["nonce"],
        redirect_uri=f"{PUBLIC_API_URL}/auth/google/callback",
    )
    header, payload, signature = genuine.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "someone-we-would-like-to-be"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    fake_google.id_token_override = f"{header}.{forged_payload}.{signature}"
    back = await fake_google.authorize(authorize_url, sub)

    fragment = sign_in_error(await browser.get(callback_path(back)))

    assert fragment["error"] == "invalid_id_token"
    assert await count_users_and_identities(session) == before


async def test_user_refusing_consent_gets_error_redirect(
    browser: httpx.AsyncClient, fake_google: FakeGoogle, session: AsyncSession
) -> None:
    before = await count_users_and_identities(session)
    sub = await new_google_user(fake_google)
    authorize_url = await start_login(browser)
    back = await fake_google.authorize(authorize_url, sub, deny=True)
    assert query_of(back)["error"] == "access_denied"

    fragment = sign_in_error(await browser.get(callback_path(back)))

    assert fragment["error"] == "access_denied"
    assert fragment["error_description"] == "You declined to sign in with Google"
    assert await count_users_and_identities(session) == before


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_token_endpoint_failure_is_error_redirect(
    browser: httpx.AsyncClient, fake_google: FakeGoogle, session: AsyncSession, status: int
) -> None:
    before = await count_users_and_identities(session)
    sub = await new_google_user(fake_google)
    authorize_url = await start_login(browser)
    back = await fake_google.authorize(authorize_url, sub)
    fake_google.fail(TOKEN_PATH, status, retry_after_s=3 if status == 429 else None)

    fragment = sign_in_error(await browser.get(callback_path(back)))

    assert fragment["error"] == "provider_unavailable"
    assert str(status) in fragment["error_description"]
    assert await count_users_and_identities(session) == before


async def test_token_endpoint_timeout_is_error_redirect(
    make_app: Callable[..., FastAPI], fake_google: FakeGoogle, session: AsyncSession
) -> None:
    before = await count_users_and_identities(session)
    app = make_app(
        **google_settings(fake_google, CLIENT_ID),
        frontend_url=FRONTEND_URL,
        public_api_url=PUBLIC_API_URL,
        http_timeout_s=0.3,
    )
    sub = await new_google_user(fake_google)
    async with asgi_client(app) as browser:
        authorize_url = await start_login(browser)
        back = await fake_google.authorize(authorize_url, sub)
        fake_google.hang(TOKEN_PATH)

        fragment = sign_in_error(await browser.get(callback_path(back)))

    assert fragment["error"] == "provider_unavailable"
    assert "did not answer" in fragment["error_description"]
    assert await count_users_and_identities(session) == before


async def test_discovery_failure_at_login_is_error_redirect(
    browser: httpx.AsyncClient, fake_google: FakeGoogle
) -> None:
    fake_google.fail("/.well-known/openid-configuration", 500)

    response = await browser.get("/auth/google/login")

    fragment = sign_in_error(response)
    assert fragment["error"] == "provider_unavailable"
    assert "tunewave_oauth_google" not in browser.cookies


async def test_google_not_configured_is_404(client: httpx.AsyncClient) -> None:
    login = await client.get("/auth/google/login")
    assert login.status_code == 404
    assert login.json() == {
        "detail": "Google sign-in is not configured",
        "code": "provider_not_configured",
    }
    callback = await client.get("/auth/google/callback", params={"state": "x" * 43, "code": "c"})
    assert callback.status_code == 404
