"""Room passwords: argon2id, hashed off the event loop (hashing is deliberately slow)."""

from __future__ import annotations

import asyncio
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from api.core.config import Settings


@lru_cache
def _hasher(time_cost: int, memory_kib: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=4)


def password_hasher(settings: Settings) -> PasswordHasher:
    """argon2id at the cost ``settings`` ask for (RFC 9106's low-memory profile by default;
    the test suite lowers it)."""
    return _hasher(settings.argon2_time_cost, settings.argon2_memory_kib)


async def hash_password(hasher: PasswordHasher, password: str) -> str:
    return await asyncio.to_thread(hasher.hash, password)


async def verify_password(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    """Checks against the parameters stored in the hash, whatever the hasher's own cost."""
    try:
        return await asyncio.to_thread(hasher.verify, password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
