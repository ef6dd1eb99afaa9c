from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from api.models import OAuthIdentity, OAuthProvider


class IdentitiesRepository:
    async def get_by_subject(
        self, session: AsyncSession, provider: OAuthProvider, subject: str
    ) -> OAuthIdentity | None:
        result = await session.scalars(
            select(OAuthIdentity)
            .where(OAuthIdentity.provider == provider, OAuthIdentity.subject == subject)
            .options(selectinload(OAuthIdentity.user))
        )
        return result.one_or_none()

    async def get_for_user(
        self,
        session: AsyncSession,
        user_id: uuid.UUID,
        provider: OAuthProvider,
        *,
        for_update: bool = False,
    ) -> OAuthIdentity | None:
        query = select(OAuthIdentity).where(
            OAuthIdentity.user_id == user_id, OAuthIdentity.provider == provider
        )
        if for_update:
            # Refreshes serialize per identity: Spotify may rotate the refresh token, and a
            # second refresh with the old one would look like a revocation.
            query = query.with_for_update().execution_options(populate_existing=True)
        result = await session.scalars(query)
        return result.one_or_none()

    async def list_for_user(self, session: AsyncSession, user_id: uuid.UUID) -> list[OAuthIdentity]:
        return list(
            await session.scalars(
                select(OAuthIdentity)
                .where(OAuthIdentity.user_id == user_id)
                .order_by(OAuthIdentity.provider)
            )
        )

    async def add(self, session: AsyncSession, identity: OAuthIdentity) -> OAuthIdentity:
        session.add(identity)
        await session.flush()
        return identity


identities_repository = IdentitiesRepository()
