"""Alert e-mail: the links it carries and the messages themselves. Pure: no connection.

A link's token is signed for one purpose (`hitwatch.mail`): confirming a rule (its id),
unsubscribing from a rule (its id) and managing all the rules of an address (the
address). Wording lives in `wording.yaml` and the templates of this package.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formataddr
from functools import cache
from importlib import resources
from typing import Any

import yaml
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from hitwatch.alerts.describe import describe_query
from hitwatch.mail import make_token, new_message_id, sender_domain
from hitwatch.search import SHANGHAI, SearchDocument, highlight, highlight_title

__all__ = [
    "CONFIRM",
    "CONFIRM_MAX_AGE",
    "MANAGE",
    "MANAGE_MAX_AGE",
    "UNSUBSCRIBE",
    "UNSUBSCRIBE_MAX_AGE",
    "AlertLinks",
    "alert_links",
    "alert_message",
    "alert_message_id",
    "bundle_message",
    "confirmation_message",
    "heartbeat_message",
    "local_date",
    "manage_message",
    "plain_snippet",
    "wording",
]

CONFIRM = "alert-confirm"
MANAGE = "alert-manage"
UNSUBSCRIBE = "alert-unsubscribe"
CONFIRM_MAX_AGE = 7 * 24 * 3600
# Links in old alert mails must keep working for as long as people keep those mails.
MANAGE_MAX_AGE = 400 * 24 * 3600
UNSUBSCRIBE_MAX_AGE = 400 * 24 * 3600
SNIPPET_WIDTH = 160
_MARK = re.compile(r"</?mark>")


@cache
def wording() -> dict[str, str]:
    text = resources.files("hitwatch.alerts").joinpath("wording.yaml").read_text("utf-8")
    data: dict[str, str] = yaml.safe_load(text)
    return data


@cache
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("hitwatch.alerts", "templates"),
        autoescape=select_autoescape(["html"]),
        keep_trailing_newline=True,
    )


def _render(template: str, **context: Any) -> str:
    return _templates().get_template(template).render(context)


@dataclass(frozen=True)
class AlertLinks:
    """Absolute URLs of the web app's alert pages, made from PUBLIC_BASE_URL and a secret.

    The paths are the web app's alert routes; a test checks that they resolve there."""

    base_url: str
    secret: str

    def confirm(self, rule_id: int) -> str:
        return f"{self._base}/alerts/confirm/{make_token(self.secret, CONFIRM, rule_id)}"

    def manage(self, email: str) -> str:
        return f"{self._base}/alerts/manage/{make_token(self.secret, MANAGE, email)}"

    def unsubscribe(self, rule_id: int) -> str:
        return f"{self._base}/alerts/unsubscribe/{make_token(self.secret, UNSUBSCRIBE, rule_id)}"

    def one_click(self, rule_id: int) -> str:
        return f"{self.unsubscribe(rule_id)}/one-click"

    def item(self, doc_id: str) -> str:
        return f"{self._base}/items/{doc_id}"

    @property
    def _base(self) -> str:
        return self.base_url.rstrip("/")


def alert_links(settings_base_url: str, secret: str) -> AlertLinks:
    return AlertLinks(settings_base_url, secret)


def plain_snippet(text: str, terms: list[str], width: int = SNIPPET_WIDTH) -> str:
    """The highlighted excerpt for a text part: matched terms in 【】 instead of <mark>."""
    marked = highlight(text, terms, width=width)
    return html.unescape(_MARK.sub(lambda m: "】" if m.group().startswith("</") else "【", marked))


def local_date(published: datetime | None) -> str:
    if published is None:
        return wording()["undated"]
    return f"{published.astimezone(SHANGHAI):%Y-%m-%d}"


def alert_message_id(sender: str, rule_id: int, story_id: str) -> str:
    """The one Message-ID of a (rule, story) alert, however often it is sent."""
    return f"<alert.{rule_id}.{story_id}@{sender_domain(sender)}>"


