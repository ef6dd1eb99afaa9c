"""Google OpenID Connect: discovery, the code exchange and ID-token verification.

Built from authlib's protocol helpers and joserfc (which authlib itself verifies ID tokens
with) over our own httpx client, so timeouts and provider failures map to clear sign-in errors.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from api.auth.errors import SignInError
from api.core.config import Settings

SCOPES = ("openid", "email", "profile")
_CACHE_TTL_S = 3600
# Asymmetric only: an HS256 ID token would be "signed" with our own client secret.
_ALLOWED_ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "PS256")
# Google's ID tokens say "accounts.google.com" or the https form; both are Google.
_GOOGLE_ISSUER = "https://accounts.google.com"
_LEEWAY_S = 60


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    signing_algorithms: tuple[str, ...]

    @property
    def accepted_issuers(self) -> list[str]:
        if self.issuer == _GOOGLE_ISSUER:
            return [self.issuer, "accounts.google.com"]
        return [self.issuer]


@dataclass(frozen=True)
class GoogleIdentity:
    subject: str
    email: str | None
    email_verified: bool
    name: str | None
    picture: str | None


_metadata_cache: dict[str, tuple[float, ProviderMetadata]] = {}
_jwks_cache: dict[str, tuple[float, dict[str, Any]]] = {}


def clear_caches() -> None:
    """Forget discovery documents and keys (tests; a key-rotation drill)."""
    _metadata_cache.clear()
    _jwks_cache.clear()


def redirect_uri(settings: Settings) -> str:
    return f"{settings.public_api_url.rstrip('/')}/auth/google/callback"


def _unavailable(what: str) -> SignInError:
    return SignInError("provider_unavailable", f"Google did not answer the {what} request")


async def _get_json(settings: Settings, url: str, what: str) -> dict[str, Any]:
    try:
        async with httpx.AsyncClient(timeout=settings.http_timeout_s) as client:
            response = await client.get(url)
    except httpx.HTTPError as exc:
        raise _unavailable(what) from exc
    if response.status_code != 200:
        raise SignInError(
            "provider_unavailable",
            f"Google answered the {what} request with HTTP {response.status_code}",
        )
    try:
        body = response.json()
    except ValueError as exc:
        raise _unavailable(what) from exc
    if not isinstance(body, dict):
        raise _unavailable(what)
    return body


async def load_metadata(settings: Settings) -> ProviderMetadata:
    url = settings.google_discovery_url
    cached = _metadata_cache.get(url)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    body = await _get_json(settings, url, "discovery")
    try:
        algorithms = tuple(
            alg
            for alg in body.get("id_token_signing_alg_values_supported", ["RS256"])
            if alg in _ALLOWED_ALGORITHMS
        )
        metadata = ProviderMetadata(
            issuer=str(body["issuer"]),
            authorization_endpoint=str(body["authorization_endpoint"]),
            token_endpoint=str(body["token_endpoint"]),
            jwks_uri=str(body["jwks_uri"]),
            signing_algorithms=algorithms or ("RS256",),
        )
    except (KeyError, TypeError) as exc:
        raise SignInError("provider_error", "Google's discovery document is incomplete") from exc
    _metadata_cache[url] = (time.monotonic() + _CACHE_TTL_S, metadata)
    return metadata


async def _load_jwks(settings: Settings, uri: str, *, force: bool = False) -> KeySet:
    cached = _jwks_cache.get(uri)
    if cached and cached[0] > time.monotonic() and not force:
        body = cached[1]
    else:
        body = await _get_json(settings, uri, "signing keys")
        _jwks_cache[uri] = (time.monotonic() + _CACHE_TTL_S, body)
    try:
        return KeySet.import_key_set(body)  # type: ignore[arg-type]
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise SignInError("provider_error", "Google's signing keys are unusable") from exc


def authorization_url(
    settings: Settings, metadata: ProviderMetadata, *, state: str, nonce: str, code_verifier: str
) -> str:
    return str(
        prepare_grant_uri(
            metadata.authorization_endpoint,
            client_id=settings.google_client_id,
            response_type="code",
            redirect_uri=redirect_uri(settings),
            scope=" ".join(SCOPES),
            state=state,
            nonce=nonce,
            code_challenge=create_s256_code_challenge(code_verifier),
            code_challenge_method="S256",
        )
    )


async def exchange_code(
    settings: Settings, metadata: ProviderMetadata, *, code: str, code_verifier: str
) -> dict[str, Any]:
    assert settings.google_client_id
    assert settings.google_client_secret
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri(settings),
        "client_id": settings.google_client_id,
        "client_secret": settings.google_client_secret.get_secret_value(),
        "code_verifier": code_verifier,
    }
    try:
        async with httpx.AsyncClient(timeout=settings.http_timeout_s) as client:
            response = await client.post(
                metadata.token_endpoint, data=form, headers={"Accept": "application/json"}
            )
    except httpx.HTTPError as exc:
        raise _unavailable("token") from exc
    if response.status_code >= 500 or response.status_code == 429:
        raise SignInError(
            "provider_unavailable",
            f"Google answered the token request with HTTP {response.status_code}",
        )
    try:
        body = response.json()
    except ValueError as exc:
        raise _unavailable("token") from exc
    if response.status_code != 200 or not isinstance(body, dict):
        error = body.get("error") if isinstance(body, dict) else None
        raise SignInError(
            "token_exchange_failed",
            f"Google refused the authorization code ({error or response.status_code})",
        )
    if not isinstance(body.get("id_token"), str) or not isinstance(body.get("access_token"), str):
        raise SignInError("invalid_id_token", "Google's token answer has no ID token")
    return body


async def verify_id_token(
    settings: Settings, metadata: ProviderMetadata, token_response: dict[str, Any], *, nonce: str
) -> GoogleIdentity:
    """Signature against the provider's JWKS, then iss, aud, exp, iat, nonce, azp and at_hash."""
    raw = token_response["id_token"]
    keys = await _load_jwks(settings, metadata.jwks_uri)
    try:
        try:
            decoded = jwt.decode(raw, keys, algorithms=list(metadata.signing_algorithms))
        except JoseError as exc:
            if exc.error not in ("invalid_key_id", "bad_signature"):
                raise
            # Google rotates its keys: fetch them again once before calling it a forgery.
            keys = await _load_jwks(settings, metadata.jwks_uri, force=True)
            decoded = jwt.decode(raw, keys, algorithms=list(metadata.signing_algorithms))
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            options={
                "iss": {"essential": True, "values": metadata.accepted_issuers},
                "aud": {"essential": True, "value": settings.google_client_id},
                "exp": {"essential": True},
                "nonce": {"essential": True, "value": nonce},
            },
            params={
                "nonce": nonce,
                "client_id": settings.google_client_id,
                "access_token": token_response["access_token"],
            },
        )
        claims.validate(leeway=_LEEWAY_S)
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        reason = getattr(exc, "claim", None) or getattr(exc, "error", None) or "malformed"
        raise SignInError("invalid_id_token", f"Google's ID token is not valid ({reason})") from exc
    email = claims.get("email")
    return GoogleIdentity(
        subject=str(claims["sub"]),
        email=email if isinstance(email, str) and email else None,
        email_verified=claims.get("email_verified") is True,
        name=claims.get("name") if isinstance(claims.get("name"), str) else None,
        picture=claims.get("picture") if isinstance(claims.get("picture"), str) else None,
    )
