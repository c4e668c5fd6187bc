"""Rate limits against password guessing and against using the app to mail someone.

Counters live in the same Redis as the queues (Flask-Limiter, moving window), so every
web process shares them. Limits are kept here in one table by endpoint, per client
address and per the e-mail address a form names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, request
from flask_limiter import Limiter
from werkzeug.wrappers import Response

__all__ = ["LIMITS", "init_app"]


def by_client() -> str:
    return f"client:{request.remote_addr or ''}"


def by_form_email() -> str:
    """The account or target address of a form, so spreading requests over many client
    addresses does not help against one account or one mailbox."""
    return f"email:{request.form.get('email', '').strip().lower()}"


def _failed(response: Response) -> bool:
    # A successful login redirects; only failures count against an account.
    return response.status_code != 302


# endpoint -> (limit, key, count only failures) for POST requests
LIMITS: dict[str, tuple[tuple[str, Callable[[], str], bool], ...]] = {
    "account.login": (
        ("10 per minute;100 per day", by_client, False),
        ("5 per 15 minutes", by_form_email, True),
    ),
    "account.forgot_password": (
        ("5 per hour", by_client, False),
        ("3 per hour", by_form_email, False),
    ),
    "alerts.create": (
        ("20 per hour", by_client, False),
        ("5 per hour;10 per day", by_form_email, False),
    ),
    "alerts.manage_link": (
        ("10 per hour", by_client, False),
        ("3 per hour", by_form_email, False),
    ),
    # Each test message is a request to someone's group robot: not a way to flood a group.
    "alerts.channel_add": (("30 per hour", by_client, False),),
    "alerts.channel_action": (("30 per hour;100 per day", by_client, False),),
    "subscriptions.subscribe": (
        ("10 per hour", by_client, False),
        ("3 per hour", by_form_email, False),
    ),
}


def init_app(app: Flask, storage_uri: str) -> Limiter:
    """Limit the endpoints of LIMITS (registered already) with counters at `storage_uri`."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", storage_uri)
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "hitwatch-limits")
    # Redis down: count in this process rather than refuse every login.
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter = Limiter(by_client, app=app)
    for endpoint, limits in LIMITS.items():
        view: Any = app.view_functions[endpoint]
        for value, key, failures_only in limits:
            view = limiter.limit(
                value,
                key_func=key,
                methods=["POST"],
                deduct_when=_failed if failures_only else None,
            )(view)
        app.view_functions[endpoint] = view
    # The wrapped views hold the limiter weakly: the app keeps it alive.
    app.extensions["rate_limiter"] = limiter
    return limiter
