"""Sign-in: the Google and Spotify OAuth flows, account linking, dev login, provider tokens.

The flows and the linking rules are explained in docs/auth.md.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import google
from api.auth.crypto import TokenDecryptionError, token_cipher
from api.auth.errors import SignInError
from api.auth.login_state import (
    LoginState,
    binding_hash,
    login_state_store,
    new_code_verifier,
    new_secret,
)
from api.auth.repository import identities_repository
from api.auth.tokens import issue_access_token
from api.core.config import Settings
from api.core.exceptions import BadRequest, NotFound
from api.core.names import clean_name
from api.integrations.spotify import (
    SpotifyClient,
    SpotifyError,
    SpotifyGrantRejected,
    SpotifyRateLimited,
    SpotifyUnauthorized,
    SpotifyUnavailable,
)
from api.models import IdentityStatus, OAuthIdentity, OAuthProvider, User
from api.users.repository import users_repository

DISPLAY_NAME_MAX = 64
# Refresh a little early so a token never expires between our check and Spotify's.
_EXPIRY_MARGIN = timedelta(seconds=60)
_PROVIDER_ERROR_CODE = re.compile(r"^[a-z_]{1,64}$")
_DEV_EMAIL_DOMAIN = "dev.tunewave.invalid"


@dataclass(frozen=True)
class LoginRedirect:
    url: str
    # Goes to the browser as an HttpOnly cookie; the callback must bring it back.
    browser_binding: str


@dataclass(frozen=True)
class SignedIn:
    user_id: uuid.UUID
    access_token: str
    expires_in: int


@dataclass(frozen=True)
class CallbackParams:
    state: str | None
    code: str | None
    error: str | None


@dataclass(frozen=True)
class ProviderAccount:
    provider: OAuthProvider
    subject: str
    email: str | None
    email_verified: bool
    display_name: str
    avatar_url: str | None


@dataclass(frozen=True)
class ProviderTokens:
    access_token: str
    refresh_token: str | None
    expires_in_s: int
    scope: str | None


def spotify_redirect_uri(settings: Settings) -> str:
    return f"{settings.public_api_url.rstrip('/')}/auth/spotify/callback"


def _display_name(*candidates: str | None) -> str:
    # Providers' names are cleaned, never refused (api/core/names.py).
    for candidate in candidates:
        name = clean_name(candidate, "", DISPLAY_NAME_MAX)
        if name:
            return name
    return "Listener"


def _provider_label(provider: OAuthProvider) -> str:
    return "Google" if provider is OAuthProvider.google else "Spotify"


class AuthService:
    # --- starting a login -------------------------------------------------------------------

    async def start_google_login(self, redis: Redis, settings: Settings) -> LoginRedirect:
        if not settings.google_enabled:
            raise NotFound("Google sign-in is not configured", code="provider_not_configured")
        metadata = await google.load_metadata(settings)
        state, nonce, verifier, binding = (
            new_secret(),
            new_secret(),
            new_code_verifier(),
            new_secret(),
        )
        await login_state_store.save(
            redis,
            state,
            LoginState(
                provider=OAuthProvider.google.value,
                code_verifier=verifier,
                nonce=nonce,
                binding_hash=binding_hash(binding),
            ),
        )
        url = google.authorization_url(
            settings, metadata, state=state, nonce=nonce, code_verifier=verifier
        )
        return LoginRedirect(url=url, browser_binding=binding)

    async def start_spotify_login(
        self, redis: Redis, settings: Settings, *, link_user_id: uuid.UUID | None = None
    ) -> LoginRedirect:
        if not settings.spotify_enabled:
            raise NotFound("Spotify sign-in is not configured", code="provider_not_configured")
        state, verifier, binding = new_secret(), new_code_verifier(), new_secret()
        await login_state_store.save(
            redis,
            state,
            LoginState(
                provider=OAuthProvider.spotify.value,
                code_verifier=verifier,
                nonce=None,
                binding_hash=binding_hash(binding),
                link_user_id=str(link_user_id) if link_user_id else None,
            ),
        )
        url = SpotifyClient(settings).authorize_url(
            redirect_uri=spotify_redirect_uri(settings), state=state, code_verifier=verifier
        )
        return LoginRedirect(url=url, browser_binding=binding)

    # --- callbacks --------------------------------------------------------------------------

    async def consume_login_state(
        self,
        redis: Redis,
        provider: OAuthProvider,
        params: CallbackParams,
        browser_binding: str | None,
    ) -> LoginState:
        """The login this callback belongs to; ``BadRequest`` when it belongs to none of ours.

        Runs before anything else, so a replayed or forged callback never reaches the provider.
        """
        if not params.state:
            raise BadRequest("missing state")
        login = await login_state_store.consume(redis, params.state)
        if login is None or login.provider != provider.value:
            raise BadRequest("unknown, expired or already used sign-in state")
        if not login.bound_to(browser_binding):
            raise BadRequest("this sign-in was started in another browser")
        return login

    async def _check_provider_answer(
        self,
        redis: Redis,
        provider: OAuthProvider,
        params: CallbackParams,
        browser_binding: str | None,
    ) -> tuple[LoginState, str]:
        """The login and the code; a provider's error answer becomes an error redirect.

        An error answer is redirected even without a valid state: it signs nobody in, and
        providers do not always echo the state with it. Its state is spent all the same.
        """
        label = _provider_label(provider)
        if params.error:
            if params.state:
                await login_state_store.consume(redis, params.state)
            if params.error == "access_denied":
                raise SignInError("access_denied", f"You declined to sign in with {label}")
            code = params.error if _PROVIDER_ERROR_CODE.fullmatch(params.error) else "unknown"
            raise SignInError("provider_error", f"{label} reported an error ({code})")
        login = await self.consume_login_state(redis, provider, params, browser_binding)
        if not params.code:
            raise SignInError("invalid_request", f"{label} sent no authorization code")
        return login, params.code

    async def finish_google_login(
        self,
        session: AsyncSession,
        redis: Redis,
        settings: Settings,
        params: CallbackParams,
        browser_binding: str | None,
    ) -> SignedIn:
        if not settings.google_enabled:
            raise NotFound("Google sign-in is not configured", code="provider_not_configured")
        login, code = await self._check_provider_answer(
            redis, OAuthProvider.google, params, browser_binding
        )
        assert login.nonce is not None
        metadata = await google.load_metadata(settings)
        token_response = await google.exchange_code(
            settings, metadata, code=code, code_verifier=login.code_verifier
        )
        identity = await google.verify_id_token(
            settings, metadata, token_response, nonce=login.nonce
        )
        account = ProviderAccount(
            provider=OAuthProvider.google,
            subject=identity.subject,
            email=identity.email,
            email_verified=identity.email_verified,
            display_name=_display_name(
                identity.name, identity.email.split("@")[0] if identity.email else None
            ),
            avatar_url=identity.picture,
        )
        # Google's tokens are not kept: we never call Google on the user's behalf.
        user = await self._sign_in(session, settings, account, tokens=None, link_user_id=None)
        return self._issue(settings, user)

    async def finish_spotify_login(
        self,
        session: AsyncSession,
        redis: Redis,
        settings: Settings,
        params: CallbackParams,
        browser_binding: str | None,
    ) -> SignedIn:
        if not settings.spotify_enabled:
            raise NotFound("Spotify sign-in is not configured", code="provider_not_configured")
        login, code = await self._check_provider_answer(
            redis, OAuthProvider.spotify, params, browser_binding
        )
        client = SpotifyClient(settings)
        try:
            tokens = await client.exchange_code(
                code=code,
                redirect_uri=spotify_redirect_uri(settings),
                code_verifier=login.code_verifier,
            )
            profile = await client.get_me(tokens.access_token)
        except (SpotifyUnavailable, SpotifyRateLimited) as exc:
            raise SignInError("provider_unavailable", str(exc.detail)) from exc
        except SpotifyGrantRejected as exc:
            raise SignInError("token_exchange_failed", str(exc.detail)) from exc
        except (SpotifyUnauthorized, SpotifyError) as exc:
            raise SignInError("provider_error", str(exc.detail)) from exc
        account = ProviderAccount(
            provider=OAuthProvider.spotify,
            subject=profile.id,
            email=profile.email,
            # Spotify says its email addresses are unverified; see docs/auth.md.
            email_verified=False,
            display_name=_display_name(profile.display_name, profile.id),
            avatar_url=profile.image_url,
        )
        user = await self._sign_in(
            session,
            settings,
            account,
            tokens=ProviderTokens(
                access_token=tokens.access_token,
                refresh_token=tokens.refresh_token,
                expires_in_s=tokens.expires_in_s,
                scope=tokens.scope,
            ),
            link_user_id=uuid.UUID(login.link_user_id) if login.link_user_id else None,
        )
        return self._issue(settings, user)

    # --- dev login --------------------------------------------------------------------------

    async def dev_login(self, session: AsyncSession, settings: Settings, name: str) -> SignedIn:
        if not settings.dev_login_enabled:
            raise NotFound("Not Found")
        display_name = _display_name(name)
        slug = re.sub(r"[^a-z0-9]+", "-", display_name.lower()).strip("-") or "listener"
        # A reserved domain keys dev users: stable across logins, never a real address.
        email = f"{slug}@{_DEV_EMAIL_DOMAIN}"
        user = await users_repository.get_by_email(session, email)
        if user is None:
            user = await users_repository.add(
                session, User(display_name=display_name, email=email, email_verified=False)
            )
        return self._issue(settings, user)

    # --- provider tokens --------------------------------------------------------------------

    async def spotify_access_token(
        self,
        session: AsyncSession,
        settings: Settings,
        user_id: uuid.UUID,
        *,
        client: SpotifyClient | None = None,
    ) -> str | None:
        """A Spotify access token for the user that is valid now, refreshed when needed.

        None when the user has no usable Spotify link: never linked, or revoked (also when the
        refresh here finds Spotify answering ``invalid_grant``, which marks the identity
        revoked). The mark is written in the caller's unit of work, so callers fall back
        (local catalog, skip the import) rather than fail the request and lose it.
        Spotify being down or rate-limiting raises ``SpotifyUnavailable``/``SpotifyRateLimited``.
        """
        identity = await identities_repository.get_for_user(session, user_id, OAuthProvider.spotify)
        if not self._usable(identity):
            return None
        assert identity is not None
        if not self._expired(identity):
            return self._decrypt(settings, identity, identity.access_token_enc)
        identity = await identities_repository.get_for_user(
            session, user_id, OAuthProvider.spotify, for_update=True
        )
        if identity is None or not self._usable(identity):
            return None
        if not self._expired(identity):
            # Another request refreshed it while we waited for the row lock.
            return self._decrypt(settings, identity, identity.access_token_enc)
        refresh_token = self._decrypt(settings, identity, identity.refresh_token_enc)
        if refresh_token is None:
            identity.status = IdentityStatus.revoked
            await session.flush()
            return None
        try:
            tokens = await (client or SpotifyClient(settings)).refresh(refresh_token)
        except SpotifyGrantRejected as exc:
            if exc.error != "invalid_grant":
                raise
            identity.status = IdentityStatus.revoked
            await session.flush()
            return None
        self._store_tokens(
            settings,
            identity,
            ProviderTokens(
                access_token=tokens.access_token,
                refresh_token=tokens.refresh_token,
                expires_in_s=tokens.expires_in_s,
                scope=tokens.scope,
            ),
        )
        await session.flush()
        return tokens.access_token

    @staticmethod
    def _usable(identity: OAuthIdentity | None) -> bool:
        return (
            identity is not None
            and identity.status is IdentityStatus.active
            and identity.access_token_enc is not None
        )

    @staticmethod
    def _expired(identity: OAuthIdentity) -> bool:
        expires_at = identity.token_expires_at
        return expires_at is None or expires_at - _EXPIRY_MARGIN <= datetime.now(UTC)

    @staticmethod
    def _decrypt(settings: Settings, identity: OAuthIdentity, value: bytes | None) -> str | None:
        if value is None:
            return None
        try:
            return token_cipher(settings).decrypt(value)
        except TokenDecryptionError:
            # Undecryptable (key changed without re-encryption): treat as needing a new link.
            identity.status = IdentityStatus.revoked
            return None

    @staticmethod
    def _store_tokens(settings: Settings, identity: OAuthIdentity, tokens: ProviderTokens) -> None:
        cipher = token_cipher(settings)
        identity.access_token_enc = cipher.encrypt(tokens.access_token)
        if tokens.refresh_token:
            identity.refresh_token_enc = cipher.encrypt(tokens.refresh_token)
        identity.token_expires_at = datetime.now(UTC) + timedelta(seconds=tokens.expires_in_s)
        if tokens.scope is not None:
            identity.scopes = tokens.scope
        identity.status = IdentityStatus.active

    # --- linking ----------------------------------------------------------------------------

    async def _sign_in(
        self,
        session: AsyncSession,
        settings: Settings,
        account: ProviderAccount,
        *,
        tokens: ProviderTokens | None,
        link_user_id: uuid.UUID | None,
    ) -> User:
        # Two first sign-ins of one account at the same moment both pass the lookups; the
        # unique constraints let one through and turn the other into a retryable error.
        try:
            async with session.begin_nested():
                return await self._sign_in_once(
                    session, settings, account, tokens=tokens, link_user_id=link_user_id
                )
        except IntegrityError as exc:
            raise SignInError(
                "sign_in_conflict", "Another sign-in of this account was in progress; try again"
            ) from exc

    async def _sign_in_once(
        self,
        session: AsyncSession,
        settings: Settings,
        account: ProviderAccount,
        *,
        tokens: ProviderTokens | None,
        link_user_id: uuid.UUID | None,
    ) -> User:
        identity = await identities_repository.get_by_subject(
            session, account.provider, account.subject
        )
        if link_user_id is not None:
            user = await self._user_to_link(session, account, identity, link_user_id)
        elif identity is not None:
            user = identity.user
        else:
            user = await self._user_for_new_identity(session, account)

        if identity is None:
            identity = await identities_repository.get_for_user(session, user.id, account.provider)
            if identity is not None:
                # Linking a different account of the same provider replaces the old one.
                identity.subject = account.subject
                identity.access_token_enc = identity.refresh_token_enc = None
                identity.history_cursor_ms = None
            else:
                identity = OAuthIdentity(
                    user_id=user.id, provider=account.provider, subject=account.subject
                )
                session.add(identity)
        identity.email = account.email
        identity.status = IdentityStatus.active
        if tokens is not None:
            self._store_tokens(settings, identity, tokens)

        if user.avatar_url is None and account.avatar_url:
            user.avatar_url = account.avatar_url
        if (
            account.email_verified
            and account.email
            and user.email
            and user.email.lower() == account.email.lower()
        ):
            user.email_verified = True
        await session.flush()
        return user

    async def _user_to_link(
        self,
        session: AsyncSession,
        account: ProviderAccount,
        identity: OAuthIdentity | None,
        link_user_id: uuid.UUID,
    ) -> User:
        label = _provider_label(account.provider)
        if identity is not None and identity.user_id != link_user_id:
            raise SignInError(
                "identity_in_use", f"This {label} account is linked to another TuneWave account"
            )
        user = await users_repository.get(session, link_user_id)
        if user is None:
            raise SignInError("invalid_request", "The account to link no longer exists")
        return user

    async def _user_for_new_identity(self, session: AsyncSession, account: ProviderAccount) -> User:
        email = account.email
        holder = await users_repository.get_by_email(session, email) if email else None
        if holder is not None and account.email_verified:
            if holder.email_verified:
                existing = await identities_repository.get_for_user(
                    session, holder.id, account.provider
                )
                if existing is not None:
                    raise SignInError(
                        "account_conflict",
                        f"Another {_provider_label(account.provider)} account already signs in "
                        "with this email address",
                    )
                return holder
            # An address nobody proved goes to the one who just proved it; the other account
            # keeps its own sign-in, without the address.
            holder.email = None
            await session.flush()
            holder = None
        if holder is not None:
            # Unverified claims never take over or join an account, and never take its address.
            email = None
        return await users_repository.add(
            session,
            User(
                display_name=_display_name(account.display_name),
                email=email,
                email_verified=bool(email) and account.email_verified,
                avatar_url=account.avatar_url,
            ),
        )

    def _issue(self, settings: Settings, user: User) -> SignedIn:
        token, expires_in = issue_access_token(settings, user.id)
        return SignedIn(user_id=user.id, access_token=token, expires_in=expires_in)


auth_service = AuthService()
