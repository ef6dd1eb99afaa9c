"""An async Spotify client: Authorization Code + PKCE on the accounts service, and the Web API.

Base URLs come from settings (``spotify_accounts_url``, ``spotify_api_url``) so tests point
them at a fake on loopback. Every failure is one of the errors below; none leaks httpx.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from api.core.config import Settings
from api.core.exceptions import TooManyRequests, Unauthorized, UpstreamError

_DEFAULT_RETRY_AFTER_S = 5


class SpotifyError(UpstreamError):
    """Spotify failed or did not answer."""


class SpotifyUnavailable(SpotifyError):
    """Spotify is unreachable, too slow, or answered with a server error."""


class SpotifyGrantRejected(SpotifyError):
    """The accounts service refused a code or refresh token (``error`` says why)."""

    def __init__(self, error: str, detail: str) -> None:
        super().__init__(detail)
        self.error = error


class SpotifyUnauthorized(Unauthorized):
    """Spotify refused the user's access token."""


class SpotifyRateLimited(TooManyRequests):
    """Spotify asked us to slow down."""


@dataclass(frozen=True)
class SpotifyTokens:
    access_token: str
    # Spotify may rotate the refresh token on refresh, or leave it out (keep the old one).
    refresh_token: str | None
    expires_in_s: int
    scope: str | None


@dataclass(frozen=True)
class SpotifyProfile:
    id: str
    display_name: str | None
    email: str | None
    image_url: str | None


