"""Demo listeners from the bundled catalog's playlists."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.demo.playlists import read_playlists
from api.demo.service import demo_service
from api.models import (
    ListeningEvent,
    ListeningSource,
    QueueEntry,
    QueuePolicy,
    Room,
    RoomPlayback,
    User,
    UserGenre,
)
from api.tracks.catalog import read_spotify_songs
from api.tracks.service import tracks_service


async def test_the_catalog_has_471_playlists_each_with_genres_and_tracks() -> None:
    playlists = read_playlists()

    assert len(playlists) == 471
    assert len({playlist.user_id for playlist in playlists}) == 471
    assert all(playlist.genres and playlist.track_ids for playlist in playlists)
    assert all(playlist.display_name.endswith(" (demo)") for playlist in playlists)
    assert all(len(playlist.display_name) <= 64 for playlist in playlists)
    # Every row of the file is in one playlist (duplicates within a playlist count once).
    assert sum(len(playlist.track_ids) for playlist in playlists) > 32_000


async def test_demo_listeners_get_their_playlists_as_history_once(session: AsyncSession) -> None:
    playlists = read_playlists()[:3]
    wanted = {track for playlist in playlists for track in playlist.track_ids}
    await tracks_service.import_catalog(
        session, [track for track in read_spotify_songs() if track.spotify_id in wanted]
    )

    stored = await demo_service.seed(session, playlists)

    assert stored == sum(len(playlist.track_ids) for playlist in playlists)
    demo = list(await session.scalars(select(User).where(User.is_demo).order_by(User.id)))
    assert sorted(user.id for user in demo) == sorted(p.user_id for p in playlists)
    first = playlists[0]
    events = await session.scalar(
        select(func.count()).where(
            ListeningEvent.user_id == first.user_id,
            ListeningEvent.source == ListeningSource.demo,
        )
    )
    assert events == len(first.track_ids)
    genres = await session.scalar(select(func.count()).where(UserGenre.user_id == first.user_id))
    assert genres == len(first.genres)
    # One public room per main genre, run by demo listeners, with a queue from a playlist.
    rooms = list(await session.scalars(select(Room).order_by(Room.name)))
    main_genres = sorted({p.genres[0] for p in playlists})
    assert len(rooms) == len(main_genres)
    assert all(room.name.endswith(" Lounge (demo)") for room in rooms)
    assert all(room.owner_id in {p.user_id for p in playlists} for room in rooms)
    queued = await session.scalar(select(func.count()).where(QueueEntry.room_id == rooms[0].id))
    assert queued == 12
    # Demo rooms: marked as such, open to members' tracks, playing their playlist already.
    assert all(room.is_demo and room.queue_policy == QueuePolicy.members for room in rooms)
    playing = await session.scalar(
        select(func.count())
        .select_from(RoomPlayback)
        .where(
            RoomPlayback.room_id.in_([room.id for room in rooms]),
            RoomPlayback.current_entry_id.is_not(None),
            RoomPlayback.started_at_ms.is_not(None),
        )
    )
    assert playing == len(rooms)
    # A second start finds the demo listeners and adds nothing.
    assert await demo_service.seed(session, read_playlists()[:5]) == 0
    assert await session.scalar(select(func.count()).where(User.is_demo)) == 3
    assert await session.scalar(select(func.count()).select_from(Room)) == len(main_genres)
