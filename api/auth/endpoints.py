from __future__ import annotations

import time
from typing import Annotated
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Cookie, Depends, Query, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import google
from api.auth.errors import SignInError
from api.auth.login_state import LOGIN_STATE_TTL_S
from api.auth.repository import identities_repository
from api.auth.schemas import (
    AuthConfigResponse,
    AuthorizeUrlResponse,
    DevLoginRequest,
    LinkedProvider,
    ProviderConfig,
    SpotifyPlaybackTokenResponse,
    TokenResponse,
    WsTicketResponse,
)
from api.auth.service import (
    CallbackParams,
    LoginRedirect,
    SignedIn,
    auth_service,
    spotify_redirect_uri,
)
from api.auth.tokens import issue_access_token
from api.auth.ws_tickets import TICKET_TTL_S, issue_ticket
from api.core.config import Settings
from api.core.exceptions import (
    BadRequest,
    NotFound,
    TooManyRequests,
    Unauthorized,
    UpstreamError,
    error_responses,
)
from api.deps import AccessClaimsDep, CurrentUser, RedisDep, SessionDep, SettingsDep
from api.integrations.spotify import SpotifyClient, SpotifyError
from api.models import OAuthProvider

# Open router: these endpoints are how one gets a token in the first place.
router = APIRouter(prefix="/auth", tags=["auth"])

_GOOGLE_COOKIE = "tunewave_oauth_google"
_SPOTIFY_COOKIE = "tunewave_oauth_spotify"
_QUERY_MAX = 4096


async def _callback_params(
    state: Annotated[str | None, Query(max_length=_QUERY_MAX)] = None,
    code: Annotated[str | None, Query(max_length=_QUERY_MAX)] = None,
    error: Annotated[str | None, Query(max_length=_QUERY_MAX)] = None,
) -> CallbackParams:
    return CallbackParams(state=state, code=code, error=error)


CallbackParamsDep = Annotated[CallbackParams, Depends(_callback_params)]


def _cookie_path(settings: Settings, provider: str) -> str:
    return f"{urlsplit(settings.public_api_url).path.rstrip('/')}/auth/{provider}"


def _signed_in_url(settings: Settings, fragment: dict[str, str | int]) -> str:
    # The fragment never reaches a server log; the target comes from settings, never the request.
    return f"{settings.frontend_url.rstrip('/')}/signed-in#{urlencode(fragment)}"


def _set_binding_cookie(
    response: Response, settings: Settings, provider: str, cookie: str, binding: str
) -> None:
    response.set_cookie(
        cookie,
        binding,
        max_age=LOGIN_STATE_TTL_S,
        path=_cookie_path(settings, provider),
        httponly=True,
        secure=settings.public_api_url.startswith("https://"),
        # Lax: the provider's redirect back to us is a top-level GET navigation.
        samesite="lax",
    )


def _login_redirect(
    settings: Settings, provider: str, cookie: str, login: LoginRedirect
) -> RedirectResponse:
    response = RedirectResponse(login.url, status_code=302)
    _set_binding_cookie(response, settings, provider, cookie, login.browser_binding)
    return response


def _error_redirect(settings: Settings, error: SignInError) -> RedirectResponse:
    return RedirectResponse(
        _signed_in_url(settings, {"error": error.code, "error_description": error.description}),
        status_code=303,
    )


def _success_redirect(
    settings: Settings, provider: str, cookie: str, signed_in: SignedIn
) -> RedirectResponse:
    response = RedirectResponse(
        _signed_in_url(
            settings,
            {
                "access_token": signed_in.access_token,
                "token_type": "bearer",
                "expires_in": signed_in.expires_in,
            },
        ),
        status_code=303,
    )
    response.delete_cookie(cookie, path=_cookie_path(settings, provider))
    return response


async def _discard(session: AsyncSession) -> None:
    # The error redirect is a normal response, which would commit: keep nothing of a failed
    # sign-in.
    await session.rollback()


