from __future__ import annotations

import uuid

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from api.models import IdentityStatus, OAuthIdentity, OAuthProvider


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

    async def expire_token(
        self, session: AsyncSession, user_id: uuid.UUID, provider: OAuthProvider
    ) -> None:
        """Mark the access token expired now, so the next use refreshes it."""
        await session.execute(
            update(OAuthIdentity)
            .where(OAuthIdentity.user_id == user_id, OAuthIdentity.provider == provider)
            .values(token_expires_at=func.now())
            .execution_options(synchronize_session=False)
        )

    async def advance_history_cursor(
        self, session: AsyncSession, user_id: uuid.UUID, cursor_ms: int
    ) -> None:
        """The Spotify history import's cursor. Only ever forwards: a slow import finishing
        late never moves the cursor back."""
        await session.execute(
            update(OAuthIdentity)
            .where(
                OAuthIdentity.user_id == user_id,
                OAuthIdentity.provider == OAuthProvider.spotify,
                or_(
                    OAuthIdentity.history_cursor_ms.is_(None),
                    OAuthIdentity.history_cursor_ms < cursor_ms,
                ),
            )
            .values(history_cursor_ms=cursor_ms)
            .execution_options(synchronize_session=False)
        )

    async def linked_user_ids(
        self, session: AsyncSession, provider: OAuthProvider
    ) -> list[uuid.UUID]:
        """Users with an active link to ``provider`` (a refresh token to keep using it with)."""
        result = await session.scalars(
            select(OAuthIdentity.user_id)
            .where(
                OAuthIdentity.provider == provider,
                OAuthIdentity.status == IdentityStatus.active,
                OAuthIdentity.refresh_token_enc.is_not(None),
            )
            .order_by(OAuthIdentity.user_id)
        )
        return list(result)


identities_repository = IdentitiesRepository()
