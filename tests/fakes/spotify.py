"""A small fake Spotify: the accounts service (authorize, token with PKCE and refresh) and the
Web API (``/v1/me``, search, tracks, recently-played paged by cursors, artists), served
over real HTTP on loopback by ``serve_asgi``.

State lives on the ``FakeSpotify`` object, so a test arranges users, revokes tokens or injects
faults (500, 429 with Retry-After, hang) and then asserts what the fake received. New Web API
endpoints go on ``api`` as further routes; they authenticate with ``self.user_for``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from tests.fakes.faults import HANG_LIMIT_S, FaultTable, InjectsFaults

CLIENT_ID = "fake-spotify-client"


@dataclass
class FakeSpotifyUser:
    id: str
    display_name: str | None = None
    email: str | None = None
    image_url: str | None = None
    country: str = "SE"
    product: str = "premium"

    def profile(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "display_name": self.display_name,
            "email": self.email,
            "images": [{"url": self.image_url, "height": 300, "width": 300}]
            if self.image_url
            else [],
            "country": self.country,
            "product": self.product,
            "type": "user",
            "uri": f"spotify:user:{self.id}",
        }


@dataclass
class _Grant:
    user_id: str
    client_id: str
    redirect_uri: str
    code_challenge: str
    scope: str


@dataclass
class _AccessToken:
    user_id: str
    scope: str
    expires_at: float


@dataclass
class FakeSpotify(InjectsFaults):
    client_id: str = CLIENT_ID
    client_secret: str | None = None
    base_url: str = ""
    access_token_ttl_s: int = 3600
    # Spotify may hand out a new refresh token on refresh; tests can turn that off.
    rotate_refresh_tokens: bool = True
    users: dict[str, FakeSpotifyUser] = field(default_factory=dict)
    # Who is "logged in at Spotify" when the browser reaches /authorize.
    signed_in_user: str | None = None
    deny_consent: bool = False
    codes: dict[str, _Grant] = field(default_factory=dict)
    access_tokens: dict[str, _AccessToken] = field(default_factory=dict)
    refresh_tokens: dict[str, _AccessToken] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    faults: FaultTable = field(default_factory=FaultTable)
    # Client Credentials tokens (no user) -> expiry; /v1/search accepts them and user tokens.
    app_tokens: dict[str, float] = field(default_factory=dict)
    # What /v1/search finds (Spotify track objects), and the searches it received.
    searchable: list[dict[str, Any]] = field(default_factory=list)
    searches: list[dict[str, str]] = field(default_factory=list)
    # Each user's plays (newest first when served) and the artists /v1/artists knows.
    plays: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    artists: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The query strings /v1/me/player/recently-played and /v1/artists received.
    history_requests: list[dict[str, str]] = field(default_factory=list)
    artist_requests: list[list[str]] = field(default_factory=list)
    # The n-th recently-played request (1-based) and later ones hang, as a stalled Spotify.
    hang_history_from_request: int | None = None

    def reset(self) -> None:
        self.client_secret = None
        self.access_token_ttl_s = 3600
        self.rotate_refresh_tokens = True
        self.users.clear()
        self.signed_in_user = None
        self.deny_consent = False
        self.codes.clear()
        self.access_tokens.clear()
        self.refresh_tokens.clear()
        self.requests.clear()
        self.faults.clear()
        self.app_tokens.clear()
        self.searchable.clear()
        self.searches.clear()
        self.plays.clear()
        self.artists.clear()
        self.history_requests.clear()
        self.artist_requests.clear()
        self.hang_history_from_request = None

    # --- arranging --------------------------------------------------------------------------

    def add_user(self, user_id: str, **fields: Any) -> FakeSpotifyUser:
        user = FakeSpotifyUser(id=user_id, **fields)
        self.users[user_id] = user
        return user

    def sign_in_as(self, user_id: str, **fields: Any) -> FakeSpotifyUser:
        user = self.users.get(user_id) or self.add_user(user_id, **fields)
        self.signed_in_user = user.id
        return user

    def add_search_track(self, track_id: str, name: str, artist: str, **fields: Any) -> dict:
        track = spotify_track(track_id, name, artist, **fields)
        self.searchable.append(track)
        return track

    def add_play(
        self, user_id: str, track: dict[str, Any], played_at_ms: int, *, context: Any = None
    ) -> None:
        """``user_id`` played ``track`` (a ``spotify_track`` object) at ``played_at_ms``."""
        self.plays.setdefault(user_id, []).append(
            {"track": track, "played_at_ms": played_at_ms, "context": context}
        )

    def add_artist(self, name: str, genres: list[str], **fields: Any) -> dict[str, Any]:
        """An artist ``/v1/artists`` knows, under the id ``spotify_track`` gives that name."""
        artist_id = spotify_artist_id(name)
        artist = {
            "id": artist_id,
            "name": name,
            "type": "artist",
            "uri": f"spotify:artist:{artist_id}",
            "genres": genres,
            "popularity": fields.get("popularity", 50),
            "images": [],
        }
        self.artists[artist_id] = artist
        return artist

    def grant_access_token(self, user_id: str) -> str:
        """An access token for a user, as if they had signed in earlier."""
        token = "fake-access-" + secrets.token_urlsafe(24)
        self.access_tokens[token] = _AccessToken(user_id, "", time.time() + self.access_token_ttl_s)
        return token

    def grant_refresh_token(self, user_id: str) -> str:
        """A refresh token for a user, as if they had signed in earlier."""
        token = "fake-refresh-" + secrets.token_urlsafe(24)
        self.refresh_tokens[token] = _AccessToken(user_id, "", float("inf"))
        return token

    def revoke_user_tokens(self, user_id: str) -> None:
        for store in (self.access_tokens, self.refresh_tokens):
            for token in [t for t, grant in store.items() if grant.user_id == user_id]:
                del store[token]

    def token_calls(self, grant_type: str | None = None) -> int:
        return sum(
            1
            for method, path in self.requests
            if method == "POST"
            and path.startswith("/api/token")
            and (grant_type is None or path.endswith(f"#{grant_type}"))
        )

    # --- authentication helpers for Web API routes ------------------------------------------

    def user_for(self, request: Request) -> FakeSpotifyUser | JSONResponse:
        header = request.headers.get("authorization", "")
        token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
        grant = self.access_tokens.get(token)
        if grant is None or grant.expires_at <= time.time():
            return _api_error(401, "Invalid access token" if grant is None else "expired")
        user = self.users.get(grant.user_id)
        if user is None:
            return _api_error(401, "Invalid access token")
        return user

    # --- the app ----------------------------------------------------------------------------

    def build_app(self) -> FastAPI:
        app = FastAPI()

        @app.middleware("http")
        async def misbehave(request: Request, call_next: Any) -> Response:
            path = request.url.path
            fault = self.faults.take(path)
            if fault is not None:
                self.requests.append((request.method, path))
                if fault.hang:
                    release = self.faults.release
                    await asyncio.to_thread(release.wait, HANG_LIMIT_S)
                    return JSONResponse({"error": "server_error"}, status_code=504)
                headers = {"Retry-After": str(fault.retry_after_s)} if fault.retry_after_s else {}
                return JSONResponse(
                    {"error": {"status": fault.status, "message": "injected fault"}},
                    status_code=fault.status,
                    headers=headers,
                )
            return await call_next(request)

        app.include_router(self._accounts_router())
        app.include_router(self._api_router(), prefix="/v1")
        return app

    def _accounts_router(self) -> APIRouter:
        router = APIRouter()

        @router.get("/authorize")
        async def authorize(request: Request) -> Response:
            self.requests.append(("GET", "/authorize"))
            q = request.query_params
            if q.get("client_id") != self.client_id:
                return JSONResponse({"error": "INVALID_CLIENT: Invalid client"}, 400)
            redirect_uri = q.get("redirect_uri")
            if not redirect_uri:
                return JSONResponse({"error": "INVALID_CLIENT: Invalid redirect URI"}, 400)
            if q.get("response_type") != "code":
                return JSONResponse({"error": "unsupported_response_type"}, 400)
            challenge = q.get("code_challenge")
            if q.get("code_challenge_method") != "S256" or not challenge:
                return JSONResponse({"error": "invalid_request: PKCE S256 required"}, 400)
            state = q.get("state")
            if self.deny_consent or self.signed_in_user is None:
                params = {"error": "access_denied"}
            else:
                code = secrets.token_urlsafe(24)
                self.codes[code] = _Grant(
                    user_id=self.signed_in_user,
                    client_id=self.client_id,
                    redirect_uri=redirect_uri,
                    code_challenge=challenge,
                    scope=q.get("scope", ""),
                )
                params = {"code": code}
            if state is not None:
                params["state"] = state
            return RedirectResponse(f"{redirect_uri}?{urlencode(params)}", status_code=303)

        @router.post("/api/token")
        async def token(request: Request) -> Response:
            # Parsed by hand: form parsing in Starlette would need python-multipart.
            form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
            grant_type = str(form.get("grant_type", ""))
            self.requests.append(("POST", f"/api/token#{grant_type}"))
            client_id = self._authenticate_client(request, form)
            if client_id is None:
                return _token_error(400, "invalid_client", "Invalid client")
            if grant_type == "authorization_code":
                return self._code_grant(form, client_id)
            if grant_type == "refresh_token":
                return self._refresh_grant(form)
            if grant_type == "client_credentials":
                return self._client_credentials_grant(request)
            return _token_error(400, "unsupported_grant_type", "grant_type not supported")

        return router

    def _api_router(self) -> APIRouter:
        router = APIRouter()

        @router.get("/me")
        async def me(request: Request) -> Response:
            self.requests.append(("GET", "/v1/me"))
            user = self.user_for(request)
            if isinstance(user, JSONResponse):
                return user
            return JSONResponse(user.profile())

        @router.get("/search")
        async def search(request: Request) -> Response:
            self.requests.append(("GET", "/v1/search"))
            header = request.headers.get("authorization", "")
            token = header.removeprefix("Bearer ").strip()
            q = request.query_params
            if self.app_tokens.get(token, 0) > time.time():
                self.searches.append({"token": "app", **q})
            else:
                user = self.user_for(request)
                if isinstance(user, JSONResponse):
                    return user
                self.searches.append({"token": user.id, **q})
            if not q.get("q") or q.get("type") != "track":
                return _api_error(400, "No search query" if not q.get("q") else "Bad type")
            limit, offset = int(q.get("limit", 20)), int(q.get("offset", 0))
            words = q["q"].lower().split()
            found = [
                track
                for track in self.searchable
                if all(
                    word in f"{track['name']} {track['artists'][0]['name']}".lower()
                    for word in words
                )
            ]
            return JSONResponse(
                {
                    "tracks": {
                        "href": str(request.url),
                        "items": found[offset : offset + limit],
                        "limit": limit,
                        "next": None,
                        "offset": offset,
                        "previous": None,
                        "total": len(found),
                    }
                }
            )

        @router.get("/tracks/{track_id}")
        async def track(track_id: str, request: Request) -> Response:
            # Looks among the searchable tracks: what Spotify can find, it can also fetch.
            self.requests.append(("GET", f"/v1/tracks/{track_id}"))
            token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            if self.app_tokens.get(token, 0) <= time.time():
                user = self.user_for(request)
                if isinstance(user, JSONResponse):
                    return user
            for item in self.searchable:
                if item["id"] == track_id:
                    return JSONResponse(item)
            return _api_error(404, "Non existing id")

        @router.get("/me/player/recently-played")
        async def recently_played(request: Request) -> Response:
            self.requests.append(("GET", "/v1/me/player/recently-played"))
            user = self.user_for(request)
            if isinstance(user, JSONResponse):
                return user
            q = request.query_params
            self.history_requests.append({"user": user.id, **q})
            hang_from = self.hang_history_from_request
            if hang_from is not None and len(self.history_requests) >= hang_from:
                await asyncio.to_thread(self.faults.release.wait, HANG_LIMIT_S)
                return _api_error(503, "stalled")
            try:
                limit = int(q.get("limit", 20))
                after = int(q["after"]) if "after" in q else None
                before = int(q["before"]) if "before" in q else None
            except ValueError:
                return _api_error(400, "Invalid limit or cursor")
            if not 1 <= limit <= 50 or (after is not None and before is not None):
                return _api_error(400, "Bad limit, or both after and before")
            plays = sorted(
                self.plays.get(user.id, []), key=lambda play: play["played_at_ms"], reverse=True
            )
            if after is not None:
                plays = [play for play in plays if play["played_at_ms"] > after]
            if before is not None:
                plays = [play for play in plays if play["played_at_ms"] < before]
            page, rest = plays[:limit], plays[limit:]
            base = str(request.url).split("?")[0]
            cursors = (
                {
                    "after": str(page[0]["played_at_ms"]),
                    "before": str(page[-1]["played_at_ms"]),
                }
                if page
                else None
            )
            return JSONResponse(
                {
                    "href": str(request.url),
                    "limit": limit,
                    "next": f"{base}?before={page[-1]['played_at_ms']}&limit={limit}"
                    if page and rest
                    else None,
                    "cursors": cursors,
                    "items": [
                        {
                            "track": play["track"],
                            "played_at": _iso_ms(play["played_at_ms"]),
                            "context": play["context"],
                        }
                        for play in page
                    ],
                }
            )

        @router.get("/artists")
        async def several_artists(request: Request) -> Response:
            self.requests.append(("GET", "/v1/artists"))
            if not self._app_or_user_token(request):
                return _api_error(401, "Invalid access token")
            ids = [part for part in request.query_params.get("ids", "").split(",") if part]
            if not ids or len(ids) > 50:
                return _api_error(400, "ids: between 1 and 50")
            self.artist_requests.append(ids)
            return JSONResponse({"artists": [self.artists.get(artist_id) for artist_id in ids]})

        return router

    def _app_or_user_token(self, request: Request) -> bool:
        token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if self.app_tokens.get(token, 0) > time.time():
            return True
        return not isinstance(self.user_for(request), JSONResponse)

    # --- grants -----------------------------------------------------------------------------

    def _authenticate_client(self, request: Request, form: Any) -> str | None:
        header = request.headers.get("authorization", "")
        if header.startswith("Basic "):
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            if client_id == self.client_id and secret == self.client_secret:
                return client_id
            return None
        client_id = str(form.get("client_id", ""))
        # Without a secret the client is public: PKCE's verifier proves it is the same one.
        return client_id if client_id == self.client_id else None

    def _code_grant(self, form: Any, client_id: str) -> Response:
        grant = self.codes.pop(str(form.get("code", "")), None)
        if grant is None or grant.client_id != client_id:
            return _token_error(400, "invalid_grant", "Invalid authorization code")
        if str(form.get("redirect_uri", "")) != grant.redirect_uri:
            return _token_error(400, "invalid_grant", "Invalid redirect URI")
        verifier = str(form.get("code_verifier", ""))
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        if not verifier or not secrets.compare_digest(challenge, grant.code_challenge):
            return _token_error(400, "invalid_grant", "code_verifier was incorrect")
        return self._issue(grant.user_id, grant.scope, refresh_token=None)

    def _refresh_grant(self, form: Any) -> Response:
        refresh_token = str(form.get("refresh_token", ""))
        grant = self.refresh_tokens.get(refresh_token)
        if grant is None:
            return _token_error(400, "invalid_grant", "Refresh token revoked")
        if self.rotate_refresh_tokens:
            del self.refresh_tokens[refresh_token]
            return self._issue(grant.user_id, grant.scope, refresh_token=None)
        return self._issue(grant.user_id, grant.scope, refresh_token=refresh_token)

    def _client_credentials_grant(self, request: Request) -> Response:
        # Client Credentials need the secret (Basic auth); a PKCE public client cannot use it.
        if not request.headers.get("authorization", "").startswith("Basic "):
            return _token_error(400, "invalid_client", "Invalid client secret")
        access_token = "fake-app-" + secrets.token_urlsafe(24)
        self.app_tokens[access_token] = time.time() + self.access_token_ttl_s
        return JSONResponse(
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": self.access_token_ttl_s,
            }
        )

    def _issue(self, user_id: str, scope: str, *, refresh_token: str | None) -> Response:
        access_token = "fake-access-" + secrets.token_urlsafe(24)
        expires_at = time.time() + self.access_token_ttl_s
        self.access_tokens[access_token] = _AccessToken(user_id, scope, expires_at)
        body: dict[str, Any] = {
            "access_token": access_token,
            "token_type": "Bearer",
            "scope": scope,
            "expires_in": self.access_token_ttl_s,
        }
        if refresh_token is None:
            new_refresh = "fake-refresh-" + secrets.token_urlsafe(24)
            self.refresh_tokens[new_refresh] = _AccessToken(user_id, scope, float("inf"))
            body["refresh_token"] = new_refresh
        return JSONResponse(body)


def spotify_track(
    track_id: str,
    name: str,
    artist: str,
    *,
    album: str = "An Album",
    duration_ms: int = 200_000,
    popularity: int = 50,
) -> dict[str, Any]:
    """A track object as Spotify's Web API returns it (the fields clients use)."""
    artist_id = spotify_artist_id(artist)
    return {
        "id": track_id,
        "name": name,
        "type": "track",
        "uri": f"spotify:track:{track_id}",
        "href": f"https://api.spotify.com/v1/tracks/{track_id}",
        "external_urls": {"spotify": f"https://open.spotify.com/track/{track_id}"},
        "duration_ms": duration_ms,
        "popularity": popularity,
        "explicit": False,
        "preview_url": None,
        "artists": [
            {
                "id": artist_id,
                "name": artist,
                "type": "artist",
                "uri": f"spotify:artist:{artist_id}",
                "href": f"https://api.spotify.com/v1/artists/{artist_id}",
                "external_urls": {"spotify": f"https://open.spotify.com/artist/{artist_id}"},
            }
        ],
        "album": {
            "id": "album" + track_id,
            "name": album,
            "type": "album",
            "album_type": "album",
            "release_date": "2020-01-01",
            "images": [{"url": f"https://i.scdn.co/image/{track_id}", "height": 640, "width": 640}],
        },
    }


def spotify_artist_id(name: str) -> str:
    """The id ``spotify_track`` gives an artist: 22 characters, stable per name."""
    return "artist" + hashlib.sha1(name.encode()).hexdigest()[:16]  # noqa: S324


def _iso_ms(epoch_ms: int) -> str:
    """Spotify's ``played_at``: ISO 8601 in UTC with milliseconds and a Z."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


def _token_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def _api_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "message": message}}, status_code=status)
