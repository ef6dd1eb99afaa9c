"""Spotify sign-in (Authorization Code + PKCE) and provider tokens, against the fake Spotify."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.crypto import token_cipher
from api.auth.service import auth_service
from api.core.config import Settings, get_settings
from api.integrations.spotify import SpotifyUnavailable
from api.models import IdentityStatus, OAuthIdentity, OAuthProvider, User
from api.users.repository import users_repository
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
from tests.factories import auth_headers, create_identity, create_user
from tests.fakes.fixtures import spotify_settings
from tests.fakes.spotify import FakeSpotify


@pytest.fixture
def spotify_app(make_app: Callable[..., FastAPI], fake_spotify: FakeSpotify) -> FastAPI:
    return make_app(
        **spotify_settings(fake_spotify),
        frontend_url=FRONTEND_URL,
        public_api_url=PUBLIC_API_URL,
        http_timeout_s=2.0,
    )


@pytest.fixture
def app_settings(spotify_app: FastAPI) -> Settings:
    settings: Settings = spotify_app.state.settings
    return settings


@pytest.fixture
async def browser(spotify_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(spotify_app) as client:
        yield client


async def through_spotify(authorize_url: str) -> str:
    """The browser at Spotify: returns where Spotify sends it back to."""
    async with httpx.AsyncClient() as http:
        response = await http.get(authorize_url)
    assert response.status_code == 303, response.text
    return response.headers["location"]


async def start_login(browser: httpx.AsyncClient) -> str:
    response = await browser.get("/auth/spotify/login")
    assert response.status_code == 302, response.text
    return response.headers["location"]


async def sign_in(browser: httpx.AsyncClient) -> httpx.Response:
    back = await through_spotify(await start_login(browser))
    return await browser.get(callback_path(back))


async def spotify_identity(session: AsyncSession, subject: str) -> OAuthIdentity | None:
    return await session.scalar(
        select(OAuthIdentity)
        .where(OAuthIdentity.provider == OAuthProvider.spotify, OAuthIdentity.subject == subject)
        .execution_options(populate_existing=True)
    )


async def test_sign_in_stores_encrypted_tokens(
    browser: httpx.AsyncClient,
    fake_spotify: FakeSpotify,
    session: AsyncSession,
    app_settings: Settings,
) -> None:
    fake_spotify.sign_in_as(
        "spotify-ada", display_name="Ada", email="ada@example.test", image_url="https://i.test/a"
    )
    authorize_url = await start_login(browser)
    params = query_of(authorize_url)
    assert authorize_url.startswith(f"{fake_spotify.base_url}/authorize?")
    assert params["client_id"] == fake_spotify.client_id
    assert params["redirect_uri"] == f"{PUBLIC_API_URL}/auth/spotify/callback"
    assert params["code_challenge_method"] == "S256"
    assert params["scope"] == app_settings.spotify_scopes
    assert browser.cookies.get("tunewave_oauth_spotify")

    back = await through_spotify(authorize_url)
    fragment = signed_in(await browser.get(callback_path(back)))

    me = await browser.get(
        "/users/me", headers={"Authorization": f"Bearer {fragment['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["display_name"] == "Ada"
    assert me.json()["avatar_url"] == "https://i.test/a"
    identity = await spotify_identity(session, "spotify-ada")
    assert identity is not None
    assert str(identity.user_id) == me.json()["id"]
    assert identity.status is IdentityStatus.active
    assert identity.access_token_enc
    assert identity.refresh_token_enc
    cipher = token_cipher(app_settings)
    access = cipher.decrypt(identity.access_token_enc)
    refresh = cipher.decrypt(identity.refresh_token_enc)
    assert access in fake_spotify.access_tokens
    assert refresh in fake_spotify.refresh_tokens
    assert access.encode() not in identity.access_token_enc
    assert identity.token_expires_at is not None
    remaining = identity.token_expires_at - datetime.now(UTC)
    assert timedelta(minutes=55) < remaining <= timedelta(hours=1)
    assert identity.scopes == app_settings.spotify_scopes


async def test_unverified_spotify_email_never_links(
    browser: httpx.AsyncClient, fake_spotify: FakeSpotify, session: AsyncSession
) -> None:
    existing = await create_user(session, email="grace@example.test", email_verified=True)
    fake_spotify.sign_in_as("spotify-grace", display_name="Grace", email="grace@example.test")

    fragment = signed_in(await sign_in(browser))

    me = (
        await browser.get(
            "/users/me", headers={"Authorization": f"Bearer {fragment['access_token']}"}
        )
    ).json()
    assert me["id"] != str(existing.id)
    assert me["email"] is None


async def test_pkce_verifier_is_checked_by_spotify(
    browser: httpx.AsyncClient, fake_spotify: FakeSpotify, redis: Redis, session: AsyncSession
) -> None:
    before = await count_users_and_identities(session)
    fake_spotify.sign_in_as("spotify-eve")
    authorize_url = await start_login(browser)
    key = f"auth:login:{query_of(authorize_url)['state']}"
    stored = json.loads(await redis.get(key))
    stored["code_verifier"] = "v" * 64
    await redis.set(key, json.dumps(stored), ex=600)
    back = await through_spotify(authorize_url)

    fragment = sign_in_error(await browser.get(callback_path(back)))

    assert fragment["error"] == "token_exchange_failed"
    assert "invalid_grant" in fragment["error_description"]
    assert await count_users_and_identities(session) == before


async def test_consent_refused_is_error_redirect(
    browser: httpx.AsyncClient, fake_spotify: FakeSpotify, session: AsyncSession, redis: Redis
) -> None:
    fake_spotify.sign_in_as("spotify-bob")
    fake_spotify.deny_consent = True
    authorize_url = await start_login(browser)
    back = await through_spotify(authorize_url)

    fragment = sign_in_error(await browser.get(callback_path(back)))

    assert fragment["error"] == "access_denied"
    assert await redis.get(f"auth:login:{query_of(authorize_url)['state']}") is None


async def test_reused_state_is_400(browser: httpx.AsyncClient, fake_spotify: FakeSpotify) -> None:
    fake_spotify.sign_in_as("spotify-replay")
    back = await through_spotify(await start_login(browser))
    signed_in(await browser.get(callback_path(back)))

    replay = await browser.get(callback_path(back))

    assert replay.status_code == 400
    assert replay.json() == {
        "detail": "unknown, expired or already used sign-in state",
        "code": "bad_request",
    }


async def test_google_state_is_not_accepted_by_spotify_callback(
    browser: httpx.AsyncClient, redis: Redis
) -> None:
    await redis.set(
        "auth:login:" + "s" * 43,
        json.dumps(
            {"provider": "google", "code_verifier": "v" * 64, "nonce": "n", "binding_hash": None}
        ),
    )
    response = await browser.get("/auth/spotify/callback", params={"state": "s" * 43, "code": "c"})
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("path", "status"), [("/api/token", 500), ("/api/token", 429), ("/v1/me", 502)]
)
async def test_provider_errors_are_error_redirects_and_create_nothing(
    browser: httpx.AsyncClient,
    fake_spotify: FakeSpotify,
    session: AsyncSession,
    path: str,
    status: int,
) -> None:
    before = await count_users_and_identities(session)
    fake_spotify.sign_in_as("spotify-unlucky")
    back = await through_spotify(await start_login(browser))
    fake_spotify.fail(path, status, retry_after_s=7 if status == 429 else None)

    fragment = sign_in_error(await browser.get(callback_path(back)))

    assert fragment["error"] == "provider_unavailable"
    assert await count_users_and_identities(session) == before


async def test_profile_timeout_is_error_redirect_and_creates_nothing(
    make_app: Callable[..., FastAPI], fake_spotify: FakeSpotify, session: AsyncSession
) -> None:
    before = await count_users_and_identities(session)
    app = make_app(
        **spotify_settings(fake_spotify),
        frontend_url=FRONTEND_URL,
        public_api_url=PUBLIC_API_URL,
        http_timeout_s=0.3,
    )
    fake_spotify.sign_in_as("spotify-slow")
    async with asgi_client(app) as browser:
        back = await through_spotify(await start_login(browser))
        fake_spotify.hang("/v1/me")
        fragment = sign_in_error(await browser.get(callback_path(back)))

    assert fragment["error"] == "provider_unavailable"
    assert fragment["error_description"] == "Spotify did not answer in time"
    assert await count_users_and_identities(session) == before


async def test_signed_in_user_links_spotify(
    browser: httpx.AsyncClient,
    fake_spotify: FakeSpotify,
    session: AsyncSession,
    app_settings: Settings,
) -> None:
    user = await create_user(session, display_name="Linker")
    fake_spotify.sign_in_as("spotify-linker", display_name="Someone Else")

    started = await browser.post("/auth/spotify/link", headers=auth_headers(app_settings, user))
    assert started.status_code == 200, started.text
    assert browser.cookies.get("tunewave_oauth_spotify")
    back = await through_spotify(started.json()["authorize_url"])
    fragment = signed_in(await browser.get(callback_path(back)))

    me = (
        await browser.get(
            "/users/me", headers={"Authorization": f"Bearer {fragment['access_token']}"}
        )
    ).json()
    assert me["id"] == str(user.id)
    assert me["display_name"] == "Linker"
    identity = await spotify_identity(session, "spotify-linker")
    assert identity is not None
    assert identity.user_id == user.id


async def test_linking_a_spotify_account_owned_by_someone_else_fails(
    browser: httpx.AsyncClient,
    fake_spotify: FakeSpotify,
    session: AsyncSession,
    app_settings: Settings,
) -> None:
    owner = await create_user(session)
    await create_identity(session, owner, app_settings, subject="spotify-taken")
    user = await create_user(session)
    fake_spotify.sign_in_as("spotify-taken")

    started = await browser.post("/auth/spotify/link", headers=auth_headers(app_settings, user))
    back = await through_spotify(started.json()["authorize_url"])
    fragment = sign_in_error(await browser.get(callback_path(back)))

    assert fragment["error"] == "identity_in_use"
    identity = await spotify_identity(session, "spotify-taken")
    assert identity is not None
    assert identity.user_id == owner.id


async def test_link_requires_a_token(browser: httpx.AsyncClient) -> None:
    response = await browser.post("/auth/spotify/link")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_spotify_not_configured_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/auth/spotify/login")
    assert response.status_code == 404
    assert response.json() == {
        "detail": "Spotify sign-in is not configured",
        "code": "provider_not_configured",
    }


# --- a valid access token for a user ----------------------------------------------------------


async def linked_user(
    session: AsyncSession, browser: httpx.AsyncClient, fake_spotify: FakeSpotify, subject: str
) -> OAuthIdentity:
    fake_spotify.sign_in_as(subject)
    signed_in(await sign_in(browser))
    identity = await spotify_identity(session, subject)
    assert identity is not None
    return identity


async def test_fresh_token_is_returned_without_calling_spotify(
    browser: httpx.AsyncClient,
    fake_spotify: FakeSpotify,
    session: AsyncSession,
    app_settings: Settings,
) -> None:
    identity = await linked_user(session, browser, fake_spotify, "spotify-fresh")
    calls = fake_spotify.token_calls()

    token = await auth_service.spotify_access_token(session, app_settings, identity.user_id)

    assert token is not None
    assert token in fake_spotify.access_tokens
    assert fake_spotify.token_calls() == calls


async def test_expired_token_is_refreshed_and_stored(
    browser: httpx.AsyncClient,
    fake_spotify: FakeSpotify,
    session: AsyncSession,
    app_settings: Settings,
) -> None:
    identity = await linked_user(session, browser, fake_spotify, "spotify-stale")
    cipher = token_cipher(app_settings)
    assert identity.refresh_token_enc is not None
    old_access = cipher.decrypt(identity.access_token_enc or b"")
    old_refresh = cipher.decrypt(identity.refresh_token_enc)
    identity.token_expires_at = datetime.now(UTC) - timedelta(minutes=1)
    await session.flush()

    token = await auth_service.spotify_access_token(session, app_settings, identity.user_id)

    assert token is not None
    assert token != old_access
    assert fake_spotify.token_calls("refresh_token") == 1
    me = await httpx.AsyncClient().get(
        f"{fake_spotify.base_url}/v1/me", headers={"Authorization": f"Bearer {token}"}
    )
    assert me.json()["id"] == "spotify-stale"
    refreshed = await spotify_identity(session, "spotify-stale")
    assert refreshed is not None
    assert refreshed.refresh_token_enc is not None
    assert cipher.decrypt(refreshed.access_token_enc or b"") == token
    # Spotify rotated the refresh token; the old one is dead, the new one is kept.
    assert cipher.decrypt(refreshed.refresh_token_enc) != old_refresh
    assert cipher.decrypt(refreshed.refresh_token_enc) in fake_spotify.refresh_tokens
    assert refreshed.token_expires_at is not None
    assert refreshed.token_expires_at > datetime.now(UTC) + timedelta(minutes=55)


async def test_refresh_rejected_marks_identity_revoked(
    browser: httpx.AsyncClient,
    fake_spotify: FakeSpotify,
    session: AsyncSession,
    app_settings: Settings,
) -> None:
    identity = await linked_user(session, browser, fake_spotify, "spotify-revoked")
    identity.token_expires_at = datetime.now(UTC) - timedelta(minutes=1)
    await session.flush()
    fake_spotify.revoke_user_tokens("spotify-revoked")

    token = await auth_service.spotify_access_token(session, app_settings, identity.user_id)

    assert token is None
    revoked = await spotify_identity(session, "spotify-revoked")
    assert revoked is not None
    assert revoked.status is IdentityStatus.revoked
    # Once revoked, nobody calls Spotify with it again.
    calls = fake_spotify.token_calls()
    assert await auth_service.spotify_access_token(session, app_settings, identity.user_id) is None
    assert fake_spotify.token_calls() == calls


async def test_refresh_during_outage_raises_and_keeps_identity(
    browser: httpx.AsyncClient,
    fake_spotify: FakeSpotify,
    session: AsyncSession,
    app_settings: Settings,
) -> None:
    identity = await linked_user(session, browser, fake_spotify, "spotify-outage")
    identity.token_expires_at = datetime.now(UTC) - timedelta(minutes=1)
    await session.flush()
    fake_spotify.fail("/api/token", 503)

    with pytest.raises(SpotifyUnavailable):
        await auth_service.spotify_access_token(session, app_settings, identity.user_id)

    still = await spotify_identity(session, "spotify-outage")
    assert still is not None
    assert still.status is IdentityStatus.active


async def test_no_spotify_link_means_no_token(session: AsyncSession) -> None:
    user = await create_user(session)
    assert await auth_service.spotify_access_token(session, get_settings(), user.id) is None


async def test_racing_first_sign_ins_end_in_a_retryable_error_not_a_500(
    browser: httpx.AsyncClient,
    fake_spotify: FakeSpotify,
    session: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another request took the email between our lookup and our insert."""
    await create_user(session, display_name="Grace", email="grace@example.test")
    await session.commit()
    before = await count_users_and_identities(session)

    async def lookup_before_the_other_request_committed(*_: object) -> None:
        return None

    monkeypatch.setattr(users_repository, "get_by_email", lookup_before_the_other_request_committed)
    fake_spotify.sign_in_as("spotify-grace", display_name="Grace", email="grace@example.test")
    error = sign_in_error(await sign_in(browser))
    assert error["error"] == "sign_in_conflict"
    assert await count_users_and_identities(session) == before


