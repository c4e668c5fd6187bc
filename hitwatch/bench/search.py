"""`hitwatch bench search`: indexing speed and query latency of the search backends.

Synthetic Chinese articles (~1,500 characters) are made from words of the real seed
pages in ../shared/seeds (word frequencies as found there; skipped when absent), with
one planted rare term. They are made as a stream (a million never sit in memory) and
indexed in batches into each backend, then each query class is asked repeatedly (rare
term, common term, two-term AND, quoted phrase, filtered by source and month, filtered +
faceted, and a query typed without spaces that finds nothing); latencies are of a whole
`search()` call as the search page makes it (20 hits, relevance order, one per story,
stories counted, off-topic excluded) plus highlighting the 20 titles and snippets,
`facets()` for the faceted class and the no-results hint (`query_hint`) for the last. One
article in REPRINT_EVERY is a reprint: it joins the story of the article before it.

Building a million articles into Elasticsearch takes most of an hour, so
`--keep-es-index NAME` builds into that index once, leaves it, and reuses it on the next
run when it holds the wanted number of articles.
"""

from __future__ import annotations

import itertools
import random
import re
import statistics
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from hitwatch.search.base import SearchDocument, SearchIndex, SearchRequest
from hitwatch.search.hints import query_hint
from hitwatch.search.prepare import prepare_query
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
ABSENT_WORD = "zzqx"  # in no synthetic article (they are Chinese words only)
RARE_EVERY = 1000
REPRINT_EVERY = 5
TOPICS = ("G", "A", "N", "D", "H")
REGIONS = ("", "北京市", "广东省深圳市", "浙江省杭州市", "", "上海市")
_CJK_WORD = re.compile(r"[\u4e00-\u9fff]{2,6}")


def vocabulary(seeds: Path = SEEDS) -> Counter[str]:
    """Chinese words of the seed pages (jieba's cut) with how often each occurs."""
    with warnings.catch_warnings():
        # jieba's regexes are old-style strings: Python warns while compiling them
        # (DeprecationWarning up to 3.11, SyntaxWarning since)
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", SyntaxWarning)
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
            story_id=f"bench-story-{n - 1 if n % REPRINT_EVERY == REPRINT_EVERY - 1 else n}",
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


