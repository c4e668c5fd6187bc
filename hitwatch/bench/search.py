"""`hitwatch bench search`: indexing speed and query latency of the search backends.

Synthetic Chinese articles (~1,500 characters) are made from words of the real seed
pages in ../shared/seeds (word frequencies as found there; skipped when absent), with
one planted rare term. Each backend indexes them in batches, then answers each query
class repeatedly (rare term, common term, two-term AND, quoted phrase, filtered by source
and month); latencies are of a whole `search()` call (20 hits, relevance order, total
counted) plus highlighting the 20 snippets.
"""

from __future__ import annotations

import itertools
import random
import re
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from hitwatch.search.base import SearchDocument, SearchIndex, SearchRequest
from hitwatch.search.query import parse_query
from hitwatch.search.snippets import highlight
from hitwatch.search.terms import positive_terms
from hitwatch.settings import Settings, load_settings

__all__ = ["SEEDS", "bench_command", "run_search_bench", "synthetic_documents", "vocabulary"]

SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"
BATCH = 500
REPEATS = 40
BODY_CHARS = 1500
# Planted in one document in RARE_EVERY; made of characters that are unlikely neighbours.
RARE_TERM = "鲲鹏量子病案"
RARE_EVERY = 1000
TOPICS = ("G", "A", "N", "D", "H")
REGIONS = ("", "北京市", "广东省深圳市", "浙江省杭州市", "", "上海市")
_CJK_WORD = re.compile(r"[\u4e00-\u9fff]{2,6}")


def vocabulary(seeds: Path = SEEDS) -> Counter[str]:
    """Chinese words of the seed pages (jieba's cut) with how often each occurs."""
    import jieba  # imported here: loading its dictionary takes a second

    jieba.setLogLevel(60)  # silence its "Building prefix dict" chatter
    words: Counter[str] = Counter()
    for page in sorted(seeds.glob("*.txt")):
        for word in jieba.cut(page.read_text("utf-8", errors="replace")):
            if _CJK_WORD.fullmatch(word):
                words[word] += 1
    return words


