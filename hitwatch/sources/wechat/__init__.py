"""WeChat 公众号 through feed bridges: what the crawler and the classifier share.

hitwatch does not log in to WeChat. Bridges that people already run (wewe-rss,
we-mp-rss, RSSHub's WeChat routes) turn accounts into Atom, RSS 2.0 or JSON feeds; a
公众号 source reads such a feed. This module knows WeChat's article host, the words its
pages use for a removed article and the words bridges use for a lapsed login (data:
`notices.yaml`), builds the article page hitwatch extracts when a feed carries the full
text, and turns the bundled list of health-IT accounts (`accounts.yaml`) into sources.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import yaml

from hitwatch.sources import ListEndpoint, Politeness, SourceDefinition, WechatAccount

__all__ = [
    "WECHAT_HOST",
    "BundledAccount",
    "Notices",
    "bundled_accounts",
    "bundled_sources",
    "expired_notice",
    "feed_page",
    "is_wechat_url",
    "notices",
    "removal_notice",
]

WECHAT_HOST = "mp.weixin.qq.com"
_DATA = Path(__file__).parent
# The article container of a WeChat page: a page that has it is an article, whatever it
# quotes (an article may well quote the words of a removal notice).
_ARTICLE_MARK = 'id="js_content"'


@dataclass(frozen=True)
class Notices:
    removed: tuple[str, ...]
    authorisation_expired: tuple[str, ...]
    generic_name: str


@dataclass(frozen=True)
class BundledAccount:
    id: str
    name: str
    kind: Literal["government", "media"]


@lru_cache(maxsize=1)
def notices() -> Notices:
    data = yaml.safe_load((_DATA / "notices.yaml").read_text("utf-8"))
    return Notices(
        removed=tuple(data["removed"]),
        authorisation_expired=tuple(data["authorisation_expired"]),
        generic_name=str(data["generic_name"]),
    )


def is_wechat_url(url: str) -> bool:
    # The host appears as written in a URL that has it: most URLs are spared the parse.
    if WECHAT_HOST not in url.lower():
        return False
    return (urlsplit(url.strip()).hostname or "").lower() == WECHAT_HOST


def removal_notice(page: str) -> str:
    """The notice a WeChat page shows instead of a removed or blocked article; "" for an
    article page (one that has the article container)."""
    if _ARTICLE_MARK in page:
        return ""
    for phrase in notices().removed:
        if phrase in page:
            return phrase
    return ""


def expired_notice(texts: Iterable[str]) -> str:
    """The words in `texts` (a feed's title, description, entry titles) by which a bridge
    says its login lapsed; "" when none says so."""
    phrases = [(phrase, phrase.lower()) for phrase in notices().authorisation_expired]
    for text in texts:
        lowered = text.lower()
        for phrase, folded in phrases:
            if folded in lowered:
                return phrase
    return ""


def feed_page(
    url: str, title: str, account: str, published_at: datetime | None, content_html: str
) -> bytes:
    """A WeChat-style article page holding an article whose full text came in a feed.

    The classifier then extracts it with the same WeChat rule as a fetched page, so one
    path reads both. The content is the bridge's HTML, kept as it came; title and account
    are escaped.
    """
    stamp = str(int(published_at.timestamp())) if published_at is not None else ""
    page = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8">
<meta property="og:title" content="{html.escape(title)}">
<meta property="og:url" content="{html.escape(url)}">
<title>{html.escape(title)}</title></head>
<body><div id="js_article" class="rich_media">
<h1 class="rich_media_title" id="activity-name">{html.escape(title)}</h1>
<div id="meta_content" class="rich_media_meta_list">
<span class="rich_media_meta rich_media_meta_nickname" id="profileBt">
<a id="js_name">{html.escape(account)}</a></span>
<em id="publish_time" class="rich_media_meta rich_media_meta_text"></em>
</div>
<div class="rich_media_content" id="js_content">
{content_html}
</div></div>
<script>var ct = "{stamp}";</script>
</body></html>
"""
    return page.encode("utf-8")


@lru_cache(maxsize=1)
def bundled_accounts() -> tuple[BundledAccount, ...]:
    data = yaml.safe_load((_DATA / "accounts.yaml").read_text("utf-8"))
    return tuple(
        BundledAccount(id=str(row["id"]), name=str(row["name"]), kind=row["kind"])
        for row in data["accounts"]
    )


def bundled_sources(bridge_feed_url: str, stale_after_days: int) -> tuple[SourceDefinition, ...]:
    """One source per bundled account, reading its entries from the bridge's feed of all
    accounts (entries matched by the account's name)."""
    homepage = f"https://{WECHAT_HOST}/"
    return tuple(
        SourceDefinition(
            id=f"mp_{account.id}",
            name=account.name,
            kind=account.kind,
            homepage=homepage,
            domains=[],
            interval_minutes=60,
            politeness=Politeness(concurrency=1, delay_seconds=2.0, obey_robots=True),
            lists=[
                ListEndpoint(url=bridge_feed_url, type="feed", account=account.name, label="公众号")
            ],
            wechat=WechatAccount(account=account.name, stale_after_days=stale_after_days),
        )
        for account in bundled_accounts()
    )
