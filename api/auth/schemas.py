from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from api.models import IdentityStatus, OAuthProvider


class ProviderConfig(BaseModel):
    enabled: bool
    client_id: str | None
    # Where the SPA sends the browser to sign in (this API, which then redirects on).
    login_url: str
    # The provider's own authorization endpoint, when known.
    authorize_url: str | None
    redirect_uri: str
    scopes: list[str]


class AuthConfigResponse(BaseModel):
    google: ProviderConfig
    spotify: ProviderConfig
    dev_login_enabled: bool


class DevLoginRequest(BaseModel):
    name: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.\-]*$")


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int


class WsTicketResponse(BaseModel):
    """A single-use ticket for `WS /ws/chat/{room_id}?ticket=...`, valid `expires_in` seconds."""

    ticket: str
    expires_in: int


class AuthorizeUrlResponse(BaseModel):
    authorize_url: str


class SpotifyPlaybackTokenResponse(BaseModel):
    """The signed-in user's own Spotify access token, for the Web Playback SDK in their browser."""

    access_token: str
    expires_at: datetime | None
    scopes: list[str]


class LinkedProvider(BaseModel):
    """A sign-in provider linked to the caller's account (no tokens, no provider ids)."""

    provider: OAuthProvider
    # "revoked": the provider refused our tokens; link again to use it.
    status: IdentityStatus
    linked_at: datetime