def iter_documents(words: Counter[str], count: int, seed: int = 7) -> Iterator[SearchDocument]:
    """`count` articles drawn from the word frequencies; every RARE_EVERY-th has RARE_TERM.

    A generator, so a million articles never sit in memory at once. Each body is one draw
    of enough words, cut into sentences of 4 to 12 words.
    """
    rng = random.Random(seed)
    population = list(words)
    # Cumulative once: `choices(weights=...)` would re-add 5,000 weights on every call.
    cumulative = list(itertools.accumulate(words.values()))
    mean_length = sum(len(word) * n for word, n in words.items()) / max(cumulative[-1], 1)
    per_body = int(BODY_CHARS / mean_length * 1.1) + 12
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for n in range(count):
        title = "".join(rng.choices(population, cum_weights=cumulative, k=8))
        drawn = rng.choices(population, cum_weights=cumulative, k=per_body)
        parts: list[str] = []
        length = at = 0
        while length < BODY_CHARS and at < len(drawn):
            size = rng.randint(4, 12)
            sentence = "".join(drawn[at : at + size]) + rng.choice("，，，。；")
            at += size
            parts.append(sentence)
            length += len(sentence)
        if n % RARE_EVERY == 0:
            parts.insert(rng.randrange(len(parts)), RARE_TERM + "。")
        yield SearchDocument(
            doc_id=f"bench-{n}",
            story_id=f"bench-story-{n}",
            url=f"https://bench.invalid/{n}",
            title=title,
            body="".join(parts),
            source_id=f"source-{n % 12}",
            source_name=f"来源{n % 12}",
            published_at=start + timedelta(minutes=37 * n * 100_000 // max(count, 1)),
            topics=(TOPICS[n % len(TOPICS)],),
            region=REGIONS[n % len(REGIONS)],
        )


def synthetic_documents(words: Counter[str], count: int, seed: int = 7) -> list[SearchDocument]:
    """`iter_documents` as a list."""
    return list(iter_documents(words, count, seed))


def _latencies(index: SearchIndex, text: str, faceted: bool) -> tuple[float, float, float, int]:
    query = parse_query(text)
    request = SearchRequest(query=query, limit=20)
    terms = [term.text for term in positive_terms(query)]
    total = index.search(request).total  # warm caches once
    samples = []
    for _ in range(REPEATS):
        began = time.perf_counter()
        for hit in index.search(request).hits:
            highlight(hit.document.body, terms)
        if faceted:
            index.facets(request)
        samples.append((time.perf_counter() - began) * 1000)
    cuts = statistics.quantiles(samples, n=20)
    return statistics.median(samples), cuts[18], max(samples), total


@contextmanager
def _backends_from(settings: Settings) -> Iterator[dict[str, SearchIndex]]:
    """A scratch FTS5 file, and a scratch Elasticsearch index when one is configured."""
    from hitwatch.search.fts5 import Fts5Index

    with tempfile.TemporaryDirectory(prefix="hitwatch-bench-search-") as folder:
        backends: dict[str, SearchIndex] = {"fts5": Fts5Index(Path(folder) / "search.db")}
        if settings.elasticsearch_url:
            from hitwatch.search.elastic import ElasticsearchIndex

            hosts = [url.strip() for url in settings.elasticsearch_url.split(",") if url.strip()]
            alias = f"bench-search-{random.randrange(16**8):08x}"
            backends["elasticsearch"] = ElasticsearchIndex(hosts, alias)
        yield backends


def _measure(
    index: SearchIndex, documents: list[SearchDocument], queries: dict[str, str]
) -> dict[str, Any]:
    index.drop()
    index.ensure()
    began = time.perf_counter()
    for first in range(0, len(documents), BATCH):
        index.index(documents[first : first + BATCH])
    index.refresh()
    seconds = time.perf_counter() - began
    result: dict[str, Any] = {
        "docs": len(documents),
        "index_seconds": seconds,
        "docs_per_second": len(documents) / seconds,
    }
    for name, text in queries.items():
        p50, p95, slowest, hits = _latencies(index, text, faceted=name == "faceted")
        result[name] = {
            "text": text,
            "hits": hits,
            "p50_ms": p50,
            "p95_ms": p95,
            "max_ms": slowest,
        }
    return result


def run_search_bench(
    settings_or_backends: Settings | Mapping[str, SearchIndex],
    docs: int,
    *,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Index `docs` synthetic articles into each backend and time three queries.

    With `Settings`: a scratch FTS5 file, plus Elasticsearch when ELASTICSEARCH_URL is
    set. With backends by name: those are used, and dropped, so they must be scratch
    indexes. Returns {"queries": ..., "<backend>": {...}} or {"skipped": reason}.
    """
    if not any(SEEDS.glob("*.txt")):
        reason = f"no seed pages in {SEEDS}: the word list comes from them"
        echo(f"search bench skipped: {reason}")
        return {"skipped": reason}
    words = vocabulary()
    words.pop(RARE_TERM, None)
    common = [word for word, _ in words.most_common(40) if len(word) >= 2]
    other = common[min(25, len(common) - 1)]
    queries = {
        "rare": RARE_TERM,
        "common": common[0],
        "and": f"{common[0]} {other}",
        "phrase": f'"{common[0]}{common[1]}"',
        "filtered": f"{common[0]} source:source-3 month:2024-03",
        "faceted": f"{common[0]} source:source-3",  # plus facets() over the matches
    }
    echo(f"making {docs} documents from {len(words)} seed words ...")
    documents = synthetic_documents(words, docs)
    results: dict[str, Any] = {"queries": queries}
    if isinstance(settings_or_backends, Settings):
        with _backends_from(settings_or_backends) as backends:
            _run_all(backends, documents, queries, results, echo)
    else:
        _run_all(settings_or_backends, documents, queries, results, echo)
    _print_table(results, echo)
    return results


def _run_all(
    backends: Mapping[str, SearchIndex],
    documents: list[SearchDocument],
    queries: dict[str, str],
    results: dict[str, Any],
    echo: Callable[[str], None],
) -> None:
    for name, index in backends.items():
        echo(f"{name}: indexing and querying ...")
        try:
            results[name] = _measure(index, documents, queries)
        finally:
            index.drop()
            index.close()


def _print_table(results: dict[str, Any], echo: Callable[[str], None]) -> None:
    queries: dict[str, str] = results["queries"]
    echo("\nqueries: " + ", ".join(f"{name} = {text!r}" for name, text in queries.items()))
    header = f"{'backend':<14}{'docs':>7}{'docs/s':>9}"
    for name in queries:
        header += f"{name + ' hits':>16}{'p50 ms':>8}{'p95 ms':>8}{'max ms':>8}"
    echo(header)
    for backend, figures in results.items():
        if backend == "queries":
            continue
        line = f"{backend:<14}{figures['docs']:>7}{figures['docs_per_second']:>9.0f}"
        for name in queries:
            q = figures[name]
            line += f"{q['hits']:>16}{q['p50_ms']:>8.1f}{q['p95_ms']:>8.1f}{q['max_ms']:>8.1f}"
        echo(line)


@click.command("search")
@click.option("--docs", default=20_000, show_default=True, help="Synthetic articles to index.")
def bench_command(docs: int) -> None:
    """Indexing docs/s and p50/p95 latency per query class, for SQLite FTS5 and (with
    ELASTICSEARCH_URL set) Elasticsearch."""
    run_search_bench(load_settings(), docs, echo=click.echo)
