"""Encryption of personal fields at rest (Fernet, rotatable) and keyed hashes for lookups."""

from __future__ import annotations

import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from core.errors import InvalidInput


class FieldCipher:
    """Encrypts with the first key, decrypts with any: rotate by prepending a new key."""

    def __init__(self, keys: str, pepper: str) -> None:
        parts = [k.strip() for k in keys.split(",") if k.strip()]
        if not parts:
            raise InvalidInput("at least one encryption key is required")
        self._fernet = MultiFernet([Fernet(k.encode()) for k in parts])
        self._pepper = pepper.encode()

    def encrypt(self, value: str | None) -> bytes | None:
        return None if value is None else self._fernet.encrypt(value.encode())

    def decrypt(self, token: bytes | None) -> str | None:
        if token is None:
            return None
        try:
            return self._fernet.decrypt(bytes(token)).decode()
        except InvalidToken as exc:
            raise InvalidInput("a stored field cannot be decrypted with the configured keys") from exc

    def rotate(self, token: bytes | None) -> bytes | None:
        return None if token is None else self._fernet.rotate(bytes(token))

    def lookup_hash(self, value: str) -> str:
        """A keyed hash to find a row by an identifier without storing the identifier."""
        return hmac.new(self._pepper, value.encode(), hashlib.sha256).hexdigest()


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
