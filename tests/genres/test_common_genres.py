"""The genres people name work for rooms, profiles and filters, with or without tracks."""

from __future__ import annotations

import csv
from pathlib import Path

import httpx
import pandas as pd

from api.genres.vocabulary import COMMON_GENRES, COMMON_GENRES_PATH, genre_slug
from tests.support.people import CreateRoom, SignIn

HETREC = Path(__file__).resolve().parents[2] / "data" / "lastfm-hetrec2011"
TOP_TAGS = 250


def test_the_common_genres_are_genre_tags_among_the_most_used_hetrec_tags() -> None:
    tags = pd.read_csv(HETREC / "tags.dat.gz", sep="\t", encoding="latin-1", quoting=csv.QUOTE_NONE)
    taggings = pd.read_csv(HETREC / "user_taggedartists.dat.gz", sep="\t", usecols=["tagID"])
    uses = taggings.groupby("tagID").size().rename("uses").reset_index().merge(tags, on="tagID")
    top = uses.sort_values("uses", ascending=False).head(TOP_TAGS)
    top_uses = dict(zip(top["tagValue"], top["uses"], strict=True))
    with COMMON_GENRES_PATH.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))

    assert len(rows) >= 100
    for row in rows:
        listed = row["lastfm_tags"].split(";")
        # Every tag named is one of the most used, its spelling maps to the slug, and the
        # count is the data's.
        assert all(tag in top_uses for tag in listed), row
        assert {genre_slug(tag) for tag in listed} == {row["slug"]}, row
        assert sum(int(top_uses[tag]) for tag in listed) == int(row["lastfm_uses"]), row
    assert len(COMMON_GENRES) == len(set(COMMON_GENRES)) == len(rows)
    for genre in ("jazz", "classical", "metal", "folk", "country", "blues"):
        assert genre in COMMON_GENRES


async def test_a_room_is_tagged_with_genres_no_track_carries_yet(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    alice = await sign_in("alice")
    response = await client.post(
        "/rooms/",
        json={"name": "Blue Note", "genres": ["Jazz", "classical", "Country", "blues"]},
        headers=alice.headers,
    )
    assert response.status_code == 201, response.text
    assert sorted(response.json()["genres"]) == ["blues", "classical", "country", "jazz"]
    # Spellings still meet in one genre; names outside the vocabulary are still refused.
    renamed = await client.put(
        f"/rooms/{response.json()['id']}",
        json={"genres": ["Synth Pop", "synthpop", "Post Rock", "hip-hop"]},
        headers=alice.headers,
    )
    assert renamed.status_code == 200, renamed.text
    assert sorted(renamed.json()["genres"]) == ["hip hop", "post-rock", "synthpop"]
    refused = await client.post(
        "/rooms/", json={"name": "Oompah", "genres": ["polka"]}, headers=alice.headers
    )
    assert refused.status_code == 422
    assert "polka" in refused.json()["detail"]


async def test_a_profile_takes_folk(client: httpx.AsyncClient, sign_in: SignIn) -> None:
    alice = await sign_in("alice")
    response = await client.patch(
        "/users/me", json={"favorite_genres": ["folk", "K-Pop"]}, headers=alice.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["favorite_genres"] == ["folk", "k-pop"]


async def test_rooms_filter_by_metal_and_the_vocabulary_lists_it(
    client: httpx.AsyncClient, sign_in: SignIn, create_room: CreateRoom
) -> None:
    before = {genre["slug"]: genre for genre in (await client.get("/genres")).json()}
    assert before["metal"] == {"slug": "metal", "name": "Metal", "track_count": 0}
    assert before["r&b"]["name"] == "R&B"
    alice = await sign_in("alice")
    await create_room(alice, "Riffs", genres=["metal"])
    await create_room(alice, "Quiet", genres=["ambient"])

    for spelling in ("metal", "Metal"):
        rooms = (await client.get("/rooms/", params={"genre": spelling})).json()
        assert [room["name"] for room in rooms] == ["Riffs"]
    # A genre of the vocabulary no room has yet filters to nothing, not an error.
    assert (await client.get("/rooms/", params={"genre": "bossa nova"})).json() == []
    listed = [genre["slug"] for genre in (await client.get("/genres")).json()]
    assert listed.count("metal") == 1