@router.get("/config")
async def get_auth_config(settings: SettingsDep) -> AuthConfigResponse:
    """Public OAuth settings the SPA needs to offer sign-in."""
    api_url = settings.public_api_url.rstrip("/")
    google_authorize_url: str | None = None
    if settings.google_enabled:
        try:
            google_authorize_url = (await google.load_metadata(settings)).authorization_endpoint
        except SignInError:
            google_authorize_url = None
    return AuthConfigResponse(
        google=ProviderConfig(
            enabled=settings.google_enabled,
            client_id=settings.google_client_id if settings.google_enabled else None,
            login_url=f"{api_url}/auth/google/login",
            authorize_url=google_authorize_url,
            redirect_uri=google.redirect_uri(settings),
            scopes=list(google.SCOPES),
        ),
        spotify=ProviderConfig(
            enabled=settings.spotify_enabled,
            client_id=settings.spotify_client_id,
            login_url=f"{api_url}/auth/spotify/login",
            authorize_url=f"{SpotifyClient(settings).accounts_url}/authorize",
            redirect_uri=spotify_redirect_uri(settings),
            scopes=settings.spotify_scopes.split(),
        ),
        dev_login_enabled=settings.dev_login_enabled,
    )


@router.get(
    "/google/login",
    status_code=302,
    response_class=RedirectResponse,
    responses=error_responses(NotFound),
)
async def google_login(redis: RedisDep, settings: SettingsDep) -> RedirectResponse:
    """Start Google sign-in: redirect to Google with state, nonce and PKCE."""
    try:
        login = await auth_service.start_google_login(redis, settings)
    except SignInError as error:
        return _error_redirect(settings, error)
    return _login_redirect(settings, "google", _GOOGLE_COOKIE, login)


@router.get(
    "/google/callback",
    status_code=303,
    response_class=RedirectResponse,
    responses=error_responses(BadRequest, NotFound),
)
async def google_callback(
    params: CallbackParamsDep,
    session: SessionDep,
    redis: RedisDep,
    settings: SettingsDep,
    binding: Annotated[str | None, Cookie(alias=_GOOGLE_COOKIE, max_length=256)] = None,
) -> RedirectResponse:
    """Finish Google sign-in and redirect to the SPA with our token (or an error)."""
    try:
        signed_in = await auth_service.finish_google_login(
            session, redis, settings, params, binding
        )
    except SignInError as error:
        await _discard(session)
        return _error_redirect(settings, error)
    return _success_redirect(settings, "google", _GOOGLE_COOKIE, signed_in)


@router.get(
    "/spotify/login",
    status_code=302,
    response_class=RedirectResponse,
    responses=error_responses(NotFound),
)
async def spotify_login(redis: RedisDep, settings: SettingsDep) -> RedirectResponse:
    """Start Spotify sign-in: redirect to Spotify with state and PKCE."""
    login = await auth_service.start_spotify_login(redis, settings)
    return _login_redirect(settings, "spotify", _SPOTIFY_COOKIE, login)


@router.post(
    "/spotify/link",
    responses=error_responses(Unauthorized, NotFound),
)
async def spotify_link(
    user: CurrentUser, redis: RedisDep, settings: SettingsDep, response: Response
) -> AuthorizeUrlResponse:
    """Start linking Spotify to the signed-in account; the SPA then navigates to the URL."""
    login = await auth_service.start_spotify_login(redis, settings, link_user_id=user.id)
    # The same browser binding as a sign-in, so nobody can make a victim finish a link
    # started for someone else's account.
    _set_binding_cookie(response, settings, "spotify", _SPOTIFY_COOKIE, login.browser_binding)
    return AuthorizeUrlResponse(authorize_url=login.url)


@router.get("/links", responses=error_responses(Unauthorized))
async def linked_providers(user: CurrentUser, session: SessionDep) -> list[LinkedProvider]:
    """The sign-in providers linked to the caller's account, and whether each still works."""
    identities = await identities_repository.list_for_user(session, user.id)
    return [
        LinkedProvider(provider=i.provider, status=i.status, linked_at=i.created_at)
        for i in identities
    ]


