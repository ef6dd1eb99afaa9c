"""The hot public reads, answered straight from the read cache in front of the router.

Everybody opening TuneWave reads the same few things: the room list, a room, its latest chat
page, catalog search. Their answers live in the read cache (api/core/cache.py) and change only
when somebody writes. For an anonymous GET whose path and query this module recognises
exactly, ``ReadCacheMiddleware`` looks the answer up in one Redis round trip and sends the
stored bytes without entering FastAPI's routing, dependencies or a database session. Anything
else — a miss, a request with an ``Authorization`` header (its token must be checked), an
unusual query (repeated, unknown or malformed parameters, which FastAPI validates and
answers) — goes on to the endpoint, which computes the answer and stores it under the same
key. The keys are built by the functions below, which the endpoints use as well, so both
paths always agree.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl

from redis.asyncio import Redis
from starlette.datastructures import URL
from starlette.types import ASGIApp, Receive, Scope, Send

from api.core.cache import CATALOG, ROOM_LIST, ReadCache, cache_field, room_scope
from api.core.config import Settings
from api.genres.vocabulary import genre_slug

CacheKey = tuple[str, str]


# --- The keys, shared with the endpoints ---------------------------------------------------


def room_list_key(genre: str | None, text: str | None, limit: int, offset: int) -> CacheKey:
    return ROOM_LIST, cache_field(genre=genre, q=text, limit=limit, offset=offset)


def room_view_key(room_id: uuid.UUID) -> CacheKey:
    return room_scope(room_id), "view"


def chat_latest_key(room_id: uuid.UUID, limit: int) -> CacheKey:
    """A public room's newest ``limit`` messages (private rooms' pages are never stored)."""
    return room_scope(room_id), cache_field(page="latest", limit=limit)


def genre_page_key(slug: str) -> CacheKey:
    """A genre's page (api/discovery): the same for everybody, kept ``ENTRY_TTL_S`` (60 s;
    no write invalidates it: its rooms, plays and people change continuously). Not among
    ``ROUTES``: it needs a signed-in listener, so the endpoint reads the cache after the
    token check, never the middleware."""
    return f"genre:{slug}", "page"


def catalog_search_page_key(url: URL) -> CacheKey:
    """A whole public search answer from the catalog; its links embed the request's URL."""
    return CATALOG, f"page={url}"


def public_search_uses_spotify(settings: Settings) -> bool:
    """Whether the open search asks Spotify at all (else the catalog answers, always)."""
    return bool(settings.spotify_client_id and settings.spotify_client_secret)


# --- Recognising requests exactly as the endpoints would accept them -----------------------

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


class _Unusual(Exception):
    """Not a request this module answers: the endpoint handles (and validates) it."""


def _int(raw: str, low: int, high: int) -> int:
    if not re.fullmatch(r"0|[1-9][0-9]{0,5}", raw):
        raise _Unusual
    value = int(raw)
    if not low <= value <= high:
        raise _Unusual
    return value


def _text(raw: str, max_length: int) -> str:
    if not raw or len(raw) > max_length:
        raise _Unusual
    return raw


@dataclass(frozen=True, slots=True)
class _CachedRoute:
    template: str  # the route's path template, for metrics
    pattern: re.Pattern[str]
    params: frozenset[str]
    key: Callable[[re.Match[str], dict[str, str], Scope], CacheKey]
    when: Callable[[Settings], bool] = lambda settings: True

    @property
    def path(self) -> str:  # what the metrics middleware reads from scope["route"]
        return self.template


def _room_list(match: re.Match[str], query: dict[str, str], scope: Scope) -> CacheKey:
    genre = genre_slug(_text(query["genre"], 64)) if "genre" in query else None
    text = _text(query["q"], 100).strip() or None if "q" in query else None
    limit = _int(query.get("limit", "20"), 1, 100)
    offset = _int(query.get("offset", "0"), 0, 10_000)
    return room_list_key(genre, text, limit, offset)


def _room_view(match: re.Match[str], query: dict[str, str], scope: Scope) -> CacheKey:
    return room_view_key(uuid.UUID(match["room_id"]))


def _chat_latest(match: re.Match[str], query: dict[str, str], scope: Scope) -> CacheKey:
    if "limit" not in query:
        raise _Unusual
    return chat_latest_key(uuid.UUID(match["room_id"]), _int(query["limit"], 1, 100))


def _public_search(match: re.Match[str], query: dict[str, str], scope: Scope) -> CacheKey:
    if not _text(query.get("query", ""), 200).strip():
        raise _Unusual
    _int(query.get("limit", "10"), 1, 50)
    _int(query.get("offset", "0"), 0, 1000)
    return catalog_search_page_key(URL(scope=scope))


ROUTES = (
    _CachedRoute(
        "/rooms/",
        re.compile(r"/rooms/"),
        frozenset({"genre", "q", "limit", "offset"}),
        _room_list,
    ),
    _CachedRoute(
        "/rooms/{room_id}", re.compile(rf"/rooms/(?P<room_id>{_UUID})"), frozenset(), _room_view
    ),
    _CachedRoute(
        "/chat/{room_id}",
        re.compile(rf"/chat/(?P<room_id>{_UUID})"),
        frozenset({"limit"}),
        _chat_latest,
    ),
    _CachedRoute(
        "/spotify-public/search/tracks",
        re.compile(r"/spotify-public/search/tracks"),
        frozenset({"query", "limit", "offset"}),
        _public_search,
        when=lambda settings: not public_search_uses_spotify(settings),
    ),
)


def _recognise(scope: Scope, settings: Settings) -> tuple[_CachedRoute, CacheKey] | None:
    if scope["method"] != "GET":
        return None
    path: str = scope["path"]
    for route in ROUTES:
        match = route.pattern.fullmatch(path)
        if match is None or not route.when(settings):
            continue
        pairs = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        query = dict(pairs)
        if len(query) != len(pairs) or not query.keys() <= route.params:
            return None
        try:
            return route, route.key(match, query, scope)
        except (_Unusual, ValueError):
            return None
    return None


class ReadCacheMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings, redis: Redis) -> None:
        self.app = app
        self.settings = settings
        self.redis = redis

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _has_authorization(scope):
            await self.app(scope, receive, send)
            return
        recognised = _recognise(scope, self.settings)
        if recognised is None:
            await self.app(scope, receive, send)
            return
        route, (cache_scope, field) = recognised
        cached = await ReadCache(self.redis).get(cache_scope, field)
        if not isinstance(cached, str):
            await self.app(scope, receive, send)
            return
        scope["route"] = route
        body = cached.encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _has_authorization(scope: Scope) -> bool:
    return any(name == b"authorization" for name, _ in scope["headers"])
