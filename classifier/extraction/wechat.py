"""The site rule of WeChat 公众号 articles (mp.weixin.qq.com).

The page prints its title in `#activity-name` (and og:title), its account in `#js_name`
and its body in `#js_content`, whose images load lazily from `data-src`. The publish time
is not in the markup (JavaScript fills `#publish_time`): it is in script variables
(`var ct = "1700000000"`, `createTime = '2024-07-18 10:00'`), and so is the article's
long link (`var msg_link`, or `biz`, `mid`, `idx`, `sn`), whichever form the feed gave.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

from lxml.html import HtmlElement

from classifier.extraction.blocks import element_text
from classifier.extraction.dates import BEIJING
from classifier.urls import WECHAT_ARTICLE_KEYS, canonical_url
from hitwatch.errors import ArticleRemovedError
from hitwatch.sources import DetailRules, SourceDefinition
from hitwatch.sources.wechat import notices, removal_notice

__all__ = [
    "WECHAT_RULES",
    "check_not_removed",
    "content_images",
    "page_link",
    "script_time",
    "wechat_outlet",
]

WECHAT_RULES = DetailRules(
    title=["#activity-name", "h1.rich_media_title", "h2.rich_media_title"],
    body=["#js_content", "div.rich_media_content"],
    author=["#js_author_name"],
    drop=[
        "script",
        "style",
        "#js_pc_qr_code",
        ".qr_code_pc",
        "#js_tags",
        ".rich_media_tool",
        "#js_sponsor_ad_area",
    ],
)

_EPOCH_PATTERNS = (
    re.compile(r"""\bvar\s+ct\s*=\s*["'](\d{9,11})["']"""),
    re.compile(r"""\b(?:ct|create_time|publish_time)["']?\s*[:=]\s*["']?(\d{9,11})\b"""),
)
_TEXT_TIME = re.compile(
    r"""\bcreateTime\s*=\s*["'](\d{4})-(\d{1,2})-(\d{1,2})(?:\s+(\d{1,2}):(\d{2}))?["']"""
)
_MSG_LINK = re.compile(r"""\bvar\s+msg_link\s*=\s*["']([^"']+)["']""")
_VARIABLE = r"""\bvar\s+{name}\s*=\s*["']([^"']*)["']"""
_NICKNAME = re.compile(r"""\bvar\s+nickname\s*=\s*(?:htmlDecode\()?["']([^"']+)["']""")


def check_not_removed(text: str, url: str) -> None:
    """ArticleRemovedError when the page says its article was removed or blocked."""
    notice = removal_notice(text)
    if notice:
        raise ArticleRemovedError(
            f"{url or 'the page'} says {notice}: its publisher removed the article or WeChat"
            " blocked it; there is nothing to extract"
        )


def script_time(text: str) -> datetime | None:
    """The publish time from the page's script variables (Beijing time)."""
    for pattern in _EPOCH_PATTERNS:
        match = pattern.search(text)
        if match:
            return datetime.fromtimestamp(int(match[1]), UTC).astimezone(BEIJING)
    match = _TEXT_TIME.search(text)
    if match:
        year, month, day, hour, minute = (int(part or 0) for part in match.groups())
        try:
            return datetime(year, month, day, hour, minute, tzinfo=BEIJING)
        except ValueError:
            return None
    return None


def page_link(text: str) -> str:
    """The article's long link as the page names it, canonical; "" when it names none."""
    match = _MSG_LINK.search(text)
    if match:
        link = canonical_url(html.unescape(match[1]))
        if "__biz=" in link:
            return link
    values = {}
    for key, name in zip(WECHAT_ARTICLE_KEYS, ("biz", "mid", "idx", "sn"), strict=True):
        found = re.search(_VARIABLE.format(name=name), text)
        if not found or not found[1]:
            return ""
        values[key] = html.unescape(found[1])
    query = "&".join(f"{key}={values[key]}" for key in WECHAT_ARTICLE_KEYS)
    return canonical_url(f"https://mp.weixin.qq.com/s?{query}")


def wechat_outlet(root: HtmlElement, text: str, source: SourceDefinition | None) -> str:
    """The account: the 公众号 source's name, else the one the page prints."""
    if source is not None and source.wechat is not None:
        return source.name
    for element in root.cssselect("#js_name, .profile_nickname"):
        name = element_text(element)
        if name:
            return name
    match = _NICKNAME.search(text)
    return html.unescape(match[1]).strip() if match else notices().generic_name


def content_images(root: HtmlElement) -> list[str]:
    """The body's images as WeChat loads them (`data-src`, else `src`), in page order."""
    found: list[str] = []
    for image in root.cssselect("#js_content img"):
        src = (image.get("data-src") or image.get("src") or "").strip()
        if src.startswith(("http://", "https://")) and src not in found:
            found.append(src)
    return found
