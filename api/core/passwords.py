"""Room passwords: argon2id, hashed off the event loop (hashing is deliberately slow)."""

from __future__ import annotations

import asyncio
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from api.core.config import get_settings


@lru_cache
def _hasher() -> PasswordHasher:
    # Defaults are RFC 9106's low-memory argon2id profile; the test suite lowers the cost.
    settings = get_settings()
    return PasswordHasher(
        time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib, parallelism=4
    )


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher().hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    """Checks against the parameters stored in the hash, whatever the current settings."""
    try:
        return await asyncio.to_thread(_hasher().verify, password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