def _quantiles(samples: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(samples, n=20, method="inclusive")
    return statistics.median(samples), cuts[18], max(samples)


def _latencies(index: SearchIndex, text: str, faceted: bool, repeats: int) -> dict[str, Any]:
    """p50/p95/max of one query class, in wall ms and in CPU ms of this process."""
    query = prepare_query(text)
    # As the search page asks: relevance order, 20 stories, off-topic pages left out.
    request = SearchRequest(query=query, limit=20, relevant_only=True, collapse=True)
    terms = [term.text for term in positive_terms(query)]
    first = index.search(request)  # warm caches once
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(repeats):
        began, began_cpu = time.perf_counter(), time.process_time()
        page = index.search(request)
        for hit in page.hits:
            highlight(hit.document.body, terms)
            highlight(hit.document.title, terms)
        if faceted:
            index.facets(request)
        if not page.total:  # the page then counts each condition and finds a suggestion
            query_hint(index, request, text)
        wall.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
    (p50, p95, slowest), (cpu50, cpu95, cpu_max) = _quantiles(wall), _quantiles(cpu)
    return {
        "text": text,
        "hits": first.total,
        "hits_exact": first.total_exact,
        "p50_ms": p50,
        "p95_ms": p95,
        "max_ms": slowest,
        "cpu_p50_ms": cpu50,
        "cpu_p95_ms": cpu95,
        "cpu_max_ms": cpu_max,
    }


@contextmanager
def _backends_from(
    settings: Settings, names: list[str], es_index: str | None
) -> Iterator[dict[str, SearchIndex]]:
    """A scratch FTS5 file, and an Elasticsearch index when one is configured: `es_index`,
    or else a scratch one."""
    from hitwatch.search.fts5 import Fts5Index

    with tempfile.TemporaryDirectory(prefix="hitwatch-bench-search-") as folder:
        backends: dict[str, SearchIndex] = {}
        if "fts5" in names:
            backends["fts5"] = Fts5Index(Path(folder) / "search.db")
        if "elasticsearch" in names and settings.elasticsearch_url:
            from hitwatch.search.elastic import ElasticsearchIndex

            hosts = [url.strip() for url in settings.elasticsearch_url.split(",") if url.strip()]
            alias = es_index or f"bench-search-{random.randrange(16**8):08x}"
            # Without the request cache: each timed run repeats the query, and a cached
            # answer would time the cache rather than the search.
            backends["elasticsearch"] = ElasticsearchIndex(
                hosts, alias, shards=settings.elasticsearch_shards, request_cache=False
            )
        yield backends


def _reusable(index: SearchIndex, size: int) -> bool:
    """Whether a kept index already holds the `size` bench articles."""
    index.ensure()
    index.refresh()
    return index.count(SearchRequest()) == size


def _build(
    backends: Mapping[str, SearchIndex],
    sizes: Mapping[str, int],
    words: Counter[str],
    echo: Callable[[str], None],
) -> dict[str, dict[str, Any]]:
    """Index one stream of synthetic articles into every backend (each up to its size).

    Seconds are of `index()` calls alone (wall and this process's CPU), not of making
    the articles; progress is printed every tenth of the largest size.
    """
    if not backends:
        return {}
    for index in backends.values():
        index.drop()
        index.ensure()
    largest = max(sizes.values())
    step = max(BATCH, largest // 10 // BATCH * BATCH)
    spent = {name: [0.0, 0.0] for name in backends}
    batch: list[SearchDocument] = []
    made = 0
    began = time.perf_counter()
    for document in iter_documents(words, largest):
        batch.append(document)
        made += 1
        if len(batch) < BATCH and made < largest:
            continue
        for name, index in backends.items():
            if made - len(batch) >= sizes[name]:
                continue
            wanted = batch[: sizes[name] - (made - len(batch))]
            wall, cpu = time.perf_counter(), time.process_time()
            index.index(wanted)
            spent[name][0] += time.perf_counter() - wall
            spent[name][1] += time.process_time() - cpu
        batch = []
        if made % step == 0 or made == largest:
            rates = ", ".join(
                f"{name} {min(made, sizes[name]) / max(spent[name][0], 1e-9):.0f} docs/s"
                for name in backends
            )
            echo(
                f"  {made}/{largest} documents made and indexed"
                f" ({time.perf_counter() - began:.0f} s; {rates})"
            )
    for index in backends.values():
        index.refresh()
    return {
        name: {
            "docs": sizes[name],
            "index_seconds": spent[name][0],
            "index_cpu_seconds": spent[name][1],
            "docs_per_second": sizes[name] / max(spent[name][0], 1e-9),
        }
        for name in backends
    }


def _queries(words: Counter[str]) -> dict[str, str]:
    common = [word for word, _ in words.most_common(40) if len(word) >= 2]
    other = common[min(25, len(common) - 1)]
    return {
        "rare": RARE_TERM,
        "common": common[0],
        "and": f"{common[0]} {other}",
        "phrase": f'"{common[0]}{common[1]}"',
        "filtered": f"{common[0]} source:source-3 month:2024-03",
        "faceted": f"{common[0]} source:source-3",  # plus facets() over the matches
        # typed together, a Latin word no article holds: nothing found, so the hint
        "nothing": f"{common[0]}{ABSENT_WORD}{other}",
    }


def run_search_bench(
    settings_or_backends: Settings | Mapping[str, SearchIndex],
    docs: int,
    *,
    es_docs: int | None = None,
    repeats: int = REPEATS,
    echo: Callable[[str], None] = print,
    keep_es_index: str | None = None,
) -> dict[str, Any]:
    """Index synthetic articles into each backend and time every query class.

    With `Settings`: a scratch FTS5 file, plus Elasticsearch when ELASTICSEARCH_URL is
    set (`keep_es_index`: that index, kept and reused). With backends by name: those are
    used, and dropped, so they must be scratch indexes. `docs` articles go to each
    backend, `es_docs` (when given) to Elasticsearch.
    Returns {"queries": ..., "<backend>": {...}} or {"skipped": reason}.
    """
    if not any(SEEDS.glob("*.txt")):
        reason = f"no seed pages in {SEEDS}: the word list comes from them"
        echo(f"search bench skipped: {reason}")
        return {"skipped": reason}
    words = vocabulary()
    words.pop(RARE_TERM, None)
    queries = _queries(words)
    results: dict[str, Any] = {"queries": queries}
    if isinstance(settings_or_backends, Settings):
        names = ["fts5", "elasticsearch"] if docs else ["elasticsearch"]
        kept = {"elasticsearch"} if keep_es_index else set()
        with _backends_from(settings_or_backends, names, keep_es_index) as backends:
            if "elasticsearch" not in backends:
                echo("elasticsearch: not measured (ELASTICSEARCH_URL is empty)")
            _run_all(backends, docs, es_docs, words, queries, repeats, results, echo, kept)
    else:
        given = settings_or_backends
        _run_all(given, docs, es_docs, words, queries, repeats, results, echo, set())
    _print_table(results, echo)
    return results


def _run_all(
    backends: Mapping[str, SearchIndex],
    docs: int,
    es_docs: int | None,
    words: Counter[str],
    queries: dict[str, str],
    repeats: int,
    results: dict[str, Any],
    echo: Callable[[str], None],
    kept: set[str],
) -> None:
    sizes = {
        name: es_docs if name == "elasticsearch" and es_docs is not None else docs
        for name in backends
    }
    sizes = {name: size for name, size in sizes.items() if size > 0}
    chosen = {name: backends[name] for name in sizes}
    if not chosen:
        return
    reused = {name for name in kept & set(chosen) if _reusable(chosen[name], sizes[name])}
    for name in sorted(reused):
        echo(f"{name}: reusing the {sizes[name]} articles kept from an earlier run")
    building = {name: index for name, index in chosen.items() if name not in reused}
    if building:
        echo(
            f"making documents from {len(words)} seed words and indexing them: "
            + ", ".join(f"{name} {sizes[name]}" for name in building)
        )
    try:
        built = _build(building, {name: sizes[name] for name in building}, words, echo)
        built.update({name: {"docs": sizes[name], "docs_per_second": None} for name in reused})
        for name, index in chosen.items():
            echo(f"{name}: querying ...")
            results[name] = built[name]
            for query_class, text in queries.items():
                faceted = query_class == "faceted"
                results[name][query_class] = _latencies(index, text, faceted, repeats)
    finally:
        for name, index in backends.items():
            if name not in kept:
                index.drop()
            index.close()


# FTS5 runs in this process, so its CPU time is what a query costs whatever else loads the
# machine; Elasticsearch works in its own process, so only wall time says what it costs.
_CLOCK = {"fts5": ("cpu_", "CPU ms"), "elasticsearch": ("", "wall ms")}


def _print_table(results: dict[str, Any], echo: Callable[[str], None]) -> None:
    queries: dict[str, str] = results["queries"]
    echo("\nqueries: " + ", ".join(f"{name} = {text!r}" for name, text in queries.items()))
    echo(
        "latency of search() for 20 hits in relevance order, one per story (off-topic"
        " excluded), plus highlighting them; 'faceted' adds facets(), 'nothing' the"
        " no-results hint. FTS5 in CPU ms of this process, Elasticsearch in wall ms;"
        " indexing docs/s in wall time."
    )
    echo(f"{'backend':<14}{'docs':>9}{'docs/s':>8}  {'class':<9}{'hits':>9}"
         f"{'p50':>8}{'p95':>8}{'max':>8}  clock")  # fmt: skip
    for backend, figures in results.items():
        if backend == "queries":
            continue
        prefix, clock = _CLOCK.get(backend, ("", "wall ms"))
        for n, name in enumerate(queries):
            q = figures[name]
            hits = f"{q['hits']}{'' if q['hits_exact'] else '+'}"
            rate = figures["docs_per_second"]
            rate_text = "reused" if rate is None else f"{rate:.0f}"
            head = f"{backend:<14}{figures['docs']:>9}{rate_text:>8}" if n == 0 else " " * 31
            echo(
                f"{head}  {name:<9}{hits:>9}{q[prefix + 'p50_ms']:>8.1f}"
                f"{q[prefix + 'p95_ms']:>8.1f}{q[prefix + 'max_ms']:>8.1f}  {clock}"
            )


@click.command("search")
@click.option(
    "--docs",
    default=20_000,
    show_default=True,
    help="Synthetic articles per backend (0: Elasticsearch only).",
)
@click.option(
    "--es-docs",
    type=int,
    default=None,
    help="Articles for Elasticsearch instead of --docs (e.g. 1000000).",
)
@click.option("--repeats", default=REPEATS, show_default=True, help="Timed runs per query class.")
@click.option(
    "--keep-es-index",
    metavar="NAME",
    default=None,
    help="Build the Elasticsearch articles into index NAME and keep it; a later run with"
    " the same size reuses it instead of rebuilding (to delete it: curl -X DELETE"
    " $ELASTICSEARCH_URL/NAME-v1).",
)
def bench_command(docs: int, es_docs: int | None, repeats: int, keep_es_index: str | None) -> None:
    """Indexing docs/s and p50/p95/max latency per query class, for SQLite FTS5 and (with
    ELASTICSEARCH_URL set) Elasticsearch."""
    run_search_bench(
        load_settings(),
        docs,
        es_docs=es_docs,
        repeats=repeats,
        echo=click.echo,
        keep_es_index=keep_es_index,
    )
