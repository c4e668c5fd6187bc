"""`hitwatch check`: the settings that leave a deployment open, each with what to do.

Every check is a small named function from the settings to its findings; `CHECKS` lists
them in the order they are reported. A check that needs the store opens it from the
settings it is given (`settings.resolved_database_url`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from hitwatch.secret_key import MAKE_ONE, MIN_SECRET_LENGTH, secret_key_problem
from hitwatch.settings import Settings

__all__ = ["CHECKS", "STORE_CHECKS", "Finding", "is_local_host", "run_checks"]


@dataclass(frozen=True)
class Finding:
    """One insecure setting: which variable, what is wrong, what to do."""

    setting: str
    problem: str
    fix: str


Check = Callable[[Settings], Iterable[Finding]]


def is_local_host(host: str) -> bool:
    """Only this machine reaches `host` (loopback name or address, or a Unix socket)."""
    host = host.strip("[]").rstrip(".").lower()
    if not host or host.startswith("/") or host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def secret_key(settings: Settings) -> Iterator[Finding]:
    problem = secret_key_problem(settings.secret_key.get_secret_value())
    if problem is not None:
        yield Finding(
            "SECRET_KEY",
            f"{problem}: sessions and e-mailed links can be forged",
            f"set SECRET_KEY to {MIN_SECRET_LENGTH}+ random characters: {MAKE_ONE}",
        )


def smtp_tls(settings: Settings) -> Iterator[Finding]:
    if not settings.smtp_starttls and not is_local_host(settings.smtp_host):
        yield Finding(
            "SMTP_STARTTLS",
            f"mail to {settings.smtp_host}:{settings.smtp_port} is sent without TLS"
            + (" (with the SMTP password)" if settings.smtp_user else ""),
            "set SMTP_STARTTLS=true (and the server's submission port, usually 587)",
        )


def public_base_url(settings: Settings) -> Iterator[Finding]:
    url = settings.resolved_public_base_url
    parts = urlsplit(url)
    if parts.scheme != "https" and not is_local_host(parts.hostname or ""):
        yield Finding(
            "PUBLIC_BASE_URL",
            f"{url} is not https: session cookies and signed links travel in clear text",
            "serve the web app behind TLS and set PUBLIC_BASE_URL=https://…",
        )


def _password_finding(variable: str, what: str, host: str, has_password: bool) -> Finding | None:
    if has_password or is_local_host(host):
        return None
    return Finding(
        variable,
        f"{what} on {host} is reached without a password",
        f"require a password on {what} and put it in {variable}",
    )


def server_passwords(settings: Settings) -> Iterator[Finding]:
    if settings.redis_url:
        parts = urlsplit(settings.redis_url)
        found = _password_finding("REDIS_URL", "Redis", parts.hostname or "", bool(parts.password))
        if found:
            yield found
    if settings.database_url:
        try:
            url = make_url(settings.database_url)
        except ArgumentError:
            url = None
        if url is not None and not url.get_backend_name().startswith("sqlite"):
            host = url.host or str(url.query.get("host", ""))
            found = _password_finding("DATABASE_URL", "PostgreSQL", host, bool(url.password))
            if found:
                yield found
    for node in filter(None, (n.strip() for n in settings.elasticsearch_url.split(","))):
        parts = urlsplit(node if "://" in node else f"http://{node}")
        found = _password_finding(
            "ELASTICSEARCH_URL", "Elasticsearch", parts.hostname or "", bool(parts.password)
        )
        if found:
            yield found


def fetch_guard(settings: Settings) -> Iterator[Finding]:
    if settings.fetch_allow_private:
        yield Finding(
            "FETCH_ALLOW_PRIVATE",
            "the crawler fetches loopback, private and link-local addresses: a URL or a"
            " redirect can reach this machine's and the network's internal services",
            "set FETCH_ALLOW_PRIVATE=false; name the intranet hosts you crawl in"
            " FETCH_ALLOWED_HOSTS",
        )


def channel_http(settings: Settings) -> Iterator[Finding]:
    if settings.channel_allow_http:
        yield Finding(
            "CHANNEL_ALLOW_HTTP",
            "alert channels may post to http:// URLs: the robots' access keys and the"
            " alerts travel unencrypted",
            "set CHANNEL_ALLOW_HTTP=false; 企业微信, 钉钉 and 飞书 robots all have https URLs",
        )


def admin_account(settings: Settings) -> Iterator[Finding]:
    """An installation needs someone who can manage it; public reading makes it urgent."""
    from hitwatch.accounts import count_admins
    from hitwatch.store import open_database

    database = open_database(settings.resolved_database_url)
    try:
        with database.session() as session:
            admins = count_admins(session)
    except Exception as error:  # any driver's error: the check could not run
        yield Finding(
            "DATABASE_URL",
            f"the accounts could not be read ({type(error).__name__})",
            "check DATABASE_URL and run `hitwatch migrate`, then check again",
        )
        return
    finally:
        database.dispose()
    if admins == 0:
        reading = "anyone may read, and " if settings.read_access == "public" else ""
        yield Finding(
            "users",
            f"{reading}no admin account exists: nobody can manage accounts, failures or sources",
            "hitwatch users add you@example.org --role admin",
        )


# (name, check) in report order: first the settings alone, then what the store holds.
CHECKS: tuple[tuple[str, Check], ...] = (
    ("secret key", secret_key),
    ("SMTP over TLS", smtp_tls),
    ("public address over https", public_base_url),
    ("server passwords", server_passwords),
    ("fetch guard", fetch_guard),
    ("channels over https", channel_http),
)
STORE_CHECKS: tuple[tuple[str, Check], ...] = (("admin account", admin_account),)


def run_checks(settings: Settings, *, store: bool = True) -> list[tuple[str, list[Finding]]]:
    """Each check's name and its findings (an empty list when it passed); `store=False`
    checks the settings alone, without opening the database."""
    checks = CHECKS + STORE_CHECKS if store else CHECKS
    return [(name, list(check(settings))) for name, check in checks]
