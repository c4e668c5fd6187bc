"""Classification and dedupe speed per core with many stories stored
(`hitwatch bench classify`): offline tooling, not loaded by the workers."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import redis

from classifier.classify import Classifier
from classifier.dedupe import (
    DEFAULT_WINDOW_DAYS,
    NUM_PERM,
    Fingerprint,
    PendingDocument,
    StoryRegistry,
    bucket_ids,
    fingerprint,
)
from classifier.evaluation import DEFAULT_LABELS, corpus_root, load_labelled_items
from classifier.terms import nfkc

__all__ = ["bench_classify", "format_bench", "steady_state_gb"]


def _bench_texts(n_docs: int, shared: Path | None) -> list[tuple[str, str]]:
    items, _ = load_labelled_items(DEFAULT_LABELS, shared)
    pool = [(i.title, i.body) for i in items if len(i.body) >= 300] or [
        (i.title, i.body * 10) for i in items
    ]
    # Distinct bodies, ~2,000 characters each, so no lookup is an exact-hash shortcut.
    return [
        (title, f"{index}。" + body[:2000])
        for index, (title, body) in ((i, pool[i % len(pool)]) for i in range(n_docs))
    ]


def _preload(registry: StoryRegistry, count: int, *, batch: int = 1000) -> None:
    """Store `count` synthetic stories through the registry's own script, pipelined."""
    rng = np.random.default_rng(1)
    for start in range(0, count, batch):
        signatures = rng.integers(0, 2**32, (min(batch, count - start), NUM_PERM), dtype=np.uint32)
        pending = []
        for offset, signature in enumerate(signatures):
            raw = signature.astype("<u4").tobytes()
            fp = Fingerprint(
                content_hash=f"{start + offset:032x}",
                shingles=2000,
                signature=raw,
                buckets=bucket_ids(raw),
                edition="",
                doc_number="",
            )
            pending.append(PendingDocument(doc_id=f"stored-{start + offset}", title="", fp=fp))
        registry.assign_many(pending)


