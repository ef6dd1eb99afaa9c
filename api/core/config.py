"""Settings: the one place environment variables are read.

Every setting is a ``TUNEWAVE_*`` variable, except ``DATABASE_URL``, ``REDIS_URL`` and ``PORT``,
which keep the names Heroku and most hosts give them.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Environment(StrEnum):
    dev = "dev"
    test = "test"
    prod = "prod"


def normalize_database_url(url: str) -> str:
    """Accept ``postgres://``, ``postgresql://`` and ``postgresql+psycopg://`` alike."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


# Dev-only defaults. A prod start refuses to run on them (see ``Settings.refuse_dev_secrets``).
_DEV_JWT_SECRET = "dev-only-jwt-secret-change-me-0123456789abcdef"  # noqa: S105
_DEV_ENCRYPTION_KEY = "ZGV2LW9ubHktdG9rZW4ta2V5LWNoYW5nZS1tZS0wMTI="


# Secrets must carry at least this much entropy in prod (32 bytes, as HS256 and Fernet use).
MIN_SECRET_ENTROPY_BITS = 256


def secret_entropy_bits(secret: str) -> float:
    """A conservative estimate of a secret's entropy, in bits.

    Counted as the length times the bits of the smallest alphabet its characters come from
    (hex, base64, ...), the way a random string of that alphabet would carry them, but never
    more than its Shannon entropy allows twice over: repeated or patterned text
    (``xxxx...``, ``abab...``) counts for what it is.
    """
    if not secret:
        return 0.0
    alphabet = 0
    if re.fullmatch(r"[0-9a-f]+|[0-9A-F]+", secret):
        alphabet = 16
    else:
        if re.search(r"[a-z]", secret):
            alphabet += 26
        if re.search(r"[A-Z]", secret):
            alphabet += 26
        if re.search(r"[0-9]", secret):
            alphabet += 10
        if re.search(r"[^a-zA-Z0-9]", secret):
            alphabet += 33
    by_alphabet = len(secret) * math.log2(alphabet)
    counts = {char: secret.count(char) for char in set(secret)}
    shannon = -sum(n / len(secret) * math.log2(n / len(secret)) for n in counts.values())
    return min(by_alphabet, 2 * shannon * len(secret))


