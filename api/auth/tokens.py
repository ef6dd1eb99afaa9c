"""Our own access tokens: short-lived HS256 JWTs that the HTTP API and the live channel accept."""

from __future__ import annotations

import functools
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from api.core.config import Settings
from api.core.exceptions import Unauthorized

TOKEN_TYPE = "access"  # noqa: S105
# HMAC only: the secret is symmetric, and a fixed list means the token's own header can never
# pick the algorithm (no "none", no RS/HS confusion).
_HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
_REQUIRED_CLAIMS = ["sub", "iss", "aud", "exp", "iat", "jti", "typ"]
# Tolerates small clock drift between API processes.
_LEEWAY_S = 5
# Verified tokens remembered per process (see decode_access_claims).
_VERIFIED_TOKENS = 4096


def _algorithm(settings: Settings) -> str:
    if settings.jwt_algorithm not in _HMAC_ALGORITHMS:
        raise RuntimeError(f"TUNEWAVE_JWT_ALGORITHM must be one of {sorted(_HMAC_ALGORITHMS)}")
    return settings.jwt_algorithm


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: uuid.UUID
    # Epoch seconds: when the token stops being accepted, and when its user signed in
    # (renewed tokens keep the sign-in's time, so renewals cannot go on forever).
    expires_at_s: int
    auth_time_s: int


def issue_access_token(
    settings: Settings, user_id: uuid.UUID, *, auth_time_s: int | None = None
) -> tuple[str, int]:
    """A signed access token for ``user_id`` and its lifetime in seconds.

    ``auth_time_s`` is the sign-in's time when renewing a token (POST /auth/refresh); a
    renewal never outlives ``jwt_session_max_s`` after the sign-in.
    """
    now = datetime.now(UTC)
    expires_in = settings.jwt_access_ttl_s
    auth_time = int(now.timestamp()) if auth_time_s is None else auth_time_s
    session_left_s = auth_time + settings.jwt_session_max_s - int(now.timestamp())
    if session_left_s <= 0:
        raise Unauthorized("session too old: sign in again")
    expires_in = min(expires_in, session_left_s)
    claims = {
        "sub": str(user_id),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + timedelta(seconds=expires_in),
        "jti": uuid.uuid4().hex,
        "typ": TOKEN_TYPE,
        "auth_time": auth_time,
    }
    token = jwt.encode(claims, settings.jwt_secret.get_secret_value(), _algorithm(settings))
    return token, expires_in


def decode_access_token(settings: Settings, token: str) -> uuid.UUID:
    """The user id of a valid access token; ``Unauthorized`` for anything else."""
    return decode_access_claims(settings, token).user_id


def decode_access_claims(settings: Settings, token: str) -> AccessClaims:
    """The claims of a valid access token; ``Unauthorized`` for anything else.

    A client sends the same token with every request until it renews it: a token verified
    once is remembered (by its exact text, with the key and the expected issuer and
    audience), and later uses only check its expiry. Invalid tokens are never remembered."""
    claims = _verified_claims(
        token,
        settings.jwt_secret.get_secret_value(),
        _algorithm(settings),
        settings.jwt_audience,
        settings.jwt_issuer,
    )
    if claims.expires_at_s + _LEEWAY_S <= time.time():
        raise Unauthorized("token expired", code="token_expired")
    return claims


@functools.lru_cache(maxsize=_VERIFIED_TOKENS)
def _verified_claims(
    token: str, secret: str, algorithm: str, audience: str, issuer: str
) -> AccessClaims:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[algorithm],
            audience=audience,
            issuer=issuer,
            leeway=_LEEWAY_S,
            options={"require": _REQUIRED_CLAIMS, "verify_signature": True},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("token expired", code="token_expired") from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthorized("invalid token", code="invalid_token") from exc
    if claims.get("typ") != TOKEN_TYPE:
        raise Unauthorized("invalid token", code="invalid_token")
    try:
        user_id = uuid.UUID(str(claims["sub"]))
        expires_at_s = int(claims["exp"])
        # Tokens issued before auth_time existed count from their own issue time.
        auth_time_s = int(claims.get("auth_time", claims["iat"]))
    except (ValueError, TypeError, OverflowError) as exc:
        raise Unauthorized("invalid token", code="invalid_token") from exc
    return AccessClaims(user_id, expires_at_s, auth_time_s)
