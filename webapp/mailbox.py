"""The demo's 邮件 page: what the local mail catcher received, for admins to read."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, Response, abort, render_template, request
from markupsafe import Markup, escape

from hitwatch.mailbox import caught_mail, list_mailbox, mailbox_dir
from webapp.dependencies import dependencies
from webapp.pagination import Pagination, page_number

__all__ = ["bp", "linked"]

bp = Blueprint("mailbox", __name__)

PER_PAGE = 30
_URL = re.compile(r"https?://[^\s<>\"'，。）]+")
# The caught HTML is shown in a sandboxed frame: no script, no forms, its own origin.
HTML_PART_POLICY = (
    "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; "
    "img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'"
)


def _folder() -> Path:
    settings = dependencies().settings
    if not settings.mail_catcher:
        abort(404)
    return mailbox_dir(settings.data_dir)


def linked(text: str) -> Markup:
    """Plain text with its web addresses made clickable (everything else escaped)."""
    parts: list[str] = []
    last = 0
    for match in _URL.finditer(text):
        parts.append(str(escape(text[last : match.start()])))
        url = escape(match.group(0))
        parts.append(f'<a href="{url}" target="_blank" rel="noopener">{url}</a>')
        last = match.end()
    parts.append(str(escape(text[last:])))
    return Markup("".join(parts))  # noqa: S704 - every piece was escaped above


@bp.get("/mail")
def index() -> str:
    folder = _folder()
    page = page_number(request.args.get("page"))
    total, _ = list_mailbox(folder, limit=0)
    pagination = Pagination(page, PER_PAGE, total)
    _, messages = list_mailbox(folder, offset=pagination.offset, limit=PER_PAGE)
    return render_template("mailbox/index.html", messages=messages, pagination=pagination)


@bp.get("/mail/<message_id>")
def message(message_id: str) -> str:
    mail = caught_mail(_folder(), message_id)
    if mail is None:
        abort(404)
    return render_template("mailbox/message.html", mail=mail, text=linked(mail.text))


@bp.get("/mail/<message_id>/html")
def html_part(message_id: str) -> Response:
    mail = caught_mail(_folder(), message_id)
    if mail is None or not mail.html:
        abort(404)
    response = Response(mail.html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = HTML_PART_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"  # framed by the message page only
    return response
