"""Our access tokens: what they carry and everything decode refuses."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from pydantic import SecretStr

from api.auth import tokens as tokens_module
from api.auth.tokens import decode_access_token, issue_access_token
from api.core.config import Settings, get_settings
from api.core.exceptions import Unauthorized


@pytest.fixture
def token_settings() -> Settings:
    return get_settings().model_copy(update={"jwt_access_ttl_s": 900})


def signed(settings: Settings, **overrides: object) -> str:
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "sub": str(uuid.uuid4()),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "jti": uuid.uuid4().hex,
        "typ": "access",
    }
    claims.update(overrides)
    claims = {key: value for key, value in claims.items() if value is not None}
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), "HS256")


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_round_trip_and_claims(token_settings: Settings) -> None:
    user_id = uuid.uuid4()
    token, expires_in = issue_access_token(token_settings, user_id)

    assert expires_in == 900
    assert decode_access_token(token_settings, token) == user_id
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert header["alg"] == "HS256"
    assert claims["sub"] == str(user_id)
    assert claims["iss"] == token_settings.jwt_issuer
    assert claims["aud"] == token_settings.jwt_audience
    assert claims["typ"] == "access"
    assert claims["exp"] - claims["iat"] == 900
    assert (
        claims["jti"]
        != jwt.decode(
            issue_access_token(token_settings, user_id)[0], options={"verify_signature": False}
        )["jti"]
    )


def test_expired_token_is_refused(token_settings: Settings) -> None:
    past = datetime.now(UTC) - timedelta(hours=1)
    token = signed(token_settings, iat=past - timedelta(minutes=5), exp=past)
    with pytest.raises(Unauthorized, match="token expired"):
        decode_access_token(token_settings, token)


def test_tampered_payload_is_refused(token_settings: Settings) -> None:
    token, _ = issue_access_token(token_settings, uuid.uuid4())
    header, _payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["sub"] = str(uuid.uuid4())
    with pytest.raises(Unauthorized, match="invalid token"):
        decode_access_token(token_settings, f"{header}.{b64(claims)}.{signature}")


def test_alg_none_is_refused(token_settings: Settings) -> None:
    token, _ = issue_access_token(token_settings, uuid.uuid4())
    claims = jwt.decode(token, options={"verify_signature": False})
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
    with pytest.raises(Unauthorized):
        decode_access_token(token_settings, unsigned)


@pytest.mark.filterwarnings("ignore:The HMAC key is")
def test_other_hmac_algorithm_is_refused(token_settings: Settings) -> None:
    # Same secret, but an algorithm the token chose instead of the one we fixed.
    now = datetime.now(UTC)
    claims = {
        "sub": str(uuid.uuid4()),
        "iss": token_settings.jwt_issuer,
        "aud": token_settings.jwt_audience,
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "jti": "j",
        "typ": "access",
    }
    token = jwt.encode(claims, token_settings.jwt_secret.get_secret_value(), "HS512")
    with pytest.raises(Unauthorized):
        decode_access_token(token_settings, token)


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": "someone-else"},
        {"iss": "someone-else"},
        {"typ": "refresh"},
        {"typ": None},
        {"jti": None},
        {"exp": None},
        {"sub": "not-a-uuid"},
    ],
)
def test_wrong_or_missing_claims_are_refused(
    token_settings: Settings, overrides: dict[str, object]
) -> None:
    with pytest.raises(Unauthorized):
        decode_access_token(token_settings, signed(token_settings, **overrides))


def test_other_secret_is_refused(token_settings: Settings) -> None:
    other = token_settings.model_copy(update={"jwt_secret": SecretStr("x" * 48)})
    token, _ = issue_access_token(other, uuid.uuid4())
    with pytest.raises(Unauthorized):
        decode_access_token(token_settings, token)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "ey.ey.ey"])
def test_garbage_is_refused(token_settings: Settings, garbage: str) -> None:
    with pytest.raises(Unauthorized):
        decode_access_token(token_settings, garbage)


def test_a_token_accepted_once_is_still_refused_once_expired_or_under_another_key(
    token_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Verified tokens are remembered; expiry is checked on every use all the same.
    now = datetime.now(UTC)
    token = signed(token_settings, iat=now, exp=now + timedelta(seconds=60))
    user_id = decode_access_token(token_settings, token)
    assert decode_access_token(token_settings, token) == user_id
    monkeypatch.setattr(tokens_module.time, "time", lambda: now.timestamp() + 60 + 6)
    with pytest.raises(Unauthorized, match="token expired"):
        decode_access_token(token_settings, token)
    monkeypatch.undo()
    # The same text under another key or audience is verified again, and refused.
    other_key = token_settings.model_copy(update={"jwt_secret": SecretStr("y" * 48)})
    with pytest.raises(Unauthorized, match="invalid token"):
        decode_access_token(other_key, token)
    other_audience = token_settings.model_copy(update={"jwt_audience": "someone-else"})
    with pytest.raises(Unauthorized, match="invalid token"):
        decode_access_token(other_audience, token)
