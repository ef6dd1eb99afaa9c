"""The demo: listeners, their histories and live rooms seeded from the bundled catalog.

A first start turns the catalog's playlists (api/demo/playlists.py) into demo listeners whose
history is their playlist, and opens one demo room per main genre, so a fresh install has
taste structure to recommend from and rooms to walk into. Every row is written through the
repository of the domain that owns its table: users, tracks, rooms, queue, playback and
history. See docs/history.md.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from api.demo.playlists import DemoPlaylist
from api.genres.repository import genres_repository
from api.genres.vocabulary import genre_display_name
from api.history.repository import history_repository
from api.models import ListeningSource
from api.playback.repository import playback_repository
from api.queue.repository import queue_repository
from api.rooms.repository import rooms_repository
from api.tracks.service import tracks_service
from api.users.repository import users_repository

DEMO_SPAN = timedelta(days=30)
DEMO_QUEUE = 12
DEMO_ROOM_MEMBERS = 8


class DemoService:
    async def seeded(self, session: AsyncSession) -> bool:
        """Whether the demo listeners exist (asked before reading the playlists, the slow
        part of a restart)."""
        return await users_repository.any_demo_user(session)

    async def seed(
        self, session: AsyncSession, playlists: list[DemoPlaylist], *, now: datetime | None = None
    ) -> int:
        """Create the demo listeners with their histories and the demo rooms; does nothing
        when they exist.

        Returns how many listening events were stored. Tracks missing from the catalog are
        skipped, so load the catalog first.
        """
        if await self.seeded(session):
            return 0
        now = now or datetime.now(UTC)
        await users_repository.insert_demo_users(
            session, [(playlist.user_id, playlist.display_name) for playlist in playlists]
        )
        genre_ids = await genres_repository.ensure(
            session, {slug for playlist in playlists for slug in playlist.genres}
        )
        await users_repository.insert_favourite_genres(
            session,
            [
                (playlist.user_id, genre_ids[slug])
                for playlist in playlists
                for slug in playlist.genres
            ],
        )
        track_ids = await tracks_service.ids_by_spotify_id(
            session, {track for playlist in playlists for track in playlist.track_ids}
        )
        stored = await history_repository.insert_events(
            session, _demo_plays(playlists, track_ids, now)
        )
        await self._rooms(session, playlists, genre_ids, track_ids, int(now.timestamp() * 1000))
        return stored

    async def add_room(
        self,
        session: AsyncSession,
        *,
        name: str,
        description: str,
        owner_id: uuid.UUID,
        member_ids: Sequence[uuid.UUID],
        genre_ids: Sequence[int],
        track_ids: Sequence[uuid.UUID],
        started_at_ms: int,
    ) -> uuid.UUID:
        """A demo room whose playlist (``track_ids``, added by its demo owner) plays from
        ``started_at_ms`` on, in a loop; members may add tracks."""
        room_id = await rooms_repository.add_demo_room(
            session,
            name=name,
            description=description,
            owner_id=owner_id,
            member_ids=member_ids,
            genre_ids=genre_ids,
        )
        entry_ids = await queue_repository.add_playlist(session, room_id, owner_id, track_ids)
        if entry_ids:
            await playback_repository.start(session, room_id, entry_ids[0], started_at_ms)
        return room_id

    async def _rooms(
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
            await self.add_room(
                session,
                name=f"{genre_display_name(slug)} Lounge (demo)",
                description=f"Demo room: {genre_display_name(slug)} from the bundled catalog",
                owner_id=owner.user_id,
                member_ids=[p.user_id for p in members[:DEMO_ROOM_MEMBERS]],
                genre_ids=[genre_ids[g] for g in (slug, *subgenres) if g in genre_ids],
                track_ids=queue,
                started_at_ms=started_at_ms,
            )


def _demo_plays(
    playlists: list[DemoPlaylist],
    track_ids: dict[str, tuple[uuid.UUID, int]],
    now: datetime,
) -> list[tuple[object, ...]]:
    """One ``demo`` listening event per playlist track in the catalog, spread over the last
    30 days, newest first in playlist order."""
    rows: list[tuple[object, ...]] = []
    for playlist in playlists:
        for position, spotify_id in enumerate(playlist.track_ids):
            track = track_ids.get(spotify_id)
            if track is None:
                continue
            track_id, duration_ms = track
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
    return rows


demo_service = DemoService()
