from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.core.exceptions import Unauthorized, Unprocessable, error_responses
from api.deps import CurrentUser, SessionDep
from api.history.schemas import HistoryItem, HistoryPage, ListeningSummary
from api.history.service import MAX_HISTORY_PAGE, history_service

router = APIRouter(prefix="/users", tags=["history"])


@router.get("/me/history", responses=error_responses(Unauthorized, Unprocessable))
async def get_my_history(
    user: CurrentUser,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_HISTORY_PAGE)] = 50,
    before: Annotated[
        str | None,
        Query(max_length=64, description="next_before of the previous page: older plays"),
    ] = None,
) -> HistoryPage:
    """The signed-in user's listening history, newest first."""
    rows, next_before = await history_service.page(session, user.id, limit=limit, before=before)
    return HistoryPage(
        items=[HistoryItem.from_row(row, track) for row, track in rows],
        next_before=next_before,
    )


@router.get("/me/summary", responses=error_responses(Unauthorized))
async def get_my_summary(user: CurrentUser, session: SessionDep) -> ListeningSummary:
    """The signed-in user's listening at a glance: plays, top genres, top artists."""
    return ListeningSummary.model_validate(await history_service.summary(session, user.id))
