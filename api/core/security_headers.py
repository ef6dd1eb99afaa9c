"""Security headers on every HTTP response: the SPA, its assets, the API, errors and /docs.

Wrapped around the whole application (outside Starlette's error middleware), so even a 500
carries them. Three Content-Security-Policies (docs/auth.md, "Security headers"):

- the SPA's HTML: scripts and styles from our origin only (plus the Spotify Web Playback
  SDK's host), images from our origin and the image hosts of Spotify (and Google's avatars),
  connections to our origin, its WebSocket and Spotify's Web API, never framed;
- /docs and /redoc (Swagger UI and ReDoc load from the jsDelivr CDN and start with an inline
  script): that CDN and inline scripts, on those two pages only;
- everything else (JSON, assets, errors): ``default-src 'none'`` — nothing in an API answer
  may run or load anything if a browser ever renders it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.core.config import Settings

# Where Spotify serves cover art and profile pictures (also the allow-list for track images).
SPOTIFY_IMAGE_HOSTS = (
    "i.scdn.co",
    "mosaic.scdn.co",
    "image-cdn-ak.spotifycdn.com",
    "image-cdn-fa.spotifycdn.com",
    "seed-mix-image.spotifycdn.com",
)
# Google's profile pictures (sign-in avatars; never user-supplied).
GOOGLE_AVATAR_HOSTS = ("lh3.googleusercontent.com",)
SPOTIFY_SDK_ORIGIN = "https://sdk.scdn.co"
SPOTIFY_API_ORIGIN = "https://api.spotify.com"
DOCS_CDN = "https://cdn.jsdelivr.net"
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})

API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def _ws_origin(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.netloc:
        return None
    return f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}"


def spa_policy(settings: Settings) -> str:
    images = " ".join(f"https://{host}" for host in (*SPOTIFY_IMAGE_HOSTS, *GOOGLE_AVATAR_HOSTS))
    # 'self' covers same-origin ws(s) in current browsers; the explicit origin covers older
    # ones (the SPA connects to the origin it was served from: TUNEWAVE_FRONTEND_URL).
    sockets = " ".join(
        sorted({origin for url in (settings.frontend_url,) if (origin := _ws_origin(url))})
    )
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' {SPOTIFY_SDK_ORIGIN}",
            "style-src 'self'",
            f"img-src 'self' data: {images}",
            "font-src 'self'",
            f"connect-src 'self' {sockets} {SPOTIFY_API_ORIGIN}".replace("  ", " "),
            # The Web Playback SDK plays inside an iframe of its own host.
            f"frame-src {SPOTIFY_SDK_ORIGIN}",
            "media-src 'self' blob:",
            "worker-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            # OAuth sign-in is a navigation to our own /auth/*/login, never a form post away.
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def docs_policy() -> str:
    return "; ".join(
        (
            "default-src 'none'",
            # Swagger UI and ReDoc come from the CDN and start from one inline script.
            f"script-src {DOCS_CDN} 'unsafe-inline'",
            f"style-src {DOCS_CDN} 'unsafe-inline'",
            f"img-src 'self' data: {DOCS_CDN} https://fastapi.tiangolo.com",
            f"font-src {DOCS_CDN}",
            "connect-src 'self'",
            f"worker-src 'self' blob: {DOCS_CDN}",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
        )
    )


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.spa_policy = spa_policy(settings).encode()
        self.docs_policy = docs_policy().encode()
        self.api_policy = API_POLICY.encode()
        self.common: list[tuple[bytes, bytes]] = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
        ]
        if settings.public_api_url.startswith("https://"):
            self.common.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() != b"content-security-policy"
                ]
                content_type = next(
                    (value for name, value in headers if name.lower() == b"content-type"), b""
                )
                if path in DOCS_PATHS:
                    policy = self.docs_policy
                elif content_type.startswith(b"text/html"):
                    policy = self.spa_policy
                else:
                    policy = self.api_policy
                present = {name.lower() for name, _ in headers}
                headers.extend(item for item in self.common if item[0] not in present)
                headers.append((b"content-security-policy", policy))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
