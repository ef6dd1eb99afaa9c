"""Names people see, and caps per user (issue 12, item 11)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI

from api.auth.service import _display_name
from tests.conftest import asgi_client
from tests.support.people import SignIn

BAD_NAMES = [
    "\x1b[31mred\x1b[0m",  # ANSI escape
    "tab\there",
    "new\nline",
    "\u200b\u200b",  # zero-width only
    "\u200d\ufeff",
    "\u3164",  # Hangul filler: looks empty
    "admin\u202egnp.exe",  # right-to-left override
    "\u0301\u0301",  # combining marks only
]


@pytest.mark.parametrize("name", BAD_NAMES)
async def test_display_names_refuse_control_invisible_and_bidi_characters(
    client: httpx.AsyncClient, sign_in: SignIn, name: str
) -> None:
    alice = await sign_in("alice")
    response = await client.patch("/users/me", json={"display_name": name}, headers=alice.headers)
    assert response.status_code == 422, response.text


@pytest.mark.parametrize("name", BAD_NAMES)
async def test_room_names_refuse_control_invisible_and_bidi_characters(
    client: httpx.AsyncClient, sign_in: SignIn, name: str
) -> None:
    alice = await sign_in("alice")
    response = await client.post("/rooms/", json={"name": name}, headers=alice.headers)
    assert response.status_code == 422, response.text


async def test_names_are_stored_nfkc_normalised(client: httpx.AsyncClient, sign_in: SignIn) -> None:
    alice = await sign_in("alice")
    renamed = await client.patch(
        "/users/me", json={"display_name": "\uff21\uff4c\uff49"}, headers=alice.headers
    )
    assert renamed.status_code == 200
    assert renamed.json()["display_name"] == "Ali"
    room = await client.post(
        "/rooms/", json={"name": "\U0001d410uiet 👩\u200d🎤"}, headers=alice.headers
    )
    assert room.status_code == 201
    assert room.json()["name"] == "Quiet 👩\u200d🎤"
    # The same room name in another form is the same name.
    twin_name = "\uff31uiet 👩\u200d🎤"
    twin = await client.post("/rooms/", json={"name": twin_name}, headers=alice.headers)
    assert twin.status_code == 409


async def test_another_listeners_display_name_is_refused(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    await sign_in("Bob Dylan")
    mallory = await sign_in("mallory")
    for taken in ("Bob Dylan", "bob dylan", "\uff42\uff4f\uff42 dylan"):
        response = await client.patch(
            "/users/me", json={"display_name": taken}, headers=mallory.headers
        )
        assert response.status_code == 409, taken
        assert "already uses this display name" in response.json()["detail"]
    # One's own name in another case is fine.
    own = await client.patch("/users/me", json={"display_name": "MALLORY"}, headers=mallory.headers)
    assert own.status_code == 200


def test_provider_names_are_cleaned_not_refused() -> None:
    assert _display_name("\x1b[31mEve\x1b[0m") == "[31mEve[0m"
    assert _display_name("\u200b", "\uff27race") == "Grace"
    assert _display_name("\u202e", None) == "Listener"


async def test_rooms_per_user_are_capped(make_app: Callable[..., FastAPI], sign_in: SignIn) -> None:
    alice = await sign_in("alice")
    async with asgi_client(make_app(max_rooms_per_user=2)) as client:
        for n in range(2):
            created = await client.post("/rooms/", json={"name": f"r{n}"}, headers=alice.headers)
            assert created.status_code == 201
        refused = await client.post("/rooms/", json={"name": "r2"}, headers=alice.headers)
        assert refused.status_code == 409
        assert "the most allowed" in refused.json()["detail"]
        # Deleting one makes room for another.
        mine = (await client.get("/rooms/my-rooms", headers=alice.headers)).json()
        deleted = await client.delete(f"/rooms/{mine[0]['id']}", headers=alice.headers)
        assert deleted.status_code in (200, 204)
        again = await client.post("/rooms/", json={"name": "r3"}, headers=alice.headers)
        assert again.status_code == 201
