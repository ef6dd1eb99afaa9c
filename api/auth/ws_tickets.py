"""Single-use, short-lived tickets for opening the live channel from a browser.

A browser cannot set headers on a WebSocket handshake, and a URL ends up in logs and
histories: so rather than its long-lived access token, the SPA puts a ticket in the URL
(``/ws/chat/{room_id}?ticket=...``). A ticket is 32 random bytes, issued by an authenticated
``POST /auth/ws-ticket``, valid for ``TICKET_TTL_S`` and spent by the first handshake that
shows it (Redis ``GETDEL``). Only its SHA-256 is stored. It carries the expiry of the token
that asked for it, so the socket still closes when that token expires.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass

from redis.asyncio import Redis

TICKET_TTL_S = 30
_PREFIX = "tunewave:ws-ticket:"
# A ticket is 43 urlsafe characters; anything much longer is not one of ours.
MAX_TICKET_LENGTH = 128


@dataclass(frozen=True, slots=True)
class Ticket:
    user_id: uuid.UUID
    # When the access token behind the ticket expires (epoch seconds).
    token_expires_at_s: int


def _key(ticket: str) -> str:
    return _PREFIX + hashlib.sha256(ticket.encode()).hexdigest()


async def issue_ticket(redis: Redis, user_id: uuid.UUID, token_expires_at_s: int) -> str:
    ticket = secrets.token_urlsafe(32)
    payload = json.dumps({"user_id": str(user_id), "exp": token_expires_at_s})
    await redis.set(_key(ticket), payload, ex=TICKET_TTL_S)
    return ticket


async def redeem_ticket(redis: Redis, ticket: str) -> Ticket | None:
    """The ticket's holder, once: a second use (or an expired ticket) finds nothing."""
    if not ticket or len(ticket) > MAX_TICKET_LENGTH:
        return None
    raw = await redis.getdel(_key(ticket))
    if raw is None:
        return None
    data = json.loads(raw)
    return Ticket(uuid.UUID(data["user_id"]), int(data["exp"]))
