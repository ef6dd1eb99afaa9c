"""GET /auth/links: which providers the caller's account is linked to, without any secrets."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.config import Settings
from api.models import IdentityStatus, OAuthProvider
from tests.factories import auth_headers, create_identity, create_user


async def test_links_list_the_callers_providers_and_their_state(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    user = await create_user(session, display_name="linked")
    other = await create_user(session, display_name="someone else")
    await create_identity(session, user, settings, provider=OAuthProvider.google)
    await create_identity(
        session, user, settings, provider=OAuthProvider.spotify, status=IdentityStatus.revoked
    )
    await create_identity(session, other, settings, provider=OAuthProvider.spotify)

    response = await client.get("/auth/links", headers=auth_headers(settings, user))

    assert response.status_code == 200, response.text
    links = response.json()
    assert [(link["provider"], link["status"]) for link in links] == [
        ("google", "active"),
        ("spotify", "revoked"),
    ]
    assert all(set(link) == {"provider", "status", "linked_at"} for link in links)


async def test_links_need_a_sign_in_and_may_be_empty(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    assert (await client.get("/auth/links")).status_code == 401
    loner = await create_user(session, display_name="dev only")
    response = await client.get("/auth/links", headers=auth_headers(settings, loner))
    assert response.status_code == 200
    assert response.json() == []
