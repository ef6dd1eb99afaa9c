"""Sign-in failures that end in an error redirect to the SPA (see docs/auth.md)."""

from __future__ import annotations

from api.core.exceptions import BadRequest


class SignInError(BadRequest):
    """Sign-in failed."""

    # The codes the SPA's /signed-in page knows how to explain.
    CODES = frozenset(
        {
            "access_denied",
            "provider_error",
            "provider_unavailable",
            "token_exchange_failed",
            "invalid_id_token",
            "invalid_request",
            "account_conflict",
            "identity_in_use",
            "sign_in_conflict",
        }
    )

    def __init__(self, code: str, description: str) -> None:
        if code not in self.CODES:
            raise ValueError(f"unknown sign-in error code {code!r}")
        super().__init__(description)
        self.code = code
        self.description = description
