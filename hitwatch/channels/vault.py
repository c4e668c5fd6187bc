"""Channel URLs and secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) with a key derived
from SECRET_KEY, so a copy of the database alone does not hand out robots' access keys."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken

from hitwatch.errors import PermanentError

__all__ = ["Vault", "VaultError"]

_CONTEXT = b"hitwatch channel secrets v1\n"


class VaultError(PermanentError):
    """A stored channel secret cannot be read (SECRET_KEY changed since it was saved)."""


@dataclass(frozen=True)
class Vault:
    secret_key: str

    def _fernet(self) -> Fernet:
        # A key of its own purpose: the session-signing key itself never encrypts anything.
        digest = hashlib.sha256(_CONTEXT + self.secret_key.encode("utf-8")).digest()
        return Fernet(base64.urlsafe_b64encode(digest))

    def seal(self, text: str) -> str:
        return self._fernet().encrypt(text.encode("utf-8")).decode("ascii") if text else ""

    def open(self, token: str) -> str:
        if not token:
            return ""
        try:
            return self._fernet().decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise VaultError(
                "the channel's URL or secret cannot be decrypted: SECRET_KEY changed since it "
                "was saved; enter the channel again"
            ) from None