@router.get(
    "/spotify/token",
    responses=error_responses(Unauthorized, NotFound, TooManyRequests, UpstreamError),
)
async def spotify_playback_token(
    user: CurrentUser, session: SessionDep, settings: SettingsDep, response: Response
) -> SpotifyPlaybackTokenResponse:
    """The caller's own Spotify access token, valid now (refreshed when needed), for the
    browser's Web Playback SDK. 404 when no usable Spotify link: never linked, or revoked."""
    try:
        token = await auth_service.spotify_access_token(session, settings, user.id)
    except SpotifyError as exc:  # a 429 from Spotify passes through with its Retry-After
        raise UpstreamError(
            "Spotify is not answering; try again shortly", code="spotify_unavailable"
        ) from exc
    if token is None:
        raise NotFound(
            "no Spotify account is linked (or the link was revoked): link it again",
            code="spotify_not_linked",
        )
    identity = await identities_repository.get_for_user(session, user.id, OAuthProvider.spotify)
    response.headers["Cache-Control"] = "no-store"
    return SpotifyPlaybackTokenResponse(
        access_token=token,
        expires_at=identity.token_expires_at if identity else None,
        scopes=(identity.scopes or "").split() if identity else [],
    )


@router.get(
    "/spotify/callback",
    status_code=303,
    response_class=RedirectResponse,
    responses=error_responses(BadRequest, NotFound),
)
async def spotify_callback(
    params: CallbackParamsDep,
    session: SessionDep,
    redis: RedisDep,
    settings: SettingsDep,
    binding: Annotated[str | None, Cookie(alias=_SPOTIFY_COOKIE, max_length=256)] = None,
) -> RedirectResponse:
    """Finish Spotify sign-in (or linking) and redirect to the SPA with our token."""
    try:
        signed_in = await auth_service.finish_spotify_login(
            session, redis, settings, params, binding
        )
    except SignInError as error:
        await _discard(session)
        return _error_redirect(settings, error)
    return _success_redirect(settings, "spotify", _SPOTIFY_COOKIE, signed_in)


@router.post("/ws-ticket", responses=error_responses(Unauthorized))
async def ws_ticket(
    claims: AccessClaimsDep, redis: RedisDep, response: Response
) -> WsTicketResponse:
    """A single-use ticket (valid 30 s) for opening the live channel: `?ticket=`."""
    ticket = await issue_ticket(redis, claims.user_id, claims.expires_at_s)
    response.headers["Cache-Control"] = "no-store"
    return WsTicketResponse(ticket=ticket, expires_in=TICKET_TTL_S)


@router.post("/refresh", responses=error_responses(Unauthorized))
async def refresh_token(
    claims: AccessClaimsDep, settings: SettingsDep, response: Response
) -> TokenResponse:
    """A fresh token for a valid, unexpired one (up to TUNEWAVE_JWT_SESSION_MAX_S after sign-in)."""
    if claims.expires_at_s <= int(time.time()):
        raise Unauthorized("token expired")
    token, expires_in = issue_access_token(settings, claims.user_id, auth_time_s=claims.auth_time_s)
    response.headers["Cache-Control"] = "no-store"
    return TokenResponse(access_token=token, expires_in=expires_in)


async def _require_dev_mode(settings: SettingsDep) -> None:
    # Answers exactly like a route that does not exist, before the body is even read.
    if not settings.dev_login_enabled:
        raise NotFound("Not Found")


@router.post(
    "/dev-login",
    dependencies=[Depends(_require_dev_mode)],
    responses=error_responses(NotFound),
)
async def dev_login(
    body: DevLoginRequest, session: SessionDep, settings: SettingsDep
) -> TokenResponse:
    """Development only: a token for a named local user (404 outside env=dev)."""
    signed_in = await auth_service.dev_login(session, settings, body.name)
    return TokenResponse(access_token=signed_in.access_token, expires_in=signed_in.expires_in)