# --- the browser's playback token ---------------------------------------------------------------


async def test_playback_token_is_the_users_own_valid_token(
    browser: httpx.AsyncClient,
    fake_spotify: FakeSpotify,
    session: AsyncSession,
    app_settings: Settings,
) -> None:
    identity = await linked_user(session, browser, fake_spotify, "spotify-player")
    user = await session.get(User, identity.user_id)
    assert user is not None
    headers = auth_headers(app_settings, user)
    identity.token_expires_at = datetime.now(UTC) - timedelta(minutes=1)
    await session.flush()

    response = await browser.get("/auth/spotify/token", headers=headers)

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["access_token"] in fake_spotify.access_tokens
    assert fake_spotify.token_calls("refresh_token") == 1
    assert "streaming" in body["scopes"]
    assert datetime.fromisoformat(body["expires_at"]) > datetime.now(UTC) + timedelta(minutes=55)


async def test_playback_token_refusals(
    browser: httpx.AsyncClient,
    fake_spotify: FakeSpotify,
    session: AsyncSession,
    app_settings: Settings,
) -> None:
    assert (await browser.get("/auth/spotify/token")).status_code == 401
    loner = await create_user(session, display_name="no spotify")
    missing = await browser.get("/auth/spotify/token", headers=auth_headers(app_settings, loner))
    assert missing.status_code == 404
    assert "link" in missing.json()["detail"]

    identity = await linked_user(session, browser, fake_spotify, "spotify-down")
    user = await session.get(User, identity.user_id)
    assert user is not None
    identity.token_expires_at = datetime.now(UTC) - timedelta(minutes=1)
    await session.flush()
    fake_spotify.fail("/api/token", 503)
    down = await browser.get("/auth/spotify/token", headers=auth_headers(app_settings, user))
    assert down.status_code == 502
    assert "Spotify" in down.json()["detail"]