class SpotifyClient:
    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout_s: float | None = None,
    ):
        self._settings = settings
        self._transport = transport
        # Interactive calls (search as you type) wait less than the settings' default.
        self._timeout_s = timeout_s if timeout_s is not None else settings.http_timeout_s

    @property
    def accounts_url(self) -> str:
        return self._settings.spotify_accounts_url.rstrip("/")

    @property
    def api_url(self) -> str:
        return self._settings.spotify_api_url.rstrip("/")

    def authorize_url(self, *, redirect_uri: str, state: str, code_verifier: str) -> str:
        return str(
            prepare_grant_uri(
                f"{self.accounts_url}/authorize",
                client_id=self._settings.spotify_client_id,
                response_type="code",
                redirect_uri=redirect_uri,
                scope=self._settings.spotify_scopes,
                state=state,
                code_challenge=create_s256_code_challenge(code_verifier),
                code_challenge_method="S256",
            )
        )

    async def exchange_code(
        self, *, code: str, redirect_uri: str, code_verifier: str
    ) -> SpotifyTokens:
        return await self._token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
            }
        )

    async def refresh(self, refresh_token: str) -> SpotifyTokens:
        return await self._token_request(
            {"grant_type": "refresh_token", "refresh_token": refresh_token}
        )

    async def client_credentials(self) -> SpotifyTokens:
        """An app access token (no user): the Client Credentials grant, which needs the secret."""
        if self._settings.spotify_client_secret is None:
            raise SpotifyGrantRejected("invalid_client", "Client Credentials need a client secret")
        return await self._token_request({"grant_type": "client_credentials"})

    async def search_tracks(
        self, access_token: str, query: str, *, limit: int, offset: int = 0
    ) -> dict[str, Any]:
        """``GET /search?type=track``: Spotify's own answer, ``{"tracks": {...}}``."""
        return await self.api_get(
            access_token,
            "/search",
            {"q": query, "type": "track", "limit": limit, "offset": offset},
        )

    async def recently_played(
        self,
        access_token: str,
        *,
        after_ms: int | None = None,
        before_ms: int | None = None,
        limit: int = 50,
    ) -> dict[str, Any]:
        """``GET /me/player/recently-played``: Spotify's page, newest first, with ``cursors``.

        ``after_ms`` asks for plays after that instant, ``before_ms`` for older ones (the
        ``next`` link pages with ``before``); Spotify accepts one of them, not both.
        """
        params: dict[str, Any] = {"limit": limit}
        if before_ms is not None:
            params["before"] = before_ms
        elif after_ms is not None:
            params["after"] = after_ms
        return await self.api_get(access_token, "/me/player/recently-played", params)

    async def get_artists(self, access_token: str, artist_ids: list[str]) -> dict[str, Any]:
        """``GET /artists?ids=`` (at most 50 ids): ``{"artists": [artist or null, ...]}``."""
        return await self.api_get(access_token, "/artists", {"ids": ",".join(artist_ids)})

    async def get_me(self, access_token: str) -> SpotifyProfile:
        body = await self.api_get(access_token, "/me")
        try:
            images = body.get("images") or []
            image_url = images[0].get("url") if images and isinstance(images[0], dict) else None
            return SpotifyProfile(
                id=str(body["id"]),
                display_name=body.get("display_name") or None,
                email=body.get("email") or None,
                image_url=image_url,
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise SpotifyUnavailable("Spotify's profile answer is malformed") from exc

    async def api_get(
        self, access_token: str, path: str, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """GET a Web API path (``/me``, ``/search``, ...) with the user's access token."""
        response = await self._send(
            "GET",
            f"{self.api_url}{path}",
            params=params,
            headers={"Authorization": f"Bearer {access_token}"},
        )
        if response.status_code == 401:
            raise SpotifyUnauthorized("Spotify refused the access token")
        self._raise_for_server_trouble(response)
        if response.status_code != 200:
            raise SpotifyError(f"Spotify answered {path} with HTTP {response.status_code}")
        return self._json_object(response)

    async def _token_request(self, form: dict[str, str]) -> SpotifyTokens:
        settings = self._settings
        auth: tuple[str, str] | None = None
        assert settings.spotify_client_id
        if settings.spotify_client_secret is not None:
            auth = (settings.spotify_client_id, settings.spotify_client_secret.get_secret_value())
        else:
            # PKCE public client: the verifier stands in for the secret.
            form = {**form, "client_id": settings.spotify_client_id}
        response = await self._send("POST", f"{self.accounts_url}/api/token", data=form, auth=auth)
        self._raise_for_server_trouble(response)
        if response.status_code != 200:
            error = "invalid_request"
            try:
                body = response.json()
                if isinstance(body, dict) and isinstance(body.get("error"), str):
                    error = body["error"]
            except ValueError:
                pass
            raise SpotifyGrantRejected(error, f"Spotify refused the token request ({error})")
        body = self._json_object(response)
        try:
            return SpotifyTokens(
                access_token=str(body["access_token"]),
                refresh_token=str(body["refresh_token"]) if body.get("refresh_token") else None,
                expires_in_s=int(body.get("expires_in", 3600)),
                scope=str(body["scope"]) if body.get("scope") is not None else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SpotifyUnavailable("Spotify's token answer is malformed") from exc

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            async with httpx.AsyncClient(
                timeout=self._timeout_s, transport=self._transport
            ) as client:
                return await client.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise SpotifyUnavailable("Spotify did not answer in time") from exc
        except httpx.HTTPError as exc:
            raise SpotifyUnavailable("Spotify is unreachable") from exc

    @staticmethod
    def _raise_for_server_trouble(response: httpx.Response) -> None:
        if response.status_code == 429:
            try:
                retry_after_s = int(response.headers.get("Retry-After", _DEFAULT_RETRY_AFTER_S))
            except ValueError:
                retry_after_s = _DEFAULT_RETRY_AFTER_S
            raise SpotifyRateLimited("Spotify rate limit reached", retry_after_s=retry_after_s)
        if response.status_code >= 500:
            raise SpotifyUnavailable(f"Spotify answered with HTTP {response.status_code}")

    @staticmethod
    def _json_object(response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError as exc:
            raise SpotifyUnavailable("Spotify's answer is not JSON") from exc
        if not isinstance(body, dict):
            raise SpotifyUnavailable("Spotify's answer is not a JSON object")
        return body