class _Clock:
    """The registry's clock, moved past the window to expire the stored stories."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _redis_cpu_seconds(client: redis.Redis) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def _per_second(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else math.inf


def _mb_per_100k(memory: int, count: int) -> float:
    return round(memory / count * 100_000 / 2**20, 1)


# The steady state the bench projects: a year of this many new items a day.
STEADY_DAYS = 365
STEADY_ITEMS_PER_DAY = 50_000


def steady_state_gb(row: dict[str, Any], window_days: float) -> dict[str, Any]:
    """Redis memory after a year of `STEADY_ITEMS_PER_DAY` items, from a measured row.

    Every item is counted as a story of its own (an upper bound: copies cost less). The
    window holds `window_days` of stories at the in-window cost; every item of the year
    keeps its exact-copy entries. Without the window every item stays at the in-window
    cost.
    """
    in_window = row["redis_mb_per_100k_stories"] * 2**20 / 100_000  # bytes per story
    kept = row["kept_mb_per_100k_stories"] * 2**20 / 100_000
    year = STEADY_DAYS * STEADY_ITEMS_PER_DAY
    window = round(min(STEADY_DAYS, window_days) * STEADY_ITEMS_PER_DAY)
    return {
        "window_stories": window,
        "window_gb": round(window * (in_window - kept) / 2**30, 1),
        "exact_gb": round(year * kept / 2**30, 1),
        "total_gb": round((window * (in_window - kept) + year * kept) / 2**30, 1),
        "without_window_gb": round(year * in_window / 2**30, 1),
    }


def bench_classify(
    n_docs: int = 2000,
    stored_stories: list[int] | None = None,
    *,
    redis_url: str,
    corpus: Path | None = None,
    on_row: Callable[[dict[str, Any]], None] | None = None,
    private_server: bool = False,
    window_days: float = DEFAULT_WINDOW_DAYS,
) -> dict[str, Any]:
    """Docs/s per core (CPU time) and wall for classification and dedupe, lookup latency,
    Redis memory per story in the near-duplicate window and kept after it.

    The documents go through what the worker does (`ClassifyPipeline.judge`): each text
    normalised once, classified, fingerprinted and assigned to a story. CPU seconds are
    this process's (`time.process_time`); the Redis server's CPU is read from its INFO
    and reported apart (exact only when nobody else uses that server). After the speed
    run the registry's clock moves past the window and a sweep expires every story: the
    memory left is what stays for exact copies.
    """
    shared = corpus_root(corpus)
    texts = _bench_texts(n_docs, shared)
    clf = Classifier.load()
    normalized: list[tuple[str, str]] = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for title, body in texts:
        title, body = nfkc(title), nfkc(body)
        clf.classify(title, body)
        normalized.append((title, body))
    classify_cpu = time.process_time() - cpu0
    classify_wall = time.perf_counter() - wall0
    results: dict[str, Any] = {
        "docs": n_docs,
        "mean_chars": round(sum(len(b) for _, b in texts) / len(texts)),
        "classify_cpu_docs_per_s": _per_second(n_docs, classify_cpu),
        "classify_wall_docs_per_s": _per_second(n_docs, classify_wall),
        "window_days": window_days,
        "dedupe": [],
    }
    # Loading and clearing a million stories can stall a busy server past the client's
    # default 5 s timeout; the bench waits.
    client = redis.Redis.from_url(redis_url, socket_timeout=600)
    for count in stored_stories or [100_000]:
        clock = _Clock(time.time())
        registry = StoryRegistry(
            client,
            namespace=f"bench-{uuid.uuid4().hex[:8]}",
            window_days=window_days,
            clock=clock,
        )
        before = int(client.info("memory")["used_memory"])
        load_start = time.perf_counter()
        _preload(registry, count)
        load_seconds = time.perf_counter() - load_start
        after = int(client.info("memory")["used_memory"])
        latencies = []
        redis_cpu0 = _redis_cpu_seconds(client)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for index, (title, body) in enumerate(normalized):
            fp = fingerprint(body)
            t0 = time.perf_counter()
            registry.assign_fingerprint(doc_id=f"bench-{index}", title=title, fp=fp)
            latencies.append(time.perf_counter() - t0)
        dedupe_cpu = time.process_time() - cpu0
        dedupe_wall = time.perf_counter() - wall0
        redis_cpu = _redis_cpu_seconds(client) - redis_cpu0
        clock.now += window_days * 86400 + 1
        sweep_start = time.perf_counter()
        swept = registry.sweep()
        sweep_seconds = time.perf_counter() - sweep_start
        kept = int(client.info("memory")["used_memory"])
        latencies.sort()
        results["dedupe"].append(
            {
                "stored_stories": count,
                "preload_seconds": round(load_seconds, 1),
                "dedupe_cpu_docs_per_s": _per_second(n_docs, dedupe_cpu),
                "redis_cpu_ms_per_doc": round(1000 * redis_cpu / n_docs, 3),
                "both_cpu_docs_per_s": _per_second(n_docs, classify_cpu + dedupe_cpu),
                "both_with_redis_cpu_docs_per_s": _per_second(
                    n_docs, classify_cpu + dedupe_cpu + redis_cpu
                ),
                "both_wall_docs_per_s": _per_second(n_docs, classify_wall + dedupe_wall),
                "lookup_ms_mean": round(1000 * sum(latencies) / len(latencies), 3),
                "lookup_ms_p99": round(1000 * latencies[int(0.99 * (len(latencies) - 1))], 3),
                "redis_mb_per_100k_stories": _mb_per_100k(after - before, count),
                "kept_mb_per_100k_stories": _mb_per_100k(kept - before, count),
                "swept_stories": swept,
                "sweep_seconds": round(sweep_seconds, 2),
            }
        )
        if on_row is not None:
            on_row(results["dedupe"][-1])
        if private_server:  # ours alone: emptied at once rather than key by key
            client.flushdb()
        else:
            registry.clear()
    client.close()
    return results


def format_bench(results: dict[str, Any]) -> str:
    lines = [
        f"documents: {results['docs']} (mean {results['mean_chars']} characters), one process",
        f"classify: {results['classify_cpu_docs_per_s']} docs/s per core (CPU time),"
        f" {results['classify_wall_docs_per_s']} docs/s wall",
        "",
        f"{'stories':>10}{'dedupe/s':>10}{'both/s':>9}{'+redis/s':>10}{'wall/s':>9}"
        f"{'redis ms':>10}{'lookup ms':>11}{'p99 ms':>8}{'MB/100k':>9}{'load s':>8}",
    ]
    for row in results["dedupe"]:
        lines.append(
            f"{row['stored_stories']:>10}{row['dedupe_cpu_docs_per_s']:>10}"
            f"{row['both_cpu_docs_per_s']:>9}{row['both_with_redis_cpu_docs_per_s']:>10}"
            f"{row['both_wall_docs_per_s']:>9}{row['redis_cpu_ms_per_doc']:>10}"
            f"{row['lookup_ms_mean']:>11}{row['lookup_ms_p99']:>8}"
            f"{row['redis_mb_per_100k_stories']:>9}{row['preload_seconds']:>8}"
        )
    lines += [
        "dedupe/s, both/s: docs per second per core, this process's CPU time (target: both/s"
        " >= 1000);",
        "+redis/s: the same with the Redis server's CPU time added; wall/s: elapsed time;",
        "redis ms: Redis server CPU per document; lookup: the one Redis script call of an"
        " assignment, wall (target mean <= 1 ms); load s: storing the stories beforehand.",
        "",
        f"Redis memory, near-duplicate window {results['window_days']:g} days"
        " (DEDUPE_WINDOW_DAYS):",
        f"{'stories':>10}{'MB/100k in window':>19}{'MB/100k kept after':>20}"
        f"{'swept':>9}{'sweep s':>9}{'ms/story':>10}",
    ]
    for row in results["dedupe"]:
        per_story = 1000 * row["sweep_seconds"] / max(1, row["swept_stories"])
        lines.append(
            f"{row['stored_stories']:>10}{row['redis_mb_per_100k_stories']:>19}"
            f"{row['kept_mb_per_100k_stories']:>20}{row['swept_stories']:>9}"
            f"{row['sweep_seconds']:>9}{per_story:>10.3f}"
        )
    largest = max(results["dedupe"], key=lambda row: row["stored_stories"])
    steady = steady_state_gb(largest, results["window_days"])
    lines += [
        "kept after: the stories' exact-copy entries (story, content hash, document), left"
        " once the window has passed and a sweep has run;",
        "ms/story: wall time of the sweep per story leaving the index (mostly Redis CPU, paid"
        " once per story, by the assignments a few at a time in steady state).",
        "",
        f"Steady state after {STEADY_DAYS} days of {STEADY_ITEMS_PER_DAY:,} items a day, each"
        f" a new story (per-story costs measured with {largest['stored_stories']:,} stored):",
        f"  near-duplicate window ({steady['window_stories']:,} stories): {steady['window_gb']} GB",
        f"  exact-copy entries ({STEADY_DAYS * STEADY_ITEMS_PER_DAY:,} items):"
        f" {steady['exact_gb']} GB (grows with the archive)",
        f"  total: {steady['total_gb']} GB; without the window: {steady['without_window_gb']} GB",
    ]
    if largest["stored_stories"] < steady["window_stories"]:
        lines.append(
            "  (measured below the window's size: a cost per story falls as the shard hashes"
            f" fill, so this is an upper bound; --stories {steady['window_stories']} measures"
            " it there)"
        )
    return "\n".join(lines)
