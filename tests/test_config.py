from __future__ import annotations

import secrets

import pytest
from cryptography.fernet import Fernet

from api.core.config import Environment, Settings, normalize_database_url


@pytest.mark.parametrize(
    "url",
    [
        "postgres://u:p@db.example:5432/app",
        "postgresql://u:p@db.example:5432/app",
        "postgresql+psycopg://u:p@db.example:5432/app",
    ],
)
def test_heroku_and_plain_database_urls_are_accepted_as_they_come(url: str) -> None:
    assert normalize_database_url(url) == "postgresql+psycopg://u:p@db.example:5432/app"


def test_database_url_is_normalised_when_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/d")
    monkeypatch.setenv("REDIS_URL", "rediss://:pw@redis.example:6380")
    settings = Settings()
    assert settings.database_url == "postgresql+psycopg://u@h/d"
    assert settings.redis_url == "rediss://:pw@redis.example:6380"


def test_cors_origins_come_as_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUNEWAVE_CORS_ORIGINS", "https://a.example, https://b.example/")
    monkeypatch.setenv("TUNEWAVE_FRONTEND_URL", "https://app.example")
    assert Settings().allowed_origins == [
        "https://a.example",
        "https://app.example",
        "https://b.example",
    ]


def test_prod_refuses_the_dev_secrets_without_echoing_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://app:very-secret-pw@db/app")
    settings = Settings(env=Environment.prod)
    with pytest.raises(RuntimeError, match="TUNEWAVE_JWT_SECRET") as raised:
        settings.refuse_dev_secrets()
    assert "very-secret-pw" not in str(raised.value)
    settings = Settings(env=Environment.prod, jwt_secret=secrets.token_urlsafe(32))
    with pytest.raises(RuntimeError, match="TUNEWAVE_TOKEN_ENCRYPTION_KEY"):
        settings.refuse_dev_secrets()


def test_secrets_never_appear_in_the_settings_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUNEWAVE_JWT_SECRET", "jwt-secret-value")
    monkeypatch.setenv("TUNEWAVE_GOOGLE_CLIENT_SECRET", "google-secret-value")
    text = repr(Settings())
    assert "jwt-secret-value" not in text
    assert "google-secret-value" not in text


@pytest.mark.parametrize(
    "weak",
    [
        "x",
        "a-real-secret-of-enough-length",
        "x" * 64,
        "ab" * 40,
        "hunter22hunter22hunter22hunter22",
    ],
)
def test_prod_refuses_weak_jwt_secrets_naming_the_variable(weak: str) -> None:
    settings = Settings(
        env=Environment.prod, jwt_secret=weak, token_encryption_key=Fernet.generate_key().decode()
    )
    with pytest.raises(RuntimeError, match="TUNEWAVE_JWT_SECRET is too weak") as raised:
        settings.refuse_dev_secrets()
    assert weak not in str(raised.value)


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("not a key", "not urlsafe base64"),
        ("c2hvcnQ=", "decodes to 5 bytes"),
        ("A" * 43 + "=", "not random"),
    ],
)
def test_prod_refuses_invalid_fernet_keys_naming_the_variable(key: str, why: str) -> None:
    settings = Settings(
        env=Environment.prod, jwt_secret=secrets.token_urlsafe(32), token_encryption_key=key
    )
    with pytest.raises(RuntimeError, match="TUNEWAVE_TOKEN_ENCRYPTION_KEY") as raised:
        settings.refuse_dev_secrets()
    assert why in str(raised.value)


def test_prod_starts_on_strong_secrets() -> None:
    for secret in (secrets.token_urlsafe(32), secrets.token_hex(32), secrets.token_urlsafe(48)):
        Settings(
            env=Environment.prod,
            jwt_secret=secret,
            token_encryption_key=Fernet.generate_key().decode(),
        ).refuse_dev_secrets()
