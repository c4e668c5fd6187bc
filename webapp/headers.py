"""Security headers on every response, and the session cookie's flags.

The Content-Security-Policy allows scripts, styles and images from this site only: no
inline script, no inline style, no plugin, no framing. Crawled text is escaped by the
templates; the policy is the second wall, so a hole in escaping still runs nothing.
"""

from __future__ import annotations

from flask import Flask, Response

from hitwatch.settings import Settings

__all__ = ["CONTENT_SECURITY_POLICY", "SECURITY_HEADERS", "init_app"]

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def _add_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask, settings: Settings) -> None:
    """Session cookie: never readable by script, not sent on cross-site posts, and only
    over TLS when the public address is https (the demo on http://127.0.0.1 keeps it)."""
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.resolved_public_base_url.startswith("https://"),
    )
    app.after_request(_add_headers)
