from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from pydantic import TypeAdapter

from api.cached_reads import chat_latest_key
from api.chat.schemas import MessageCreate, MessageResponse, UtcDatetime
from api.chat.service import chat_service
from api.core.cache import ReadCache
from api.core.exceptions import (
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
    Unprocessable,
    error_responses,
)
from api.core.json import JSONBytes
from api.deps import Autocommit, CurrentUserId, OptionalUser, RedisDep, SessionDep

router = APIRouter(prefix="/chat", tags=["chat"])

MAX_SEQ = 2**63 - 1
_PAGE = TypeAdapter(list[MessageResponse])


@router.get(
    "/{room_id}",
    response_model=list[MessageResponse],
    responses=error_responses(Unauthorized, Forbidden, NotFound, Unprocessable),
)
async def list_messages(
    room_id: uuid.UUID,
    session: SessionDep,
    redis: RedisDep,
    user: OptionalUser,
    limit: Annotated[int, Query(ge=1, le=100, description="page size")],
    before_seq: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_SEQ,
            description="exact cursor: only messages with a smaller seq (send the oldest seq "
            "you have)",
        ),
    ] = None,
    before_timestamp: Annotated[
        UtcDatetime | None,
        Query(
            description="only messages created strictly before this instant (naive = UTC); "
            "to page, send the oldest created_at exactly as received, or prefer before_seq",
        ),
    ] = None,
) -> Response:
    """The room's chat history, newest first (private rooms: members only)."""
    # The latest page of a public room is what everybody opening it reads: it is served
    # from the read cache (see api/cached_reads.py) until the next message or room change.
    latest = before_seq is None and before_timestamp is None
    cache = ReadCache(redis)
    scope, field = chat_latest_key(room_id, limit)
    cached = await cache.get(scope, field) if latest else None
    if isinstance(cached, str):
        return JSONBytes(cached)
    page = await chat_service.history(
        session,
        user,
        room_id,
        limit=limit,
        before_seq=before_seq,
        before_timestamp=before_timestamp,
    )
    body = _PAGE.dump_json([MessageResponse.from_view(view) for view in page.messages]).decode()
    # A hit never checks membership, so only public rooms' pages are stored; making a
    # room private invalidates its scope.
    if cached is not None and page.room_is_public:
        await cache.put(scope, field, body, cached)
    return JSONBytes(body)


@router.post(
    "/{room_id}",
    status_code=status.HTTP_201_CREATED,
    responses={
        status.HTTP_200_OK: {
            "model": MessageResponse,
            "description": "A resend: the message stored earlier with this client_id",
        },
        **error_responses(Unauthorized, Forbidden, NotFound, TooManyRequests, Unprocessable),
    },
)
async def post_message(
    room_id: uuid.UUID,
    data: MessageCreate,
    # A post is one read (the author, the room, the membership and a resend at once) and one
    # storing statement: no BEGIN/COMMIT.
    _autocommit: Autocommit,
    user_id: CurrentUserId,
    session: SessionDep,
    redis: RedisDep,
    response: Response,
) -> MessageResponse:
    """Post a message to the room's chat (members only)."""
    posted = await chat_service.post(session, redis, user_id, room_id, data)
    if not posted.created:
        response.status_code = status.HTTP_200_OK
    return MessageResponse.from_view(posted.view)
