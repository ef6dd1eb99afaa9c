"""Every domain's router, in the order they appear in the OpenAPI document."""

from fastapi import APIRouter

from api.auth.endpoints import router as auth_router
from api.chat.endpoints import router as chat_router
from api.discovery.endpoints import me_router as explore_router
from api.discovery.endpoints import router as genre_pages_router
from api.genres.endpoints import router as genres_router
from api.history.endpoints import router as history_router
from api.live.endpoints import router as live_router
from api.playback.endpoints import router as playback_router
from api.queue.endpoints import router as queue_router
from api.recommendations.endpoints import router as recommendations_router
from api.rooms.endpoints import router as rooms_router
from api.search.endpoints import public_router as search_public_router
from api.search.endpoints import router as search_router
from api.tracks.endpoints import router as tracks_router
from api.users.endpoints import router as users_router

ROUTERS: list[APIRouter] = [
    auth_router,
    users_router,
    history_router,
    rooms_router,
    genres_router,
    genre_pages_router,
    explore_router,
    chat_router,
    queue_router,
    playback_router,
    live_router,
    tracks_router,
    search_public_router,
    search_router,
    recommendations_router,
]
