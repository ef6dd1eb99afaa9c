"""Listening history: importing Spotify plays, reading the history back, the taste summary.

The import is a batch job run by a worker (``workers.history_import``). It commits one unit of
work per page of plays, so a worker killed in the middle keeps what it stored; the unique key
of ``listening_events`` (user, source, track, played_at) makes the re-run skip those plays, and
the per-user cursor only moves forward once every page is stored. See docs/history.md.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.auth.repository import identities_repository
from api.auth.service import auth_service
from api.core.config import Settings
from api.core.db import session_scope
from api.core.exceptions import Unprocessable
from api.history.repository import HistoryRow, history_repository
from api.integrations.spotify.client import (
    SpotifyClient,
    SpotifyUnauthorized,
    SpotifyUnavailable,
)
from api.models import ListeningSource, OAuthProvider, Track
from api.tracks.repository import tracks_repository
from api.tracks.service import PlayedTrack, spotify_track_fields, tracks_service

logger = logging.getLogger(__name__)

# Spotify keeps a user's last 50 plays; a few pages is already more than it will ever hold.
PAGE_LIMIT = 50
MAX_PAGES = 10
SUMMARY_TOP = 10
MAX_HISTORY_PAGE = 100


@dataclass(frozen=True, slots=True)
class ImportResult:
    # "imported", "not_linked" (no Spotify identity) or "revoked" (the link needs renewing)
    status: str
    stored: int = 0
    pages: int = 0
    cursor_ms: int | None = None


@dataclass(frozen=True, slots=True)
class SpotifyPlay:
    played_at: datetime
    track: dict[str, Any]
    # (name, Spotify artist id) in credit order
    artists: list[tuple[str, str | None]]

    @property
    def played_at_ms(self) -> int:
        return int(self.played_at.timestamp() * 1000)


def _parse_played_at(raw: object) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_recently_played(page: dict[str, Any]) -> list[SpotifyPlay]:
    """The usable plays of a recently-played page; malformed items and local files (no id)
    are left out with a log line rather than failing the whole import."""
    plays = []
    items = page.get("items")
    for item in items if isinstance(items, list) else []:
        track = item.get("track") if isinstance(item, dict) else None
        played_at = _parse_played_at(item.get("played_at")) if isinstance(item, dict) else None
        track_id = track.get("id") if isinstance(track, dict) else None
        if played_at is None or not isinstance(track_id, str) or not track_id:
            logger.info("skipping a recently-played item without a track id or time")
            continue
        assert isinstance(track, dict)
        try:
            fields = spotify_track_fields(track_id, track)
        except SpotifyUnavailable:
            logger.info("skipping malformed recently-played track %s", track_id)
            continue
        raw_artists = track.get("artists") if isinstance(track.get("artists"), list) else []
        provider_ids = {
            artist.get("name"): artist.get("id")
            for artist in raw_artists or []
            if isinstance(artist, dict) and isinstance(artist.get("id"), str)
        }
        artists = [(name, provider_ids.get(name)) for name in fields["artists"]]
        plays.append(SpotifyPlay(played_at=played_at, track=fields, artists=artists))
    return plays


def encode_history_cursor(row: HistoryRow) -> str:
    epoch_us = int(row.played_at.timestamp() * 1_000_000)
    return f"{epoch_us}_{row.id}"


def decode_history_cursor(raw: str) -> tuple[datetime, int]:
    epoch_us, sep, event_id = raw.partition("_")
    try:
        if not sep:
            raise ValueError(raw)
        moment = datetime.fromtimestamp(int(epoch_us) / 1_000_000, tz=UTC)
        return moment, int(event_id)
    except (ValueError, OverflowError, OSError) as exc:
        raise Unprocessable(
            "before: not a cursor from a previous page (next_before)", field="before"
        ) from exc


@dataclass(slots=True)
class _ImportRun:
    """Where one import is: what it reads with and what it has stored so far."""

    settings: Settings
    user_id: uuid.UUID
    maker: async_sessionmaker[AsyncSession] | None
    client: SpotifyClient
    token: str
    cursor: int | None
    newest: int | None
    before: int | None = None
    stored: int = 0
    pages: int = 0
    refreshed_after_401: bool = False


class HistoryService:
    # --- importing ---------------------------------------------------------------------------

    async def import_spotify_history(
        self,
        settings: Settings,
        user_id: uuid.UUID,
        *,
        maker: async_sessionmaker[AsyncSession] | None = None,
        client: SpotifyClient | None = None,
    ) -> ImportResult:
        """Import the user's recently-played plays newer than their cursor.

        Spotify being down or rate-limiting raises (the task retries, honouring Retry-After);
        a revoked link is marked on the identity and reported, never raised.
        """
        client = client or SpotifyClient(settings)
        run = await self._begin_import(settings, user_id, maker, client)
        if isinstance(run, ImportResult):
            return run
        while run.pages < MAX_PAGES:
            page = await self._next_page(run)
            if page is None:
                return ImportResult(status="revoked", stored=run.stored, cursor_ms=run.cursor)
            if not await self._store_page(run, page):
                break
        if run.newest is not None and run.newest != run.cursor:
            async with session_scope(maker) as session:
                await identities_repository.advance_history_cursor(session, user_id, run.newest)
        return ImportResult(
            status="imported", stored=run.stored, pages=run.pages, cursor_ms=run.newest
        )

    async def _begin_import(
        self,
        settings: Settings,
        user_id: uuid.UUID,
        maker: async_sessionmaker[AsyncSession] | None,
        client: SpotifyClient,
    ) -> _ImportRun | ImportResult:
        """The import's starting point (cursor and access token), or why there is none."""
        async with session_scope(maker) as session:
            identity = await identities_repository.get_for_user(
                session, user_id, OAuthProvider.spotify
            )
            if identity is None:
                return ImportResult(status="not_linked")
            cursor = identity.history_cursor_ms
            token = await auth_service.spotify_access_token(
                session, settings, user_id, client=client
            )
        if token is None:
            return ImportResult(status="revoked", cursor_ms=cursor)
        return _ImportRun(settings, user_id, maker, client, token, cursor, newest=cursor)

    async def _next_page(self, run: _ImportRun) -> dict[str, Any] | None:
        """The next page of plays; None when the link turned out revoked.

        A token revoked before its expiry is refreshed once; a refused refresh marks the
        link revoked (committed) and ends the import quietly."""
        while True:
            try:
                return await run.client.recently_played(
                    run.token, after_ms=run.cursor, before_ms=run.before, limit=PAGE_LIMIT
                )
            except SpotifyUnauthorized:
                if run.refreshed_after_401:
                    raise
                run.refreshed_after_401 = True
            async with session_scope(run.maker) as session:
                await identities_repository.expire_token(
                    session, run.user_id, OAuthProvider.spotify
                )
            async with session_scope(run.maker) as session:
                token = await auth_service.spotify_access_token(
                    session, run.settings, run.user_id, client=run.client
                )
            if token is None:
                return None
            run.token = token

    async def _store_page(self, run: _ImportRun, page: dict[str, Any]) -> bool:
        """Store a page's plays newer than the cursor; True when an older page may follow."""
        run.pages += 1
        plays = parse_recently_played(page)
        cursor = run.cursor
        fresh = [play for play in plays if cursor is None or play.played_at_ms > cursor]
        if fresh:
            async with session_scope(run.maker) as session:
                run.stored += await self.store_spotify_plays(session, run.user_id, fresh)
            run.newest = max(run.newest or 0, *(play.played_at_ms for play in fresh))
        oldest = min((play.played_at_ms for play in plays), default=None)
        if not page.get("next") or oldest is None or (cursor is not None and oldest <= cursor):
            return False
        run.before = oldest
        return True

    async def store_spotify_plays(
        self, session: AsyncSession, user_id: uuid.UUID, plays: list[SpotifyPlay]
    ) -> int:
        """Add unknown tracks and artists to the catalog and the plays to the history, in
        bulk; returns how many plays were new."""
        track_ids = await tracks_service.add_played(
            session, [PlayedTrack(play.track, play.artists) for play in plays]
        )
        # Spotify lists plays of at least 30 s without saying how long; the track's length
        # is the best estimate of what was heard.
        rows = [
            (
                user_id,
                track_ids[play.track["spotify_id"]],
                ListeningSource.spotify.value,
                None,
                play.played_at,
                play.track["duration_ms"],
            )
            for play in plays
        ]
        return await history_repository.insert_events(session, rows)

    async def importable_user_ids(self, session: AsyncSession) -> list[uuid.UUID]:
        return await identities_repository.linked_user_ids(session, OAuthProvider.spotify)

    # --- reading -----------------------------------------------------------------------------

    async def page(
        self, session: AsyncSession, user_id: uuid.UUID, *, limit: int, before: str | None
    ) -> tuple[list[tuple[HistoryRow, Track]], str | None]:
        """One page of plays, newest first, each with its track (artists and genres loaded),
        and the cursor of the next page."""
        rows = await history_repository.page(
            session,
            user_id,
            limit=limit,
            before=decode_history_cursor(before) if before is not None else None,
        )
        tracks = await tracks_repository.with_credits(session, [row.track_id for row in rows])
        next_before = encode_history_cursor(rows[-1]) if len(rows) == limit else None
        return [(row, tracks[row.track_id]) for row in rows], next_before

    async def summary(self, session: AsyncSession, user_id: uuid.UUID) -> dict[str, Any]:
        plays, ms_played, first, last = await history_repository.totals(session, user_id)
        genres = await history_repository.top_genres(session, user_id, SUMMARY_TOP)
        artists = await history_repository.top_artists(session, user_id, SUMMARY_TOP)
        return {
            "plays": plays,
            "ms_played": ms_played,
            "first_played_at": first,
            "last_played_at": last,
            "top_genres": [
                {"slug": slug, "name": name, "plays": count} for slug, name, count in genres
            ],
            "top_artists": [
                {"id": artist_id, "name": name, "plays": count}
                for artist_id, name, count in artists
            ],
        }


history_service = HistoryService()
