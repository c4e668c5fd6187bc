"""What every e-mail hitwatch sends shares: signed link tokens, address checks, Message-IDs,
and the transport that hands finished messages to the SMTP server.

Digests and alerts both put signed, expiring tokens (itsdangerous, keyed by SECRET_KEY)
in their links so that confirming, managing and unsubscribing need no login; each
purpose has its own salt, so a token made for one purpose is refused for another.
"""

from __future__ import annotations

import logging
import re
import smtplib
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from typing import Protocol

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from hitwatch.errors import PermanentError
from hitwatch.metrics import MAILS_FAILED, MAILS_SENT
from hitwatch.settings import Settings

__all__ = [
    "AddressError",
    "MailTransport",
    "RawMessage",
    "SmtpTransport",
    "TokenError",
    "make_token",
    "new_message_id",
    "normalize_address",
    "open_transport",
    "read_address_token",
    "read_token",
    "sender_domain",
]

log = logging.getLogger(__name__)

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


@dataclass(frozen=True)
class RawMessage:
    """A finished message as bytes (CRLF line ends) with its envelope."""

    sender: str
    recipient: str
    data: bytes


class MailTransport(Protocol):
    """Something that sends one finished message or raises.

    `batch()` brackets many sends so an implementation can keep one connection open."""

    def send(self, message: EmailMessage | RawMessage) -> None: ...

    def batch(self) -> AbstractContextManager[None]: ...


# Answers after which the server has closed (or will close) the connection: open a new one.
_RECONNECT_CODES = frozenset({421})


@dataclass
class SmtpTransport:
    """smtplib. A lone `send` opens and closes its own connection; inside `batch()` one
    connection carries every message, reopened when the server drops it or answers 421.

    A message is sent again after a reconnect only when the old connection failed; the
    copy keeps its Message-ID, so a mail client shows one message even in the rare case
    that the server had accepted it before the connection broke."""

    host: str
    port: int
    user: str = ""
    password: str = ""
    starttls: bool = False
    timeout: float = 30.0
    _client: smtplib.SMTP | None = field(default=None, init=False, repr=False)
    _batching: bool = field(default=False, init=False, repr=False)
    connections: int = field(default=0, init=False)

    def _connect(self) -> smtplib.SMTP:
        client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.starttls:
                client.starttls()
            if self.user:
                client.login(self.user, self.password)
        except BaseException:
            client.close()
            raise
        self.connections += 1
        return client

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()

    @contextmanager
    def batch(self) -> Iterator[None]:
        if self._batching:
            yield
            return
        self._batching = True
        try:
            yield
        finally:
            self._batching = False
            self._drop()

    def send(self, message: EmailMessage | RawMessage) -> None:
        try:
            self._send(message)
        except Exception:
            MAILS_FAILED.inc()
            raise
        MAILS_SENT.inc()

    def _send(self, message: EmailMessage | RawMessage) -> None:
        reused = self._client is not None
        try:
            self._send_once(message)
        except smtplib.SMTPResponseException as error:
            if error.smtp_code not in _RECONNECT_CODES:
                raise  # smtplib has reset the transaction; the connection stays usable
            self._retry(message, reused, error)
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            self._retry(message, reused, error)
        finally:
            if not self._batching:
                self._drop()

    def _retry(self, message: EmailMessage | RawMessage, reused: bool, error: Exception) -> None:
        self._drop()
        if not reused:
            raise error
        log.info("SMTP connection lost (%s); reconnecting", error)
        self._send_once(message)  # on a fresh connection: its error is final

    def _send_once(self, message: EmailMessage | RawMessage) -> None:
        if self._client is None:
            self._client = self._connect()
        if isinstance(message, RawMessage):
            self._client.sendmail(message.sender, [message.recipient], message.data)
        else:
            self._client.send_message(message)


def open_transport(settings: Settings) -> MailTransport:
    return SmtpTransport(
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_user,
        settings.smtp_password.get_secret_value(),
        settings.smtp_starttls,
    )
