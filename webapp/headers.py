"""Security headers on every response, and the session cookie's flags.

The Content-Security-Policy allows scripts, styles and images from this site only: no
inline script, no inline style, no plugin, no framing. Crawled text is escaped by the
templates; the policy is the second wall, so a hole in escaping still runs nothing.
"""

from __future__ import annotations

from flask import Flask, Response, request

from hitwatch.settings import Settings

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "EMAIL_HTML_PAGES",
    "EMAIL_HTML_POLICY",
    "SECURITY_HEADERS",
    "init_app",
]

_DIRECTIVES = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)
CONTENT_SECURITY_POLICY = "; ".join(_DIRECTIVES)

# The digest page shows the issue as mailed (a published one is its frozen snapshot):
# e-mail HTML, styled by style attributes, which mail clients need. Those pages allow
# style *attributes* (they run no script); <style> elements and scripts stay refused.
EMAIL_HTML_PAGES = frozenset({"digests.issue"})
EMAIL_HTML_POLICY = "; ".join((*_DIRECTIVES, "style-src-attr 'unsafe-inline'"))

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
    if request.endpoint in EMAIL_HTML_PAGES:
        response.headers["Content-Security-Policy"] = EMAIL_HTML_POLICY
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
