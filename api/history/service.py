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
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.auth.service import auth_service
from api.config import Settings
from api.db import session_scope
from api.exceptions import Unprocessable
from api.genres.repository import genres_repository
from api.genres.vocabulary import genre_display_name
from api.history.demo import DemoPlaylist
from api.history.repository import HistoryRow, history_repository
from api.integrations.spotify.client import (
    SpotifyClient,
    SpotifyUnauthorized,
    SpotifyUnavailable,
)
from api.models import ListeningSource, Track
from api.tracks.service import _spotify_track_fields, catalog_artist_id

logger = logging.getLogger(__name__)

# Spotify keeps a user's last 50 plays; a few pages is already more than it will ever hold.
PAGE_LIMIT = 50
MAX_PAGES = 10
SUMMARY_TOP = 10
MAX_HISTORY_PAGE = 100
DEMO_SPAN = timedelta(days=30)
DEMO_QUEUE = 12
DEMO_ROOM_MEMBERS = 8


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
            fields = _spotify_track_fields(track_id, track)
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
                await history_repository.set_cursor(session, user_id, run.newest)
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
            identity = await history_repository.spotify_identity(session, user_id)
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
                await history_repository.expire_spotify_token(session, run.user_id)
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
        tracks: dict[str, dict[str, Any]] = {}
        artists: dict[uuid.UUID, tuple[uuid.UUID, str, str | None]] = {}
        credits: dict[str, list[uuid.UUID]] = {}
        for play in plays:
            fields = play.track
            spotify_id = fields["spotify_id"]
            credited: dict[uuid.UUID, str] = {}
            for name, provider_id in play.artists:
                artist_id = catalog_artist_id(name)
                credited.setdefault(artist_id, name)
                artists.setdefault(artist_id, (artist_id, name, provider_id))
            credits[spotify_id] = list(credited)
            tracks[spotify_id] = {
                "spotify_id": spotify_id,
                "title": fields["title"],
                "artist_names": ", ".join(credited.values()),
                "album": fields["album"],
                "duration_ms": fields["duration_ms"],
                "image_url": fields["image_url"],
                "popularity": fields["popularity"],
            }
        await history_repository.ensure_artists(session, list(artists.values()))
        track_ids = await history_repository.insert_missing_tracks(session, list(tracks.values()))
        await history_repository.link_track_artists(
            session,
            [
                (track_ids[spotify_id], artist_id, position)
                for spotify_id, artist_ids in credits.items()
                for position, artist_id in enumerate(artist_ids)
            ],
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

    async def load_demo_listeners(
        self, session: AsyncSession, playlists: list[DemoPlaylist], *, now: datetime | None = None
    ) -> int:
        """Create the demo listeners with their histories; does nothing when they exist.

        Returns how many listening events were stored. Tracks missing from the catalog are
        skipped, so load the catalog first.
        """
        if await history_repository.any_demo_user(session):
            return 0
        now = now or datetime.now(UTC)
        await history_repository.insert_demo_users(
            session, [(playlist.user_id, playlist.display_name) for playlist in playlists]
        )
        genre_ids = await genres_repository.ensure(
            session, {slug for playlist in playlists for slug in playlist.genres}
        )
        await history_repository.insert_user_genres(
            session,
            [
                (playlist.user_id, genre_ids[slug])
                for playlist in playlists
                for slug in playlist.genres
            ],
        )
        track_ids = await history_repository.track_ids_by_spotify_id(
            session, {track for playlist in playlists for track in playlist.track_ids}
        )
        rows = []
        for playlist in playlists:
            for position, spotify_id in enumerate(playlist.track_ids):
                track = track_ids.get(spotify_id)
                if track is None:
                    continue
                track_id, duration_ms = track
                # Spread over the last 30 days, newest first in playlist order.
                played_at = now - timedelta(minutes=37 * position + 1) % DEMO_SPAN
                rows.append(
                    (
                        playlist.user_id,
                        track_id,
                        ListeningSource.demo.value,
                        None,
                        played_at,
                        duration_ms,
                    )
                )
        stored = await history_repository.insert_events(session, rows)
        await self._demo_rooms(
            session, playlists, genre_ids, track_ids, int(now.timestamp() * 1000)
        )
        return stored

    async def _demo_rooms(
        self,
        session: AsyncSession,
        playlists: list[DemoPlaylist],
        genre_ids: dict[str, int],
        track_ids: dict[str, tuple[uuid.UUID, int]],
        started_at_ms: int,
    ) -> None:
        """One public room per main genre of the playlists, run by demo listeners of that
        genre, playing the owner's playlist in a loop from ``started_at_ms``, so a fresh
        start has live rooms to walk into and room recommendations have rooms to offer."""
        by_genre: dict[str, list[DemoPlaylist]] = {}
        for playlist in playlists:
            if playlist.genres:
                by_genre.setdefault(playlist.genres[0], []).append(playlist)
        for slug, members in sorted(by_genre.items()):
            owner = members[0]
            subgenres = sorted({p.genres[1] for p in members if len(p.genres) > 1})[:2]
            queue = [track_ids[t][0] for t in owner.track_ids if t in track_ids][:DEMO_QUEUE]
            await history_repository.add_demo_room(
                session,
                name=f"{genre_display_name(slug)} Lounge (demo)",
                description=f"Demo room: {genre_display_name(slug)} from the bundled catalog",
                owner_id=owner.user_id,
                member_ids=[p.user_id for p in members[:DEMO_ROOM_MEMBERS]],
                genre_ids=[genre_ids[g] for g in (slug, *subgenres) if g in genre_ids],
                track_ids=queue,
                started_at_ms=started_at_ms,
            )

    async def importable_user_ids(self, session: AsyncSession) -> list[uuid.UUID]:
        return await history_repository.importable_user_ids(session)

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
        tracks = await history_repository.tracks_with_credits(
            session, [row.track_id for row in rows]
        )
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
