"""Server-side OAuth login state in Redis: one key per ``state``, short-lived, read once."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import asdict, dataclass

from redis.asyncio import Redis

from api.models import OAuthProvider

LOGIN_STATE_TTL_S = 600
_KEY_PREFIX = "auth:login:"
_STATE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,128}$")


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def new_code_verifier() -> str:
    # 64 random bytes -> 86 urlsafe characters, inside RFC 7636's 43..128.
    return secrets.token_urlsafe(64)


def binding_hash(binding: str) -> str:
    return hashlib.sha256(binding.encode()).hexdigest()


@dataclass(frozen=True)
class LoginState:
    provider: str
    code_verifier: str
    nonce: str | None
    # sha256 of the HttpOnly cookie set on the browser that started the login.
    binding_hash: str | None
    # Set when a signed-in user links the provider to their account instead of signing in.
    link_user_id: str | None = None

    def bound_to(self, binding: str | None) -> bool:
        if self.binding_hash is None:
            return True
        if not binding:
            return False
        return hmac.compare_digest(self.binding_hash, binding_hash(binding))


class LoginStateStore:
    async def save(self, redis: Redis, state: str, login: LoginState) -> None:
        await redis.set(_KEY_PREFIX + state, json.dumps(asdict(login)), ex=LOGIN_STATE_TTL_S)

    async def consume(self, redis: Redis, state: str) -> LoginState | None:
        """The state's data, deleted in the same step so a replayed callback finds nothing."""
        if not _STATE_PATTERN.fullmatch(state):
            return None
        raw = await redis.getdel(_KEY_PREFIX + state)
        if raw is None:
            return None
        data = json.loads(raw)
        if data.get("provider") not in {p.value for p in OAuthProvider}:
            return None
        return LoginState(**data)


login_state_store = LoginStateStore()
