"""What a channel receives: one message in the platform's documented request format.

Pure: the time and the delivery id are passed in. The text is Markdown rendered from
`templates/` (Chinese wording there and in `wording.yaml`), wrapped per platform:

- 企业微信 group robot: `{"msgtype": "markdown", "markdown": {"content": ...}}`
  (content at most 4096 bytes);
- 钉钉 custom robot: `{"msgtype": "markdown", "markdown": {"title", "text"}}`, signed by
  `timestamp` (ms) and `sign` = urlencode(base64(HMAC-SHA256(secret, "timestamp\\nsecret")))
  in the query string;
- 飞书 custom bot: an interactive card with a markdown element; signed in the body by
  `timestamp` (s) and `sign` = base64(HMAC-SHA256(key="timestamp\\nsecret", msg=""));
- generic webhook: the JSON body of `webapp/static/openapi.yaml` (`ChannelWebhook`),
  headers `X-Hitwatch-Timestamp`, `X-Hitwatch-Delivery` and `X-Hitwatch-Signature` =
  `sha256=` + hex HMAC-SHA256(secret, timestamp + "." + body).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import quote_plus, urlsplit, urlunsplit

import yaml
from jinja2 import Environment, PackageLoader, Template

__all__ = [
    "KINDS",
    "ChannelItem",
    "ChannelMessage",
    "PreparedPost",
    "dingtalk_sign",
    "feishu_sign",
    "prepare_post",
    "render_markdown",
    "rule_names",
    "template",
    "webhook_signature",
    "wording",
]

KINDS = ("wecom", "dingtalk", "feishu", "webhook")
WECOM_MAX_BYTES = 4096
DINGTALK_MAX_CHARS = 5000
FEISHU_MAX_BYTES = 18_000  # the platform refuses bodies over 20 KB


@cache
def wording() -> dict[str, Any]:
    text = resources.files("hitwatch.channels").joinpath("wording.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


@cache
def _templates() -> Environment:
    environment = Environment(
        loader=PackageLoader("hitwatch.channels", "templates"),
        autoescape=False,  # noqa: S701 (Markdown: the `md` filter escapes)
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["md"] = markdown_text
    environment.filters["mdurl"] = markdown_url
    return environment


_MARKDOWN_SPECIAL = str.maketrans({c: f"\\{c}" for c in "\\`*_[]<>#|~"})


def template(name: str) -> Template:
    """A template of this package (Markdown posts, the pause e-mail's text)."""
    return _templates().get_template(name)


def markdown_text(text: object) -> str:
    """Crawled text as literal Markdown: no link, emphasis or HTML can be smuggled in."""
    return " ".join(str(text).split()).translate(_MARKDOWN_SPECIAL)


def markdown_url(url: object) -> str:
    """A URL that cannot end a Markdown link early."""
    return str(url).replace(" ", "%20").replace("(", "%28").replace(")", "%29")


@dataclass(frozen=True)
class ChannelItem:
    """One story as a channel shows it."""

    doc_id: str
    story_id: str
    title: str
    url: str
    item_url: str
    source: str
    published_at: datetime | None
    date: str
    doc_type: str = ""
    doc_number: str = ""
    issuer: str = ""
    terms: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()  # names of the rules it matched


@dataclass(frozen=True)
class ChannelMessage:
    """What one post says: an alert naming its rules, a digest issue (`note` its 本期导语,
    `items` its 信息目录, `link` the issue page), a heartbeat, or a test."""

    event: str  # "alert" | "digest" | "heartbeat" | "test"
    heading: str
    items: tuple[ChannelItem, ...] = ()
    rules: tuple[tuple[int, str], ...] = ()  # (id, name) of the rules named
    note: str = ""
    link: str = ""


@dataclass(frozen=True)
class PreparedPost:
    """An HTTP POST ready to go: URL (signature in the query for 钉钉), body, headers."""

    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def render_markdown(message: ChannelMessage, *, max_bytes: int | None = None) -> str:
    """The message as Markdown; items that do not fit in `max_bytes` are counted instead."""
    template = _templates().get_template(f"{message.event}.md")
    shown = len(message.items)
    while True:
        text = template.render(
            message=message,
            items=message.items[:shown],
            more=len(message.items) - shown,
            words=wording(),
        )
        if max_bytes is None or len(text.encode("utf-8")) <= max_bytes or shown <= 1:
            return text if max_bytes is None else _clip(text, max_bytes)
        shown -= 1


def _clip(text: str, max_bytes: int) -> str:
    data = text.encode("utf-8")
    return text if len(data) <= max_bytes else data[: max_bytes - 3].decode("utf-8", "ignore")


def _hmac_base64(key: bytes, message: bytes) -> str:
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode("ascii")


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """钉钉's `sign` parameter, already URL-encoded."""
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    return quote_plus(_hmac_base64(secret.encode("utf-8"), to_sign))


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """飞书's `sign` field: the key is "timestamp\\nsecret", the message empty."""
    return _hmac_base64(f"{timestamp_s}\n{secret}".encode(), b"")


def webhook_signature(secret: str, timestamp_s: int, body: bytes) -> str:
    """`X-Hitwatch-Signature` of a generic webhook."""
    signed = f"{timestamp_s}.".encode() + body
    return "sha256=" + hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def _json(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _with_query(url: str, extra: str) -> str:
    parts = urlsplit(url)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit(parts._replace(query=query))


def _webhook_body(message: ChannelMessage, delivery_id: str, now: datetime) -> dict[str, Any]:
    return {
        "event": message.event,
        "delivery_id": delivery_id,
        "sent_at": now.isoformat(),
        "heading": message.heading,
        "note": message.note,
        "link": message.link,
        "rules": [{"id": rule_id, "name": name} for rule_id, name in message.rules],
        "items": [
            {
                "doc_id": item.doc_id,
                "story_id": item.story_id,
                "title": item.title,
                "url": item.url,
                "item_url": item.item_url,
                "source": item.source,
                "published_at": item.published_at.isoformat() if item.published_at else None,
                "doc_type": item.doc_type,
                "doc_number": item.doc_number,
                "issuer": item.issuer,
                "terms": list(item.terms),
                "rules": list(item.rules),
            }
            for item in message.items
        ],
    }


def prepare_post(
    kind: str,
    url: str,
    secret: str,
    message: ChannelMessage,
    *,
    now: datetime,
    delivery_id: str,
) -> PreparedPost:
    """The request that carries `message` to a channel of `kind` at `url`."""
    headers = {"Content-Type": "application/json; charset=utf-8"}
    seconds = int(now.timestamp())
    if kind == "wecom":
        text = render_markdown(message, max_bytes=WECOM_MAX_BYTES)
        body = _json({"msgtype": "markdown", "markdown": {"content": text}})
        return PreparedPost(url, body, headers)
    if kind == "dingtalk":
        text = render_markdown(message, max_bytes=DINGTALK_MAX_CHARS)
        body = _json({"msgtype": "markdown", "markdown": {"title": message.heading, "text": text}})
        if secret:
            millis = int(now.timestamp() * 1000)
            url = _with_query(url, f"timestamp={millis}&sign={dingtalk_sign(secret, millis)}")
        return PreparedPost(url, body, headers)
    if kind == "feishu":
        text = render_markdown(message, max_bytes=FEISHU_MAX_BYTES)
        card: dict[str, Any] = {
            "msg_type": "interactive",
            "card": {
                "config": {"wide_screen_mode": True},
                "header": {
                    "template": "blue",
                    "title": {"tag": "plain_text", "content": message.heading},
                },
                "elements": [{"tag": "markdown", "content": text}],
            },
        }
        if secret:
            card = {"timestamp": str(seconds), "sign": feishu_sign(secret, seconds), **card}
        return PreparedPost(url, _json(card), headers)
    if kind == "webhook":
        body = _json(_webhook_body(message, delivery_id, now))
        headers |= {
            "X-Hitwatch-Timestamp": str(seconds),
            "X-Hitwatch-Delivery": delivery_id,
            "X-Hitwatch-Event": message.event,
        }
        if secret:
            headers["X-Hitwatch-Signature"] = webhook_signature(secret, seconds, body)
        return PreparedPost(url, body, headers)
    raise ValueError(f"unknown channel kind {kind!r}")


def rule_names(rules: Sequence[tuple[int, str]]) -> str:
    separator = str(wording()["rule_separator"])
    return separator.join(name for _id, name in rules)
