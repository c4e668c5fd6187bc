"""Pure parsing of list pages: one function per list type, text in, article links out.

A list type is what the source definition's `ListEndpoint.type` names: `html` (CSS
items, or every link matching `link_pattern` when no item selector is given), `json`
(records at a dotted path), `post_xml` (Hanweb `<record><![CDATA[html]]>` answers),
`js_json` (the JSON whose `data.html` a page's script would have inserted), `feed`
(RSS 2.0, Atom or JSON Feed, read by `crawler.feeds`; an entry may carry the full
text) and `sitemap`.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

from parsel import Selector

from crawler.feeds import parse_feed
from hitwatch.sources import ListEndpoint

__all__ = [
    "BuildstaticCall",
    "ListPage",
    "ListedLink",
    "buildstatic_call",
    "parse_list",
]


@dataclass(frozen=True)
class ListedLink:
    url: str
    title: str = ""
    date: str = ""
    author: str = ""  # feeds: the entry's author (a 公众号's name)
    content: str = ""  # feeds: the article's HTML when the feed carries the full text


@dataclass
class ListPage:
    links: list[ListedLink] = field(default_factory=list)
    items_seen: int = 0
    missing: list[str] = field(default_factory=list)
    newest: datetime | None = None  # feeds: the newest entry's date (source health)
    expired: str = ""  # feeds: the bridge says its login lapsed, in these words

    def problems(self) -> list[str]:
        """Why this page looks broken, empty if it looks fine."""
        out = []
        if self.items_seen and not self.links:
            out.append(f"{self.items_seen} list items but no link matched")
        if self.missing:
            out.append("items without " + ", ".join(sorted(set(self.missing))))
        return out


@dataclass(frozen=True)
class BuildstaticCall:
    url: str
    params: dict[str, str]


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _clean_date(text: str) -> str:
    # Lists often wrap dates in brackets: （2024-07-18）, [07-18].
    return _clean(text).strip("（）()[]【】 ")


def _css_text(node: Selector, css: str) -> str:
    if not css:
        return ""
    if "::" not in css:
        css += " ::text"
    return _clean(" ".join(node.css(css).getall()))


class _Collector:
    def __init__(self, endpoint: ListEndpoint, page_url: str) -> None:
        self.endpoint = endpoint
        self.page_url = page_url
        self.pattern = re.compile(endpoint.link_pattern) if endpoint.link_pattern else None
        self.page = ListPage()
        self._urls: set[str] = set()

    def add(self, href: str, title: str, date: str, author: str = "", content: str = "") -> None:
        self.page.items_seen += 1
        href = (href or "").strip()
        if not href or href.startswith(("javascript:", "#", "mailto:")):
            return
        url = urljoin(self.page_url, href)
        if self.pattern and not self.pattern.search(url):
            return
        if url in self._urls:
            return
        self._urls.add(url)
        if not title:
            self.page.missing.append("title")
        date = _clean_date(date)
        if self.endpoint.date and not date:
            self.page.missing.append("date")
        self.page.links.append(ListedLink(url, title, date, author, content))


def _html_items(collector: _Collector, root: Selector) -> None:
    endpoint = collector.endpoint
    if not endpoint.items:
        for anchor in root.css("a[href]"):
            collector.add(
                anchor.attrib["href"], _clean(" ".join(anchor.css("::text").getall())), ""
            )
        collector.page.items_seen = len(collector.page.links)
        return
    for item in root.css(endpoint.items):
        anchors = item.css(endpoint.link or "a")
        if not anchors:
            continue
        link = anchors[0]
        title = _css_text(item, endpoint.title) if endpoint.title else ""
        title = (
            title or link.attrib.get("title", "") or _clean(" ".join(link.css("::text").getall()))
        )
        collector.add(link.attrib.get("href", ""), title, _css_text(item, endpoint.date))


def _dotted(data: Any, path: str) -> Any:
    for key in [p for p in path.split(".") if p]:
        data = data[key] if isinstance(data, dict) else data[int(key)]
    return data


def _json_records(collector: _Collector, text: str) -> None:
    endpoint = collector.endpoint
    records = _dotted(json.loads(text), endpoint.records)
    if not isinstance(records, list):
        raise ValueError(f"records path {endpoint.records!r} is not a list in the JSON answer")
    for record in records:
        if isinstance(record, dict):
            collector.add(
                str(record.get(endpoint.url_key or "url", "")),
                _clean(str(record.get(endpoint.title or "title", ""))),
                _clean(str(record.get(endpoint.date, ""))) if endpoint.date else "",
            )


def _xml_records(collector: _Collector, text: str) -> None:
    tag = collector.endpoint.records or "record"
    for fragment in re.findall(rf"<{tag}>\s*<!\[CDATA\[(.*?)\]\]>\s*</{tag}>", text, re.S):
        record: Selector = Selector(text=fragment)
        if collector.endpoint.items:
            _html_items(collector, record)
        else:
            _record_item(collector, record)


def _record_item(collector: _Collector, record: Selector) -> None:
    endpoint = collector.endpoint
    anchors = record.css(endpoint.link or "a")
    if not anchors:
        collector.page.items_seen += 1
        return
    link = anchors[0]
    title = _css_text(record, endpoint.title) if endpoint.title else ""
    title = title or _clean(" ".join(link.css("::text").getall()))
    collector.add(link.attrib.get("href", ""), title, _css_text(record, endpoint.date))


def _feed(collector: _Collector, text: str) -> None:
    feed = parse_feed(text)
    account = collector.endpoint.account
    # A bridge's feed of all its accounts names each entry's account as its author; a
    # feed of one account may name it only in its own title.
    entries = [
        entry
        for entry in feed.entries
        if not account or entry.author == account or (not entry.author and account in feed.title)
    ]
    for entry in entries:
        collector.add(entry.url, entry.title, entry.date, entry.author, entry.content)
    dates = [entry.published_at for entry in entries if entry.published_at]
    collector.page.newest = max(dates) if dates else None
    collector.page.expired = feed.expired


def _sitemap(collector: _Collector, text: str) -> None:
    root = Selector(text=text, type="xml")
    root.remove_namespaces()
    for url in root.xpath("//url"):
        collector.add(
            _clean(url.xpath("string(loc)").get("")),
            _clean(url.xpath("string(news/title)").get("")),
            _clean(
                url.xpath("string(lastmod)").get("")
                or url.xpath("string(news/publication_date)").get("")
            ),
        )


def parse_list(endpoint: ListEndpoint, text: str, page_url: str) -> ListPage:
    """Article links on one list page (`page_url`: its real URL, for relative links).

    For `js_json`, `text` is the JSON answer of the call `buildstatic_call` found.
    """
    collector = _Collector(endpoint, page_url)
    kind = endpoint.type
    if kind == "html":
        _html_items(collector, Selector(text=text))
    elif kind == "json":
        _json_records(collector, text)
    elif kind == "js_json":
        html = _dotted(json.loads(text), endpoint.records or "data.html")
        _html_items(collector, Selector(text=str(html)))
    elif kind == "post_xml":
        _xml_records(collector, text)
    elif kind == "feed":
        _feed(collector, text)
    elif kind == "sitemap":
        _sitemap(collector, text)
    if kind in {"feed", "sitemap"} or (kind == "html" and not endpoint.items):
        # Generic types have no per-item title selector: an empty title is not a breakage.
        collector.page.missing = [m for m in collector.page.missing if m != "title"]
    return collector.page


def buildstatic_call(html: str, page_url: str) -> BuildstaticCall | None:
    """The JSON call a MIIT-style page's `script[parseType=buildstatic]` would make."""
    script = Selector(text=html).css("script[parseType=buildstatic], script[parsetype=buildstatic]")
    if not script:
        return None
    attrs = script[0].attrib
    url, query = attrs.get("url", ""), attrs.get("querydata", "")
    if not url:
        return None
    # querydata is a JavaScript object literal with single quotes; it is also a Python literal.
    data = ast.literal_eval(query) if query else {}
    if not isinstance(data, dict):
        raise ValueError(f"querydata of {page_url} is not an object")
    return BuildstaticCall(urljoin(page_url, url), {str(k): str(v) for k, v in data.items()})
