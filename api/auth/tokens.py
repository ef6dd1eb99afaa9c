"""Our own access tokens: short-lived HS256 JWTs that the HTTP API and the live channel accept."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt

from api.config import Settings
from api.exceptions import Unauthorized

TOKEN_TYPE = "access"  # noqa: S105
# HMAC only: the secret is symmetric, and a fixed list means the token's own header can never
# pick the algorithm (no "none", no RS/HS confusion).
_HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
_REQUIRED_CLAIMS = ["sub", "iss", "aud", "exp", "iat", "jti", "typ"]
# Tolerates small clock drift between API processes.
_LEEWAY_S = 5


def _algorithm(settings: Settings) -> str:
    if settings.jwt_algorithm not in _HMAC_ALGORITHMS:
        raise RuntimeError(f"TUNEWAVE_JWT_ALGORITHM must be one of {sorted(_HMAC_ALGORITHMS)}")
    return settings.jwt_algorithm


def issue_access_token(settings: Settings, user_id: uuid.UUID) -> tuple[str, int]:
    """A signed access token for ``user_id`` and its lifetime in seconds."""
    now = datetime.now(UTC)
    expires_in = settings.jwt_access_ttl_s
    claims = {
        "sub": str(user_id),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + timedelta(seconds=expires_in),
        "jti": uuid.uuid4().hex,
        "typ": TOKEN_TYPE,
    }
    token = jwt.encode(claims, settings.jwt_secret.get_secret_value(), _algorithm(settings))
    return token, expires_in


def decode_access_token(settings: Settings, token: str) -> uuid.UUID:
    """The user id of a valid access token; ``Unauthorized`` for anything else."""
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=[_algorithm(settings)],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
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
        return uuid.UUID(str(claims["sub"]))
    except ValueError as exc:
        raise Unauthorized("invalid token", code="invalid_token") from exc
