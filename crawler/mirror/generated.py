"""Generated articles for the soak: many pages in the shapes of the bundled sites.

Each generated article takes a bundled article of the same list as its model (so it has
that site's markup, encoding, attachments and 发文字号 form) and gets a URL of its own in
the site's pattern, a fresh date and a body of sentences drawn from the bundled texts, so
that nearly every article is a story of its own. A share are reprints of an earlier
article on another media site (they must join its story) and a few are broken pages
(they must end as failure records). Articles come in waves no larger than what one
crawl of each list sees: a list shows `per_list` articles at most, a paged list (国家卫生
健康委, two a page) what its definition's pages hold.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

from crawler.mirror.app import NHC_PAGE_SIZE
from crawler.mirror.content import MirrorArticle, MirrorFile, load_articles

__all__ = ["generate_waves"]

# The nhc definition reads three pages of each list per crawl.
_PAGED_CAPACITY = {"nhc": NHC_PAGE_SIZE * 3}
_REPRINT_SHARE = 0.08
# One page in this many is broken, the first early, so that a small run has one.
_BROKEN_EVERY = 200
_MEDIA = frozenset({"bjnews", "chinanews", "netease", "thepaper", "cn_healthcare", "wenming"})
_LAST_RUN = re.compile(r"[0-9A-Za-z]+(?=[^0-9A-Za-z]*$)")


def _sentences(articles: tuple[MirrorArticle, ...]) -> list[str]:
    pool = {
        sentence + "。"
        for article in articles
        for paragraph in article.paragraphs
        for sentence in paragraph.split("。")
        if len(sentence) >= 12
    }
    return sorted(pool)


def _url(model: str, serial: int) -> str:
    """`model`'s URL with the site's article id replaced by one of the same kind."""
    parts = urlsplit(model)
    folder, _, name = parts.path.rpartition("/")
    stem, dot, extension = name.partition(".")
    run = _LAST_RUN.search(stem)
    if run is None:
        raise ValueError(f"no article id in {model}")
    old = run.group()
    if old.isdigit():
        new = f"9{serial:0{max(len(old) - 1, 6)}d}"
    elif old == old.lower():
        new = f"{serial:0{len(old)}x}"
    else:
        new = f"{serial:0{len(old)}X}"
    path = f"{folder}/{stem[: run.start()]}{new}{stem[run.end() :]}{dot}{extension}"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def _files(model: MirrorArticle, url: str) -> tuple[MirrorFile, ...]:
    folder, _, name = urlsplit(url).path.rpartition("/")
    stem = name.split(".")[0]
    return tuple(
        MirrorFile(f"{folder}/files/{stem}_{n}.{f.kind}", f.kind, f.title)
        for n, f in enumerate(model.files, start=1)
    )


def generate_waves(
    items: int, *, now: datetime, seed: int = 22, per_list: int = 40
) -> list[list[MirrorArticle]]:
    """`items` articles in waves; `now` dates the newest (Beijing time, naive)."""
    bundled = load_articles()
    models: dict[tuple[str, str], list[MirrorArticle]] = defaultdict(list)
    for article in bundled:
        if article.source != "bench":
            models[(article.source, article.list)].append(article)
    lists = sorted(models)
    capacity = {key: _PAGED_CAPACITY.get(key[0], per_list) for key in lists}
    sentences = _sentences(bundled)
    rng = random.Random(seed)
    waves: list[list[MirrorArticle]] = []
    media_done: list[MirrorArticle] = []
    serial = 0
    while serial < items:
        wave: list[MirrorArticle] = []
        room = dict(capacity)
        while serial < items and any(room.values()):
            key = rng.choice([k for k in lists if room[k]])
            room[key] -= 1
            serial += 1
            model = rng.choice(models[key])
            url = _url(model.url, serial)
            when = now - timedelta(minutes=items - serial)
            date = f"{when:%Y-%m-%d %H:%M}"[: len(model.date)]
            reprinted = [a for a in media_done if a.source != key[0]]
            if key[0] in _MEDIA and reprinted and rng.random() < _REPRINT_SHARE:
                original = rng.choice(reprinted)
                title, paragraphs = original.title, original.paragraphs
            else:
                title = f"{model.title}（{serial}）"
                paragraphs = tuple(
                    "".join(rng.sample(sentences, rng.randint(2, 4)))
                    for _ in range(rng.randint(3, 6))
                )
            article = replace(
                model,
                url=url,
                title=title,
                date=date,
                paragraphs=paragraphs,
                doc_number=re.sub(r"\d+(?=号)", str(serial), model.doc_number),
                files=_files(model, url),
                broken=serial % _BROKEN_EVERY == 7,
            )
            wave.append(article)
            if key[0] in _MEDIA and not article.broken:
                media_done.append(article)
        waves.append(wave)
    return waves
