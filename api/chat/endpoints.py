from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.chat.schemas import MessageAuthor, MessageCreate, MessageResponse, UtcDatetime
from api.chat.service import MessageView, chat_service
from api.deps import CurrentUser, OptionalUser, RedisDep, SessionDep
from api.exceptions import (
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
    Unprocessable,
    error_responses,
)

router = APIRouter(prefix="/chat", tags=["chat"])

MAX_SEQ = 2**63 - 1


def message_response(view: MessageView) -> MessageResponse:
    author = view.author
    return MessageResponse(
        id=view.id,
        room_id=view.room_id,
        seq=view.seq,
        user=MessageAuthor(
            id=author.id, display_name=author.display_name, avatar_url=author.avatar_url
        )
        if author is not None
        else None,
        text=view.text,
        client_id=view.client_id,
        created_at=view.created_at,
    )


@router.get(
    "/{room_id}", responses=error_responses(Unauthorized, Forbidden, NotFound, Unprocessable)
)
async def list_messages(
    room_id: uuid.UUID,
    session: SessionDep,
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
) -> list[MessageResponse]:
    """The room's chat history, newest first (private rooms: members only)."""
    views = await chat_service.history(
        session,
        user,
        room_id,
        limit=limit,
        before_seq=before_seq,
        before_timestamp=before_timestamp,
    )
    return [message_response(view) for view in views]


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
    user: CurrentUser,
    session: SessionDep,
    redis: RedisDep,
    response: Response,
) -> MessageResponse:
    """Post a message to the room's chat (members only)."""
    posted = await chat_service.post(session, redis, user, room_id, data)
    if not posted.created:
        response.status_code = status.HTTP_200_OK
    return message_response(posted.view)
