"""What every e-mail hitwatch sends shares: signed link tokens, address checks, Message-IDs.

Digests and alerts both put signed, expiring tokens (itsdangerous, keyed by SECRET_KEY)
in their links so that confirming, managing and unsubscribing need no login; each
purpose has its own salt, so a token made for one purpose is refused for another.
"""

from __future__ import annotations

import re
from email.utils import make_msgid, parseaddr

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from hitwatch.errors import PermanentError

__all__ = [
    "AddressError",
    "TokenError",
    "make_token",
    "new_message_id",
    "normalize_address",
    "read_address_token",
    "read_token",
    "sender_domain",
]

_EMAIL = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")


class TokenError(PermanentError):
    """A confirmation, management or unsubscribe link is forged, altered or expired."""


class AddressError(PermanentError):
    """Something given as an e-mail address is not one."""


def make_token(secret: str, purpose: str, value: int | str) -> str:
    """A signed, timestamped token carrying `value` (an id or an address) for `purpose`."""
    return URLSafeTimedSerializer(secret, salt=purpose).dumps(value)


def _load(secret: str, purpose: str, token: str, max_age: int) -> object:
    serializer = URLSafeTimedSerializer(secret, salt=purpose)
    try:
        return serializer.loads(token, max_age=max_age)
    except SignatureExpired:
        raise TokenError("the link has expired; subscribe again to get a new one") from None
    except BadSignature:
        raise TokenError("the link is not valid; copy the whole link from the e-mail") from None


def read_token(secret: str, purpose: str, token: str, max_age: int) -> int:
    """The id a token was made for; TokenError when it is bad or too old."""
    value = _load(secret, purpose, token, max_age)
    if not isinstance(value, int) or isinstance(value, bool):
        raise TokenError("the link is not valid; copy the whole link from the e-mail")
    return value


def read_address_token(secret: str, purpose: str, token: str, max_age: int) -> str:
    """The e-mail address a token was made for; TokenError when it is bad or too old."""
    value = _load(secret, purpose, token, max_age)
    if not isinstance(value, str):
        raise TokenError("the link is not valid; copy the whole link from the e-mail")
    return value


def normalize_address(email: str) -> str:
    """The address trimmed and lowercased; AddressError when it is not an address."""
    address = email.strip().lower()
    if not _EMAIL.match(address):
        raise AddressError(f"{email!r} is not an e-mail address")
    return address


def sender_domain(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2] or "localhost"


def new_message_id(sender: str) -> str:
    return make_msgid(domain=sender_domain(sender))
