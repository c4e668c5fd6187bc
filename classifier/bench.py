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
    NUM_PERM,
    Fingerprint,
    PendingDocument,
    StoryRegistry,
    bucket_ids,
    fingerprint,
)
from classifier.evaluation import DEFAULT_LABELS, corpus_root, load_labelled_items
from classifier.terms import nfkc

__all__ = ["bench_classify", "format_bench"]


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


def _redis_cpu_seconds(client: redis.Redis) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def _per_second(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else math.inf


def bench_classify(
    n_docs: int = 2000,
    stored_stories: list[int] | None = None,
    *,
    redis_url: str,
    corpus: Path | None = None,
    on_row: Callable[[dict[str, Any]], None] | None = None,
    private_server: bool = False,
) -> dict[str, Any]:
    """Docs/s per core (CPU time) and wall for classification and dedupe, lookup latency.

    The documents go through what the worker does (`ClassifyPipeline.judge`): each text
    normalised once, classified, fingerprinted and assigned to a story. CPU seconds are
    this process's (`time.process_time`); the Redis server's CPU is read from its INFO
    and reported apart (exact only when nobody else uses that server).
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
        "dedupe": [],
    }
    # Loading and clearing a million stories can stall a busy server past the client's
    # default 5 s timeout; the bench waits.
    client = redis.Redis.from_url(redis_url, socket_timeout=600)
    for count in stored_stories or [100_000]:
        registry = StoryRegistry(client, namespace=f"bench-{uuid.uuid4().hex[:8]}")
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
                "redis_mb_per_100k_stories": round((after - before) / count * 100_000 / 2**20, 1),
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
    ]
    return "\n".join(lines)
