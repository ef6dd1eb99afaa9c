"""Provider tokens at rest: Fernet (AES-128-CBC + HMAC-SHA256) under ``token_encryption_key``."""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken

from api.core.config import Settings


class TokenDecryptionError(Exception):
    """A stored token does not decrypt under the configured key (rotated or corrupted)."""


class TokenCipher:
    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())

    def encrypt(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode())

    def decrypt(self, ciphertext: bytes) -> str:
        try:
            return self._fernet.decrypt(ciphertext).decode()
        except InvalidToken as exc:
            raise TokenDecryptionError("stored provider token cannot be decrypted") from exc


@lru_cache(maxsize=8)
def _cipher_for_key(key: str) -> TokenCipher:
    return TokenCipher(key)


def token_cipher(settings: Settings) -> TokenCipher:
    return _cipher_for_key(settings.token_encryption_key.get_secret_value())
