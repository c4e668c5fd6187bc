"""Feeds in the three dialects the WeChat bridges (and many sites) publish.

Atom (wewe-rss `.atom`) and RSS 2.0 (RSSHub, we-mp-rss, wewe-rss `.rss`) are read by
feedparser; the HTML they carry is kept as it came (feedparser's sanitiser would drop
WeChat's lazy `data-src` images), since the classifier takes text from it and every page
shows that text escaped. JSON Feed (wewe-rss `.json`,
we-mp-rss) is plain JSON, validated against the JSON Feed 1.x fields we read. Pure:
bytes in, entries out.
"""

from __future__ import annotations

import calendar
import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import feedparser
import lxml.html
from pydantic import BaseModel, ConfigDict, ValidationError

from hitwatch.clock import SHANGHAI
from hitwatch.sources.wechat import expired_notice

__all__ = ["FULLTEXT_MIN_CHARS", "Feed", "FeedEntry", "FeedError", "parse_feed"]

# An entry's summary this long (in characters of text) is the article itself: RSSHub's
# WeChat routes put the whole article in <description>; a teaser is a sentence or two.
FULLTEXT_MIN_CHARS = 200


class FeedError(ValueError):
    """The answer is not a feed in any dialect we read."""


@dataclass(frozen=True)
class FeedEntry:
    url: str
    title: str
    published_at: datetime | None
    author: str = ""
    content: str = ""  # the article's HTML when the feed carries the full text, else ""

    @property
    def date(self) -> str:
        """The date as a list hint: ISO 8601 in Beijing time, the sources' own zone."""
        return self.published_at.astimezone(SHANGHAI).isoformat() if self.published_at else ""


@dataclass
class Feed:
    dialect: str  # feedparser's version (atom10, rss20 ...) or "json"
    title: str
    entries: list[FeedEntry] = field(default_factory=list)
    expired: str = ""  # the words by which the bridge says its login lapsed

    @property
    def newest(self) -> datetime | None:
        dates = [entry.published_at for entry in self.entries if entry.published_at]
        return max(dates) if dates else None


class _Author(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str = ""


class _JsonItem(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str | int = ""
    url: str = ""
    external_url: str = ""
    title: str = ""
    content_html: str = ""
    content_text: str = ""
    summary: str = ""
    date_published: str = ""
    date_modified: str = ""
    author: _Author | None = None  # JSON Feed 1.0
    authors: list[_Author] = []  # JSON Feed 1.1


class _JsonFeed(BaseModel):
    model_config = ConfigDict(extra="ignore")
    version: str
    title: str = ""
    description: str = ""
    author: _Author | None = None
    authors: list[_Author] = []
    items: list[_JsonItem]


def _text_length(fragment: str) -> int:
    if not fragment.strip():
        return 0
    try:
        return len("".join(lxml.html.fragment_fromstring(fragment, create_parent="div").itertext()))
    except (lxml.etree.ParserError, ValueError):
        return len(fragment)


def _full_text(content: str, summary: str) -> str:
    if content.strip():
        return content
    return summary if _text_length(summary) >= FULLTEXT_MIN_CHARS else ""


def _iso(text: str) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _json_feed(text: str) -> Feed:
    try:
        data = _JsonFeed.model_validate(json.loads(text))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise FeedError(f"not a JSON Feed: {exc}") from exc
    if "jsonfeed.org" not in data.version:
        raise FeedError(f"not a JSON Feed: version is {data.version!r}")
    feed_author = (data.authors[0].name if data.authors else "") or (
        data.author.name if data.author else ""
    )
    entries = []
    for item in data.items:
        author = (item.authors[0].name if item.authors else "") or (
            item.author.name if item.author else ""
        )
        url = item.url or item.external_url or (str(item.id) if "://" in str(item.id) else "")
        entries.append(
            FeedEntry(
                url=url.strip(),
                title=" ".join(item.title.split()),
                published_at=_iso(item.date_published or item.date_modified),
                author=(author or feed_author).strip(),
                content=_full_text(item.content_html, item.summary),
            )
        )
    return Feed("json", data.title, entries, _expired(data.title, data.description, entries))


def _struct_time(value: Any) -> datetime | None:
    if not isinstance(value, time.struct_time):
        return None
    return datetime.fromtimestamp(calendar.timegm(value), UTC)


def _entry_content(entry: Any) -> str:
    for block in entry.get("content") or []:
        if "html" in str(block.get("type", "")) and str(block.get("value", "")).strip():
            return str(block["value"])
    return ""


def _expired(title: str, description: str, entries: list[FeedEntry]) -> str:
    return expired_notice([title, description, *(entry.title for entry in entries[:3])])


_DECLARED_ENCODING = re.compile(r"""^(\s*<\?xml[^>]*?)\s+encoding=["'][^"']*["']""")


def parse_feed(data: bytes | str) -> Feed:
    """The entries of a feed in any of the three dialects; FeedError when it is none.

    Bytes are decoded as the feed declares; text (already decoded by the crawler) is read
    as it is, whatever encoding its XML declaration names.
    """
    text = data.decode("utf-8-sig", "replace") if isinstance(data, bytes) else data
    if text.lstrip("\ufeff \t\r\n").startswith("{"):
        return _json_feed(text.lstrip("\ufeff"))
    raw = data if isinstance(data, bytes) else _DECLARED_ENCODING.sub(r"\1", data).encode("utf-8")
    parsed = feedparser.parse(raw, sanitize_html=False)
    version = str(parsed.get("version", ""))
    if not version and not parsed.entries:
        reason = parsed.get("bozo_exception") or "no feed element"
        raise FeedError(f"not an RSS or Atom feed: {reason}")
    channel = parsed.feed
    # Atom lets entries inherit the feed's author (wewe-rss names the account there).
    feed_author = str(channel.get("author", "")).strip()
    entries = []
    for entry in parsed.entries:
        url = entry.get("link") or (entry.get("id") if "://" in entry.get("id", "") else "")
        entries.append(
            FeedEntry(
                url=str(url).strip(),
                title=re.sub(r"\s+", " ", str(entry.get("title", ""))).strip(),
                published_at=_struct_time(entry.get("published_parsed"))
                or _struct_time(entry.get("updated_parsed")),
                author=str(entry.get("author", "")).strip() or feed_author,
                content=_full_text(_entry_content(entry), str(entry.get("summary", ""))),
            )
        )
    title = str(channel.get("title", ""))
    description = str(channel.get("subtitle", "") or channel.get("description", ""))
    return Feed(version or "unknown", title, entries, _expired(title, description, entries))
