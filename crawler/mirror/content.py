"""The mirror's made-up articles, read from `articles.yaml`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from hitwatch.clock import SHANGHAI

__all__ = ["MirrorArticle", "MirrorFile", "load_articles"]

ARTICLES = Path(__file__).with_name("articles.yaml")


@dataclass(frozen=True)
class MirrorFile:
    """A document attached to a mirror article; the mirror generates it on request."""

    path: str
    kind: str
    title: str


@dataclass(frozen=True)
class MirrorArticle:
    source: str
    list: str
    url: str
    title: str
    date: str
    paragraphs: tuple[str, ...]
    origin: str = ""
    author: str = ""
    doc_number: str = ""
    issuer: str = ""
    index_number: str = ""
    lying_charset: str = ""
    wechat: str = ""  # 公众号 articles: "full" (text in the feed), "link" or "removed"
    files: tuple[MirrorFile, ...] = ()
    broken: bool = False  # served as bytes that are no page at all (the soak's bad input)

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def day(self) -> str:
        return self.date[:10]

    @property
    def iso_date(self) -> str:
        """The date (Beijing time, as written) in ISO 8601 with its offset."""
        when = datetime.fromisoformat(self.date if len(self.date) > 10 else f"{self.date} 00:00")
        return when.replace(tzinfo=SHANGHAI).isoformat()

    @property
    def timestamp(self) -> int:
        """The date as the Unix time WeChat's pages carry (`var ct`)."""
        return int(datetime.fromisoformat(self.iso_date).timestamp())

    @property
    def number(self) -> str:
        """The trailing digits/hex of the URL: the site's own article id."""
        stem = self.path.rstrip("/").rsplit("/", 1)[-1].split(".")[0]
        return stem.rsplit("_", 1)[-1].rsplit("-", 1)[-1]


@lru_cache(maxsize=2)
def load_articles(path: Path = ARTICLES) -> tuple[MirrorArticle, ...]:
    data: dict[str, Any] = yaml.safe_load(path.read_text("utf-8"))
    texts: dict[str, list[str]] = data["texts"]
    articles = []
    for entry in data["articles"]:
        fields: dict[str, Any] = {
            k: str(v) for k, v in entry.items() if k not in ("text", "files", "expect")
        }
        folder = urlsplit(entry["url"]).path.rsplit("/", 1)[0]
        stem = urlsplit(entry["url"]).path.rsplit("/", 1)[-1].split(".")[0]
        files = tuple(
            MirrorFile(f"{folder}/files/{stem}_{n}.{f['kind']}", f["kind"], f["title"])
            for n, f in enumerate(entry.get("files", ()), start=1)
        )
        articles.append(
            MirrorArticle(paragraphs=tuple(texts[entry["text"]]), files=files, **fields)
        )
    return tuple(sorted(articles, key=lambda a: a.date, reverse=True))


# The demo's own news (`hitwatch mirror publish`): added while the product runs, so a
# newcomer can watch an alert fire. One YAML list in the data dir, read on change.
NEWS_SOURCE = {"source": "bjnews", "list": "health", "origin": "新京报"}


def load_news(path: Path) -> tuple[MirrorArticle, ...]:
    if not path.exists():
        return ()
    entries: list[dict[str, Any]] = yaml.safe_load(path.read_text("utf-8")) or []
    return tuple(
        MirrorArticle(
            source=str(entry["source"]),
            list=str(entry["list"]),
            url=str(entry["url"]),
            title=str(entry["title"]),
            date=str(entry["date"]),
            origin=str(entry.get("origin", "")),
            paragraphs=tuple(entry["paragraphs"]),
        )
        for entry in entries
    )


def publish_news(path: Path, title: str, paragraphs: list[str], when: datetime) -> MirrorArticle:
    """Add an article to the demo's news file; the mirror lists it on its next request."""
    entries: list[dict[str, Any]] = (
        (yaml.safe_load(path.read_text("utf-8")) or []) if path.exists() else []
    )
    number = f"{int(when.timestamp() * 1000)}{len(entries):03d}"
    entry = {
        **NEWS_SOURCE,
        "url": f"https://www.bjnews.com.cn/detail/{number}.html",
        "title": title,
        "date": f"{when:%Y-%m-%d %H:%M}",
        "paragraphs": paragraphs,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(yaml.safe_dump([*entries, entry], allow_unicode=True), "utf-8")
    partial.replace(path)  # the mirror never reads half a file
    return load_news(path)[-1]
