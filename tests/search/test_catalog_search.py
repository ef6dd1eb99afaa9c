"""Catalog search: the public endpoint without Spotify answers from the local catalog."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from redis.asyncio import Redis

from api.core.cache import CATALOG, ReadCache
from api.search import repository
from api.search.repository import prefix_tsquery
from tests.search.conftest import AddTracks
from tests.support.queries import recorded_statements

SEARCH = "/spotify-public/search/tracks"


async def search(client: httpx.AsyncClient, query: str, **params: int | str) -> dict:
    response = await client.get(SEARCH, params={"query": query, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["source"] == "catalog"
    assert body["fallback_reason"] == "not_configured"
    return body


def ids(body: dict) -> list[str]:
    return [item["id"] for item in body["tracks"]["items"]]


@pytest.fixture
async def catalog(add_tracks: AddTracks) -> None:
    await add_tracks(
        ("t-shape", "Shape of You", "Ed Sheeran", "Divide", 90),
        ("t-perfect", "Perfect", "Ed Sheeran", "Divide", 80),
        ("t-love", "Love Story", "Taylor Swift", "Fearless", 70),
        ("t-lovely", "Lovely", "Billie Eilish", "Lovely", 60),
        ("t-crazy", "Crazy in Love", "Beyonce", "Dangerously in Love", 85),
        ("t-edge", "Edge of Seventeen", "Stevie Nicks", "Bella Donna", 40),
        ("t-cafe", "Café del Mar", "Energy 52", "Café del Mar", 30),
    )


def test_prefix_tsquery_keeps_only_words() -> None:
    assert prefix_tsquery("Ed  SHEERAN") == "ed:* & sheeran:*"
    assert prefix_tsquery("a & b | !c <-> d:*") == "a:* & b:* & c:* & d:*"
    assert prefix_tsquery("o'neil_x") == "o:* & neil:* & x:*"
    assert prefix_tsquery("%'!&|()") is None
    assert prefix_tsquery("東京 café") == "東京:* & café:*"


@pytest.mark.usefixtures("catalog")
async def test_artist_and_title_words_find_the_track(client: httpx.AsyncClient) -> None:
    body = await search(client, "sheeran shape")
    assert ids(body) == ["t-shape"]
    track = body["tracks"]["items"][0]
    assert track["name"] == "Shape of You"
    assert track["artists"] == [{"id": None, "name": "Ed Sheeran", "type": "artist", "uri": None}]
    assert track["album"]["name"] == "Divide"
    assert track["uri"] == "spotify:track:t-shape"
    assert track["duration_ms"] == 180_000
    assert track["genres"] == ["pop"]
    assert body["tracks"]["total"] == 1


@pytest.mark.usefixtures("catalog")
async def test_prefixes_and_case_match(client: httpx.AsyncClient) -> None:
    assert set(ids(await search(client, "ED SHEE"))) == {"t-shape", "t-perfect"}
    # "lov" is a prefix of love, lovely; title matches rank above album-only ones.
    body = await search(client, "Lov")
    assert set(ids(body)) == {"t-love", "t-lovely", "t-crazy"}
    assert body["tracks"]["total"] == 3
    assert set(ids(await search(client, "CAFÉ"))) == {"t-cafe"}


@pytest.mark.usefixtures("catalog")
async def test_title_and_artist_rank_above_album_and_popularity_breaks_ties(
    client: httpx.AsyncClient, add_tracks: AddTracks
) -> None:
    # "Divide" is only an album here (weight C); a title match (weight A) ranks first.
    await add_tracks(("t-divide", "Divide and Conquer", "Someone", None, 1))
    assert ids(await search(client, "divide"))[0] == "t-divide"
    # Same rank for both Ed Sheeran tracks on "ed": more popular first.
    assert ids(await search(client, "ed sheeran")) == ["t-shape", "t-perfect"]


@pytest.mark.usefixtures("catalog")
async def test_limit_offset_and_links(client: httpx.AsyncClient) -> None:
    first = await search(client, "e", limit=2)
    assert first["tracks"]["limit"] == 2
    assert len(first["tracks"]["items"]) == 2
    total = first["tracks"]["total"]
    assert total >= 5
    assert first["tracks"]["previous"] is None
    assert "offset=2" in first["tracks"]["next"]
    second = await search(client, "e", limit=2, offset=2)
    assert not set(ids(first)) & set(ids(second))
    assert "offset=0" in second["tracks"]["previous"]
    last = await search(client, "e", limit=2, offset=total - 1)
    assert len(last["tracks"]["items"]) == 1
    assert last["tracks"]["next"] is None
    # Past the end the page is empty but still says how many there are.
    beyond = await search(client, "e", limit=2, offset=total + 5)
    assert beyond["tracks"]["items"] == []
    assert beyond["tracks"]["total"] == total


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"query": "love", "limit": 1}, 200),
        ({"query": "love", "limit": 50}, 200),
        ({"query": "love", "limit": 0}, 422),
        ({"query": "love", "limit": 51}, 422),
        ({"query": "love", "limit": "ten"}, 422),
        ({"query": "love", "offset": -1}, 422),
        ({"query": "love", "offset": 1001}, 422),
        ({"query": ""}, 422),
        ({"query": "   "}, 422),
        ({"query": "x" * 200}, 200),
        ({"query": "x" * 201}, 422),
        ({"query": "love " * 60}, 422),
        ({}, 422),
    ],
)
@pytest.mark.usefixtures("catalog")
async def test_parameter_bounds(client: httpx.AsyncClient, params: dict, status: int) -> None:
    response = await client.get(SEARCH, params=params)
    assert response.status_code == status, response.text
    if status == 422:
        assert response.json()["detail"]


@pytest.mark.parametrize(
    "query",
    [
        "%",
        "'",
        "''; DROP TABLE tracks; --",
        "a & b | !",
        "!love",
        "love:*",
        "<->",
        "\\",
        "(((",
        "_",
        "x" * 199 + " ",
        "🎵 love 🎶",
        "東京",
        "Beyoncé",
        "e\u0301",
        "\u200b",
        "...",
        "a" * 200,
    ],
)
@pytest.mark.usefixtures("catalog")
async def test_odd_queries_never_fail(client: httpx.AsyncClient, query: str) -> None:
    response = await client.get(SEARCH, params={"query": query})
    assert response.status_code == 200, response.text
    assert response.json()["tracks"]["total"] == len(response.json()["tracks"]["items"])


@pytest.mark.usefixtures("catalog")
async def test_operators_are_words_not_syntax(client: httpx.AsyncClient) -> None:
    # "!love" is the word love, not "not love"; "|" does not widen the search.
    assert set(ids(await search(client, "!love"))) == {"t-love", "t-lovely", "t-crazy"}
    assert ids(await search(client, "perfect | shape")) == []


@pytest.mark.usefixtures("catalog")
async def test_only_punctuation_is_an_empty_page(client: httpx.AsyncClient) -> None:
    body = await search(client, "%&|!")
    assert body["tracks"]["items"] == []
    assert body["tracks"]["total"] == 0
    assert body["tracks"]["next"] is None


@pytest.fixture
def statements() -> Iterator[list[str]]:
    with recorded_statements() as seen:
        yield seen


async def test_one_statement_per_search_however_many_rows(
    client: httpx.AsyncClient, add_tracks: AddTracks, statements: list[str]
) -> None:
    await add_tracks(("few-1", "Blue One", "Singer A"), genres=("pop", "rock"))
    statements.clear()
    few = await search(client, "blue", limit=50)
    few_count = len(statements)

    await add_tracks(
        *[(f"many-{i}", f"Blue Song {i}", f"Singer {i}") for i in range(40)],
        genres=("jazz", "blues", "soul"),
    )
    statements.clear()
    many = await search(client, "blue", limit=50)
    assert len(many["tracks"]["items"]) == 41
    assert all(item["genres"] and item["artists"] for item in many["tracks"]["items"])
    assert len(statements) == few_count == 1, statements
    assert len(few["tracks"]["items"]) == 1


async def test_a_huge_match_set_is_capped(
    client: httpx.AsyncClient,
    add_tracks: AddTracks,
    monkeypatch: pytest.MonkeyPatch,
    redis: Redis,
) -> None:
    await add_tracks(*[(f"cap-{i}", f"Common {i}", "Band", None, i) for i in range(30)])
    assert (await search(client, "common", limit=5))["tracks"]["total"] == 30
    monkeypatch.setattr(repository, "CANDIDATE_CAP", 10)
    # The cap is code, not data: nothing invalidates answers cached under the old one.
    await ReadCache(redis).invalidate([CATALOG])
    body = await search(client, "common", limit=5)
    assert body["tracks"]["total"] == 10
    assert len(body["tracks"]["items"]) == 5
    assert (await search(client, "common", limit=5, offset=10))["tracks"]["total"] == 10
