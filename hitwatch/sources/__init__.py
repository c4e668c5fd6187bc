"""Source definitions: one YAML file per source, editable without code changes.

The crawler reads a definition's list rules to find article pages; the classifier reads
its detail rules to extract them and its display name for the digest's 来源. A WeChat
公众号 is a definition too: a bridge's feed as its list and a `wechat` block naming the
account (`hitwatch.sources.wechat`, which also bundles a list of health-IT accounts).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field

from hitwatch.settings import Settings

__all__ = [
    "DetailRules",
    "ListEndpoint",
    "Politeness",
    "SourceDefinition",
    "WechatAccount",
    "configured_sources",
    "find_source",
    "load_sources",
]

DEFINITIONS = Path(__file__).parent


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Politeness(_Strict):
    concurrency: int = Field(1, description="simultaneous requests to the source's hosts")
    delay_seconds: float = Field(2.0, description="starting delay between requests (adaptive)")
    obey_robots: bool = Field(True, description="respect robots.txt")


class ListEndpoint(_Strict):
    """Where article links are listed and how to read them."""

    url: str
    type: Literal["html", "json", "post_xml", "js_json", "feed", "sitemap"] = "html"
    method: Literal["GET", "POST"] = "GET"
    form: dict[str, str] = Field(default_factory=dict, description="POST form fields")
    params: dict[str, Any] = Field(default_factory=dict, description="query parameters")
    items: str = Field("", description="CSS selector of one list item (html/xml types)")
    link: str = Field("a", description="CSS selector of the item's link, relative to the item")
    title: str = Field("", description="CSS selector or JSON key of the item's title")
    date: str = Field("", description="CSS selector or JSON key of the item's date")
    url_key: str = Field("", description="JSON key holding the article URL (json types)")
    records: str = Field("", description="JSON path (dotted) or XML tag of the record list")
    link_pattern: str = Field("", description="regex an article URL must match")
    next_page: str = Field("", description="URL template with {page} for page 2, 3, ...")
    max_pages: int = Field(3, description="pages read per run at most")
    label: str = Field("", description="column name as the site shows it (政策法规 ...)")
    account: str = Field(
        "",
        description="feed types: only entries whose author is this account (a bridge's"
        " feed of all its accounts)",
    )


class DetailRules(_Strict):
    """Site-specific extraction of an article page (CSS selectors, first match wins)."""

    title: list[str] = Field(default_factory=list)
    body: list[str] = Field(default_factory=list)
    published_at: list[str] = Field(
        default_factory=list, description="CSS selectors or meta[name=...] of the date"
    )
    origin: list[str] = Field(default_factory=list, description="where the page names 来源")
    author: list[str] = Field(default_factory=list)
    policy_table: list[str] = Field(default_factory=list, description="信息公开 metadata table")
    drop: list[str] = Field(default_factory=list, description="furniture removed from the body")
    encoding: str = Field("", description="force an encoding when the site is known to lie")


class WechatAccount(_Strict):
    """A WeChat 公众号 read through a feed bridge (wewe-rss, we-mp-rss, RSSHub)."""

    account: str = Field(description="the account's name as WeChat shows it (#js_name)")
    account_id: str = Field(
        "", description="its id where known: __biz, MP_WXS_<n> or the 微信号 (informative)"
    )
    stale_after_days: int = Field(
        7,
        ge=1,
        description="the source is broken when its feed brings nothing new for this many days",
    )


class SourceDefinition(_Strict):
    id: str
    name: str = Field(description="display name as the bulletin writes it (新京报, 中新网 ...)")
    kind: Literal["government", "media", "aggregator"]
    homepage: str
    domains: list[str] = Field(description="hosts whose pages this definition extracts")
    interval_minutes: int = 60
    enabled: bool = True
    politeness: Politeness = Field(default_factory=lambda: Politeness())
    lists: list[ListEndpoint] = Field(default_factory=list)
    detail: DetailRules = Field(default_factory=lambda: DetailRules())
    anti_bot: Literal["", "cookie_412"] = ""
    demo: bool = Field(False, description="has a page set in the bundled mirror site")
    live: bool = Field(
        True, description="exists outside the demo (false: a made-up source of the mirror only)"
    )
    wechat: WechatAccount | None = Field(
        None, description="a 公众号 read through a feed bridge: its lists are the bridge's feeds"
    )

    def match_length(self, url: str) -> int:
        """Length of the longest of our domains that covers `url`'s host; 0 if none does."""
        host = (urlsplit(url).hostname or "").lower()
        return max((len(d) for d in self.domains if host == d or host.endswith("." + d)), default=0)


@lru_cache(maxsize=8)
def load_sources(
    folder: Path = DEFINITIONS, wechat_bridge_url: str = "", wechat_stale_days: int = 7
) -> tuple[SourceDefinition, ...]:
    """Every `*.yaml` definition in `folder`, sorted by id; a bad file names itself.

    With `wechat_bridge_url` (WECHAT_BRIDGE_URL: a bridge's feed of all its accounts) the
    bundled health-IT 公众号 are added, each reading its own entries from that feed.
    """
    sources = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            sources.append(SourceDefinition.model_validate(yaml.safe_load(path.read_text("utf-8"))))
        except Exception as exc:
            raise ValueError(f"source definition {path.name} is invalid: {exc}") from exc
    if wechat_bridge_url:
        from hitwatch.sources.wechat import bundled_sources

        own = {source.id for source in sources}
        bundled = bundled_sources(wechat_bridge_url, wechat_stale_days)
        sources.extend(source for source in bundled if source.id not in own)
    return tuple(sorted(sources, key=lambda source: source.id))


def configured_sources(settings: Settings) -> tuple[SourceDefinition, ...]:
    """The shipped definitions plus, with WECHAT_BRIDGE_URL, the bundled 公众号; in live
    mode without the demo's made-up sources."""
    sources = load_sources(DEFINITIONS, settings.wechat_bridge_url, settings.wechat_stale_days)
    if settings.crawl_mode == "live":
        return tuple(source for source in sources if source.live)
    return sources


def find_source(
    url: str, sources: tuple[SourceDefinition, ...] | None = None
) -> SourceDefinition | None:
    """The definition whose domain covers `url` most narrowly (www.nhc.gov.cn beats gov.cn)."""
    best, best_length = None, 0
    for source in sources if sources is not None else load_sources():
        length = source.match_length(url)
        if length > best_length:
            best, best_length = source, length
    return best
