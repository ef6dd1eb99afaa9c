from __future__ import annotations

import httpx
import pytest


async def test_dev_login_issues_a_bearer_token(dev_client: httpx.AsyncClient) -> None:
    response = await dev_client.post("/auth/dev-login", json={"name": "alice"})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] > 0
    me = await dev_client.get(
        "/users/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["display_name"] == "alice"


async def test_same_name_is_the_same_user(dev_client: httpx.AsyncClient) -> None:
    ids = []
    for name in ("bob", "Bob", "bob"):
        token = (await dev_client.post("/auth/dev-login", json={"name": name})).json()
        me = await dev_client.get(
            "/users/me", headers={"Authorization": f"Bearer {token['access_token']}"}
        )
        ids.append(me.json()["id"])
    assert len(set(ids)) == 1
    other = (await dev_client.post("/auth/dev-login", json={"name": "carol"})).json()
    me = await dev_client.get(
        "/users/me", headers={"Authorization": f"Bearer {other['access_token']}"}
    )
    assert me.json()["id"] != ids[0]


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "x" * 33}, {"name": "<script>"}])
async def test_bad_names_are_422(dev_client: httpx.AsyncClient, body: dict[str, str]) -> None:
    response = await dev_client.post("/auth/dev-login", json=body)
    assert response.status_code == 422
    assert "detail" in response.json()


@pytest.mark.parametrize("body", [{"name": "alice"}, {}])
async def test_dev_login_does_not_exist_outside_dev(
    client: httpx.AsyncClient, body: dict[str, str]
) -> None:
    response = await client.post("/auth/dev-login", json=body)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found", "code": "not_found"}