def fernet_key_problem(key: str) -> str | None:
    """Why ``key`` is not a usable Fernet key, or None when it is one."""
    try:
        raw = base64.urlsafe_b64decode(key.encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return "it is not urlsafe base64"
    if len(raw) != 32:
        return f"it decodes to {len(raw)} bytes, not 32"
    if len(set(raw)) < 16:
        return "its 32 bytes are not random (too few distinct values)"
    return None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TUNEWAVE_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    env: Environment = Environment.dev

    # Services. Unset means "start the embedded ones" for `tunewave run`.
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "TUNEWAVE_DATABASE_URL")
    )
    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("REDIS_URL", "TUNEWAVE_REDIS_URL")
    )
    port: int = Field(default=8000, validation_alias=AliasChoices("PORT", "TUNEWAVE_PORT"))
    host: str = "127.0.0.1"
    data_dir: Path = PROJECT_ROOT / ".tunewave"
    db_pool_size: int = 10
    db_max_overflow: int = 10
    # Connections per process for statements that commit on their own (chat posts).
    db_autocommit_pool_size: int = Field(default=4, ge=1)
    # Every JSON body we accept is small; anything larger is refused before parsing.
    max_body_bytes: int = 256 * 1024

    # Our own tokens.
    jwt_secret: SecretStr = SecretStr(_DEV_JWT_SECRET)
    jwt_algorithm: str = "HS256"
    jwt_issuer: str = "tunewave"
    jwt_audience: str = "tunewave-api"
    jwt_access_ttl_s: int = 60 * 60 * 24
    # argon2id cost for room passwords (RFC 9106 low-memory profile by default).
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=64 * 1024, ge=8)
    # Fernet key (urlsafe base64 of 32 bytes) for provider tokens at rest.
    token_encryption_key: SecretStr = SecretStr(_DEV_ENCRYPTION_KEY)

    # Google (OpenID Connect). The discovery URL is a setting so tests point it at loopback.
    google_client_id: str | None = None
    google_client_secret: SecretStr | None = None
    google_discovery_url: str = "https://accounts.google.com/.well-known/openid-configuration"

    # Spotify (Authorization Code + PKCE, and the Web API).
    spotify_client_id: str | None = None
    spotify_client_secret: SecretStr | None = None
    spotify_accounts_url: str = "https://accounts.spotify.com"
    spotify_api_url: str = "https://api.spotify.com/v1"
    spotify_scopes: str = (
        "user-read-email user-read-private user-read-recently-played user-top-read "
        "streaming user-read-playback-state user-modify-playback-state"
    )

    # Outbound HTTP to providers.
    http_timeout_s: float = 10.0

    # Where the SPA lives; OAuth callbacks redirect here, never to a URL from the request.
    frontend_url: str = "http://127.0.0.1:8000"
    # The public base URL of this API, for OAuth redirect URIs.
    public_api_url: str = "http://127.0.0.1:8000"
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # The live room channel (docs/realtime.md). Unset origins: the same list as CORS.
    ws_allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    ws_max_frame_bytes: int = Field(default=16 * 1024, ge=256)
    # Token bucket per connection, for every client frame (pings included).
    ws_frames_per_s: float = Field(default=20.0, gt=0)
    ws_frame_burst: int = Field(default=40, ge=1)
    # Frames refused for rate within ws_flood_window_s before the connection is closed.
    ws_flood_strikes: int = Field(default=20, ge=1)
    ws_flood_window_s: float = Field(default=5.0, gt=0)
    # A socket's send budget: frames queued, and bytes queued or still buffered below us.
    # Over it for ws_slow_consumer_grace_s (or one send blocked that long): closed with 4408.
    ws_send_queue_frames: int = Field(default=256, ge=8)
    ws_send_budget_bytes: int = Field(default=512 * 1024, ge=16 * 1024)
    ws_slow_consumer_grace_s: float = Field(default=5.0, gt=0)
    # How long a chat message that arrives ahead of its predecessors waits for them before
    # they are read from PostgreSQL.
    ws_reorder_window_s: float = Field(default=0.2, gt=0)
    # Per-message deflate on live sockets: off, as compressing each event once per socket
    # costs more CPU than the rest of the fan-out (docs/realtime.md).
    ws_compression: bool = False
    # Sockets admitted at once per process (database and Redis work of connecting); the
    # others wait their turn instead of exhausting the pools in a reconnect storm.
    ws_admission_concurrency: int = Field(default=8, ge=1)
    # After SIGTERM: sockets closed with 1001 at once, the process gone within this time.
    shutdown_deadline_s: float = Field(default=8.0, gt=0)
    # A socket's presence lives this long unless its process refreshes it (a killed process's
    # sockets expire); refreshed every third of it.
    ws_presence_ttl_s: float = Field(default=15.0, gt=0.3)
    # A user whose sockets expired is announced as `left` only once their process also
    # stopped heart-beating for this long: a stalled (not dead) process keeps its users.
    ws_presence_process_grace_s: float = Field(default=60.0, gt=0)
    # Room events published while Redis is down are kept (per process, at most this many)
    # and published again when it returns, so other processes' sockets get them too.
    ws_replay_buffer_events: int = Field(default=5000, ge=0)
    # How often a process looks for rooms whose track ended without moving on (a missed or
    # failed end-of-track transition is retried at this pace until it lands).
    playback_sweep_interval_s: float = Field(default=0.25, gt=0)

    # Redis connections: retries with capped exponential backoff and jitter on connection
    # errors and timeouts, and a PING before reusing a connection idle this long.
    redis_retries: int = Field(default=3, ge=0)
    redis_retry_cap_s: float = Field(default=0.5, gt=0)
    redis_health_check_interval_s: int = Field(default=5, ge=0)
    redis_socket_timeout_s: float = Field(default=5.0, gt=0)
    # Who may play, pause, seek and skip: "managers" (owner and DJs) or "members".
    playback_control: str = Field(default="managers", pattern="^(managers|members)$")

    # Caps per user (docs/auth.md): rooms one may own, live sockets one may hold at once
    # (across rooms and API processes), catalog tracks one may add per hour.
    max_rooms_per_user: int = Field(default=20, ge=1)
    ws_max_sockets_per_user: int = Field(default=8, ge=1)
    user_tracks_per_hour: int = Field(default=30, ge=1)
    # A socket's slot in the per-user count expires unless refreshed (a killed process).
    ws_socket_slot_ttl_s: float = Field(default=60.0, ge=1)
    # Tokens may be renewed (POST /auth/refresh) until this long after the sign-in.
    jwt_session_max_s: int = Field(default=30 * 24 * 60 * 60, ge=60)

    # GET /metrics: when set, only with `Authorization: Bearer <this>` (docs/deployment.md).
    metrics_token: SecretStr | None = None

    log_level: str = "INFO"
    log_json: bool = True

    # Celery on Redis: an unacknowledged task (its worker died) goes back to the queue after
    # this long. Shorter than the longest task on purpose: a long task holds a lease (see
    # api/core/lease.py) so a second delivery while it still runs waits instead of running twice.
    celery_visibility_timeout_s: int = Field(default=30, ge=1)
    # How often a worker looks for unacknowledged tasks past the visibility timeout.
    celery_restore_interval_s: float = Field(default=5.0, gt=0)
    # A task's lease (training, history import, genre enrichment) expires this long after its
    # last renewal; it is renewed every third of it while the task runs.
    task_lease_ttl_s: float = Field(default=30.0, gt=0.3)

    @field_validator("database_url")
    @classmethod
    def _normalize_database_url(cls, value: str | None) -> str | None:
        return normalize_database_url(value) if value else value

    @field_validator("cors_origins", "ws_allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    def refuse_dev_secrets(self) -> None:
        """A prod process never runs on the published dev secrets.

        Checked outside pydantic validation on purpose: a validation error would echo every
        input value, DATABASE_URL's password included, into the logs.
        """
        if self.env is not Environment.prod:
            return
        jwt_secret = self.jwt_secret.get_secret_value()
        if jwt_secret == _DEV_JWT_SECRET:
            raise RuntimeError("TUNEWAVE_JWT_SECRET must be set in prod")
        if secret_entropy_bits(jwt_secret) < MIN_SECRET_ENTROPY_BITS:
            raise RuntimeError(
                "TUNEWAVE_JWT_SECRET is too weak for prod: it needs at least 32 random bytes "
                "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        encryption_key = self.token_encryption_key.get_secret_value()
        if encryption_key == _DEV_ENCRYPTION_KEY:
            raise RuntimeError("TUNEWAVE_TOKEN_ENCRYPTION_KEY must be set in prod")
        problem = fernet_key_problem(encryption_key)
        if problem is not None:
            raise RuntimeError(
                f"TUNEWAVE_TOKEN_ENCRYPTION_KEY is not a valid Fernet key ({problem}); make one "
                "with python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'"
            )
        if self.metrics_token is not None and (
            secret_entropy_bits(self.metrics_token.get_secret_value()) < MIN_SECRET_ENTROPY_BITS
        ):
            raise RuntimeError("TUNEWAVE_METRICS_TOKEN is too weak for prod: use 32 random bytes")

    @property
    def google_enabled(self) -> bool:
        return bool(self.google_client_id and self.google_client_secret)

    @property
    def spotify_enabled(self) -> bool:
        return bool(self.spotify_client_id)

    @property
    def dev_login_enabled(self) -> bool:
        return self.env is Environment.dev

    @property
    def allowed_origins(self) -> list[str]:
        return sorted({self.frontend_url.rstrip("/"), *(o.rstrip("/") for o in self.cors_origins)})

    @property
    def ws_origins(self) -> frozenset[str]:
        origins = self.ws_allowed_origins or self.allowed_origins
        return frozenset(origin.rstrip("/") for origin in origins)

    def require_database_url(self) -> str:
        if not self.database_url:
            raise RuntimeError("DATABASE_URL is not set (tunewave run starts an embedded one)")
        return self.database_url

    def require_redis_url(self) -> str:
        if not self.redis_url:
            raise RuntimeError("REDIS_URL is not set (tunewave run starts an embedded one)")
        return self.redis_url


@lru_cache
def get_settings() -> Settings:
    settings = Settings()
    settings.refuse_dev_secrets()
    return settings