def alert_message(
    *,
    sender: str,
    recipient: str,
    rule_id: int,
    rule_name: str,
    query: str,
    terms: list[str],
    document: SearchDocument,
    links: AlertLinks,
) -> EmailMessage:
    """One new match of one rule as multipart/alternative (text + HTML), RFC 8058 ready.

    Its Message-ID is that of the (rule, story): a mail sent again because the worker
    died (or the store refused the write) between the server's acceptance and the record
    of it carries the same Message-ID, so mail clients show it once."""
    described = describe_query(query, wording())
    name = rule_name or described
    context = {
        "name": name,
        "query": described if rule_name else "",  # a named rule also says what it asks
        "title": document.title,
        "source": document.source_name,
        "date": local_date(document.published_at),
        "url": document.url,
        "item_url": links.item(document.doc_id),
        "manage_url": links.manage(recipient),
        "unsubscribe_url": links.unsubscribe(rule_id),
    }
    message = EmailMessage()
    message["Subject"] = wording()["alert_subject"].format(name=name, title=document.title)
    message["From"] = sender
    message["To"] = recipient
    message["Message-ID"] = alert_message_id(sender, rule_id, document.story_id)
    message["List-Id"] = formataddr((name, f"alert-{rule_id}.{sender_domain(sender)}"))
    message["List-Unsubscribe"] = f"<{links.one_click(rule_id)}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(
        _render("alert.txt", snippet=plain_snippet(document.body, terms), **context)
    )
    message.add_alternative(
        _render(
            "alert.html",
            title_html=Markup(highlight_title(document.title, terms)),  # noqa: S704 (escaped by highlight)
            snippet_html=Markup(highlight(document.body, terms, width=SNIPPET_WIDTH)),  # noqa: S704
            **context,
        ),
        subtype="html",
    )
    return message


def confirmation_message(
    *, sender: str, recipient: str, name: str, query: str, confirm_url: str
) -> EmailMessage:
    """The double opt-in mail: no alert is sent to this address until the link is opened."""
    message = EmailMessage()
    described = describe_query(query, wording())
    message["Subject"] = wording()["confirm_subject"].format(name=name or described)
    message["From"] = sender
    message["To"] = recipient
    message["Message-ID"] = new_message_id(sender)
    message.set_content(
        _render("confirm.txt", name=name or described, query=query, confirm_url=confirm_url)
    )
    return message


def manage_message(*, sender: str, recipient: str, manage_url: str) -> EmailMessage:
    """The link to the management page, mailed to whoever asks for it for this address."""
    message = EmailMessage()
    message["Subject"] = wording()["manage_subject"]
    message["From"] = sender
    message["To"] = recipient
    message["Message-ID"] = new_message_id(sender)
    message.set_content(_render("manage.txt", manage_url=manage_url))
    return message


def bundle_message(
    *,
    sender: str,
    recipient: str,
    names: str,
    items: Sequence[Any],
    manage_url: str,
    unsubscribe_rule: int | None,
    links: AlertLinks,
) -> EmailMessage:
    """Every match of a window in one mail, in the order given (text + HTML). `items` are
    `hitwatch.channels.ChannelItem`s; a mail for one rule can be unsubscribed in one click."""
    heading = wording()["bundle_subject"].format(names=names, count=len(items))
    message = EmailMessage()
    message["Subject"] = heading
    message["From"] = sender
    message["To"] = recipient
    message["Message-ID"] = new_message_id(sender)
    if unsubscribe_rule is not None:
        message["List-Id"] = formataddr(
            (names, f"alert-{unsubscribe_rule}.{sender_domain(sender)}")
        )
        message["List-Unsubscribe"] = f"<{links.one_click(unsubscribe_rule)}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    context = {"heading": heading, "items": items, "manage_url": manage_url}
    message.set_content(_render("bundle.txt", **context))
    message.add_alternative(_render("bundle.html", **context), subtype="html")
    return message


def heartbeat_message(*, sender: str, recipient: str, name: str, manage_url: str) -> EmailMessage:
    """今日无新匹配: the rule is alive and found nothing in the past day."""
    heading = wording()["heartbeat_subject"].format(name=name)
    message = EmailMessage()
    message["Subject"] = heading
    message["From"] = sender
    message["To"] = recipient
    message["Message-ID"] = new_message_id(sender)
    message.set_content(_render("heartbeat.txt", heading=heading, name=name, manage_url=manage_url))
    return message
