"""Metrics read when Prometheus scrapes: queue depths, open failures, source health.

These are facts about shared state (Redis, the store of record), not about one process,
so they are read once per scrape by whoever serves `/metrics` instead of being counted
by the workers. A part that does not answer is reported as `hitwatch_up{part=...} 0`
and its series are left out, so one scrape never fails as a whole.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import redis
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from hitwatch.metrics import registry
from hitwatch.settings import Settings
from hitwatch.store import Database
from hitwatch.store.models import Failure, Source
from hitwatch.tasks import QUEUES

__all__ = [
    "SCRAPED_NAMES",
    "StateCollector",
    "metrics_registry",
    "serve_metrics",
    "unacked_by_queue",
]

# Every series this collector can export, for the checks of the files in `ops/`.
SCRAPED_NAMES: frozenset[str] = frozenset(
    {
        "hitwatch_up",
        "hitwatch_queue_depth",
        "hitwatch_queue_unacked",
        "hitwatch_failures_open",
        "hitwatch_source_broken",
        "hitwatch_source_last_success_timestamp_seconds",
        "hitwatch_source_last_run_items",
        "hitwatch_source_last_run_errors",
    }
)

# kombu's Redis transport keeps messages taken by a worker but not yet acknowledged in
# this hash, each as JSON [message, exchange, routing key].
UNACKED_KEY = "unacked"


def unacked_by_queue(values: list[bytes]) -> Counter[str]:
    """Unacknowledged messages per queue (the routing key is the queue: direct routes)."""
    counts: Counter[str] = Counter()
    for value in values:
        try:
            routing_key = json.loads(value)[2]
        except (ValueError, IndexError, TypeError):
            routing_key = ""
        counts[routing_key if routing_key in QUEUES else "other"] += 1
    return counts


log = logging.getLogger(__name__)


class StateCollector(Collector):
    """A `prometheus_client` collector over the broker's Redis and the store of record."""

    def __init__(self, redis_url: str, database: Database) -> None:
        self.redis_url = redis_url
        self.database = database

    def collect(self) -> Iterator[Any]:
        up = GaugeMetricFamily(
            "hitwatch_up", "Whether a shared part answered (1) or not.", labels=["part"]
        )
        queues = self._queues()
        up.add_metric(["redis"], 1 if queues else 0)
        store = self._store()
        up.add_metric(["store"], 1 if store else 0)
        yield up
        if queues:
            yield from queues
        if store:
            yield from store

    def _queues(self) -> list[GaugeMetricFamily]:
        client = redis.Redis.from_url(self.redis_url, socket_connect_timeout=2, socket_timeout=5)
        try:
            pipe = client.pipeline(transaction=False)
            for queue in QUEUES:
                pipe.llen(queue)
            pipe.hvals(UNACKED_KEY)
            *lengths, unacked = pipe.execute()
        except redis.exceptions.RedisError as error:
            log.warning("metrics: Redis did not answer: %s", error)
            return []
        finally:
            client.close()
        depth = GaugeMetricFamily(
            "hitwatch_queue_depth", "Messages waiting in a stage's queue.", labels=["queue"]
        )
        for queue, length in zip(QUEUES, lengths, strict=True):
            depth.add_metric([queue], int(length))
        taken = GaugeMetricFamily(
            "hitwatch_queue_unacked",
            "Messages a worker has taken from a queue but not acknowledged yet.",
            labels=["queue"],
        )
        counts = unacked_by_queue(unacked)
        for queue in (*QUEUES, *sorted(set(counts) - set(QUEUES))):
            taken.add_metric([queue], counts.get(queue, 0))
        return [depth, taken]

    def _store(self) -> list[GaugeMetricFamily]:
        try:
            with self.database.session() as session:
                failures = session.execute(
                    select(Failure.task_name, func.count())
                    .where(Failure.resolved.is_(False))
                    .group_by(Failure.task_name)
                ).all()
                sources = session.scalars(select(Source).order_by(Source.id)).all()
                rows = [
                    (s.id, s.state, s.last_success_at, s.last_items, s.last_errors)
                    for s in sources
                    if s.enabled
                ]
        except Exception as error:  # any database error: reported as the part being down
            log.warning("metrics: the store did not answer: %s", error)
            return []
        open_failures = GaugeMetricFamily(
            "hitwatch_failures_open",
            "Failure records not replayed successfully yet, by task.",
            labels=["task"],
        )
        for task, count in failures:
            open_failures.add_metric([task], int(count))
        broken = GaugeMetricFamily(
            "hitwatch_source_broken",
            "1 when a source's last runs found no items or lost fields (see hitwatch sources).",
            labels=["source"],
        )
        success = GaugeMetricFamily(
            "hitwatch_source_last_success_timestamp_seconds",
            "When a source's crawl last delivered items (Unix time); absent if never.",
            labels=["source"],
        )
        items = GaugeMetricFamily(
            "hitwatch_source_last_run_items",
            "Items a source's last crawl run handed over.",
            labels=["source"],
        )
        errors = GaugeMetricFamily(
            "hitwatch_source_last_run_errors",
            "Fetch errors of a source's last crawl run.",
            labels=["source"],
        )
        for source_id, state, last_success, last_items, last_errors in rows:
            broken.add_metric([source_id], 1 if state == "broken" else 0)
            if last_success is not None:
                success.add_metric([source_id], last_success.timestamp())
            items.add_metric([source_id], last_items)
            errors.add_metric([source_id], last_errors)
        return [open_failures, broken, success, items, errors]


def metrics_registry(settings: Settings, database: Database) -> CollectorRegistry:
    """Everything `/metrics` serves: the host's process metrics and the shared state."""
    return registry(settings.metrics_dir, [StateCollector(settings.resolved_redis_url, database)])


def serve_metrics(settings: Settings, database: Database) -> threading.Thread | None:
    """Serve `/metrics` without login on METRICS_ADDRESS in a background thread.

    The first process of a host to bind serves that host's metrics (all of them, through
    PROMETHEUS_MULTIPROC_DIR); the others find the port taken, say so and go on."""
    bind = settings.metrics_bind
    if bind is None:
        return None
    host, port = bind
    try:
        _server, thread = start_http_server(
            port, addr=host, registry=metrics_registry(settings, database)
        )
    except OSError as error:
        log.info(
            "metrics: %s:%d not served here (%s); another process serves it", host, port, error
        )
        return None
    log.info("metrics: http://%s:%d/metrics (no login: keep this address private)", host, port)
    return thread
