"""GET /track/{spotify_id} and POST /track/: the catalog's REST edge."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.config import Settings
from api.models import Artist, Track
from api.tracks.service import catalog_artist_id
from tests.factories import auth_headers, create_genre, create_track, create_user, new_spotify_id


@pytest.fixture
async def headers(session: AsyncSession, settings: Settings) -> dict[str, str]:
    user = await create_user(session)
    await session.commit()
    return auth_headers(settings, user)


def track_body(**fields: Any) -> dict[str, Any]:
    return {
        "spotify_id": new_spotify_id(),
        "title": "Midnight City",
        "artists": ["M83"],
        "album": "Hurry Up, We're Dreaming",
        "duration_ms": 243_000,
        "image_url": "https://i.scdn.co/image/abc",
        "genres": [],
        **fields,
    }


async def test_get_returns_the_track_with_artists_in_credit_order_and_genre_slugs(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    shoegaze = await create_genre(session, "Shoegaze")
    dream_pop = await create_genre(session, "Dream Pop")
    track = await create_track(
        session,
        title="Cherry-coloured Funk",
        artists=["Cocteau Twins", "Guest"],
        genres=[shoegaze, dream_pop],
    )
    await session.commit()

    response = await client.get(f"/track/{track.spotify_id}")

    assert response.status_code == 200, response.text
    assert response.json() == {
        "spotify_id": track.spotify_id,
        "title": "Cherry-coloured Funk",
        "artists": ["Cocteau Twins", "Guest"],
        "album": "Test Album",
        "duration_ms": 200_000,
        "image_url": None,
        "genres": ["dream pop", "shoegaze"],
    }


async def test_get_unknown_track_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/track/{new_spotify_id()}")
    assert response.status_code == 404
    assert response.json() == {"detail": "track not found", "code": "track_not_found"}


@pytest.mark.parametrize("bad_id", ["short", "a" * 23, "abcdefghijk-mnopqrstuv", "%00" * 22])
async def test_get_with_a_malformed_id_is_422(client: httpx.AsyncClient, bad_id: str) -> None:
    response = await client.get(f"/track/{bad_id}")
    assert response.status_code == 422
    assert "detail" in response.json()


async def test_post_needs_a_signed_in_user(client: httpx.AsyncClient) -> None:
    response = await client.post("/track/", json=track_body())
    assert response.status_code == 401


async def test_post_creates_the_track_with_catalog_artists_and_vocabulary_genres(
    client: httpx.AsyncClient, session: AsyncSession, headers: dict[str, str]
) -> None:
    await create_genre(session, "hip hop")
    await create_genre(session, "Synthpop")
    await session.commit()
    body = track_body(artists=["M83", "Guest Singer", "m83"], genres=["Hip-Hop", "synthpop"])

    response = await client.post("/track/", json=body, headers=headers)

    assert response.status_code == 201, response.text
    assert response.json() == {
        **body,
        "artists": ["M83", "Guest Singer"],
        "genres": ["hip hop", "synthpop"],
    }
    stored = await session.scalar(select(Track).where(Track.spotify_id == body["spotify_id"]))
    assert stored is not None
    assert stored.artist_names == "M83, Guest Singer"
    # The same artist ids the catalog import uses, so the artist is shared with catalog tracks.
    artist = await session.get(Artist, catalog_artist_id("m83"))
    assert artist is not None
    assert artist.name == "M83"
    fetched = await client.get(f"/track/{body['spotify_id']}")
    assert fetched.json() == response.json()


async def test_post_reuses_an_existing_catalog_artist(
    client: httpx.AsyncClient, session: AsyncSession, headers: dict[str, str]
) -> None:
    await create_track(session, artists=["Beach House"])
    await session.commit()

    response = await client.post(
        "/track/", json=track_body(artists=["BEACH HOUSE"]), headers=headers
    )

    assert response.status_code == 201, response.text
    # The stored artist keeps the catalog's spelling.
    assert response.json()["artists"] == ["Beach House"]


async def test_repost_returns_the_stored_track_unchanged_with_200(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    body = track_body()
    first = await client.post("/track/", json=body, headers=headers)
    assert first.status_code == 201

    again = await client.post(
        "/track/", json={**body, "title": "Something else", "artists": ["Other"]}, headers=headers
    )

    assert again.status_code == 200, again.text
    assert again.json() == first.json()


async def test_post_with_an_unknown_genre_is_422_and_stores_nothing(
    client: httpx.AsyncClient, session: AsyncSession, headers: dict[str, str]
) -> None:
    body = track_body(genres=["no such genre at all"])

    response = await client.post("/track/", json=body, headers=headers)

    assert response.status_code == 422
    assert "no such genre at all" in response.json()["detail"]
    assert (await client.get(f"/track/{body['spotify_id']}")).status_code == 404


@pytest.mark.parametrize(
    "fields",
    [
        {"spotify_id": "not-a-spotify-id"},
        {"title": ""},
        {"title": "   "},
        {"title": "nul\x00byte"},
        {"artists": []},
        {"artists": ["a\x00"]},
        {"artists": ["x"] * 21},
        {"duration_ms": 0},
        {"duration_ms": "200000"},
        {"duration_ms": True},
        {"duration_ms": 10**12},
        {"image_url": "javascript:alert(1)"},
        {"genres": ["g"] * 11},
        {"unexpected": 1},
    ],
)
async def test_post_rejects_invalid_fields_with_422(
    client: httpx.AsyncClient, headers: dict[str, str], fields: dict[str, Any]
) -> None:
    response = await client.post("/track/", json=track_body(**fields), headers=headers)
    assert response.status_code == 422, response.text
    assert "detail" in response.json()
