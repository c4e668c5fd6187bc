"""The process metrics every hitwatch service counts, in the Prometheus format.

Counters and histograms are module-level objects of `prometheus_client`: creating them
registers nothing anywhere else and opens no port. Every process on one host that has
`PROMETHEUS_MULTIPROC_DIR` in its environment (the client reads it when it is imported,
so it must be set before the process starts, as `hitwatch run` and the compose file do)
writes its values to files there; `registry()` adds them all up for `/metrics`, so
Celery's forked pool processes are counted as well as the web app. Values read at scrape
time (queue depths, source health, open failures) are `hitwatch.monitoring`'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, Metric
from prometheus_client import multiprocess as _multiprocess
from prometheus_client.registry import Collector

__all__ = [
    "ALERT_LATENCY",
    "MAILS_FAILED",
    "MAILS_SENT",
    "METRIC_NAMES",
    "TASKS",
    "TASK_DURATION",
    "TASK_FAILURES",
    "registry",
]

# Task outcomes per pipeline stage (`done`, `retry`, `failed`, `requeued`): items per
# stage are the `done` ones.
TASKS = Counter(
    "hitwatch_tasks",
    "Task outcomes by task, pipeline stage and outcome.",
    ["task", "stage", "outcome"],
)
TASK_FAILURES = Counter(
    "hitwatch_task_failures",
    "Failure records written by a stage, by the kind of error (its exception class).",
    ["stage", "kind"],
)
# From a few ms (a repeated delivery) to minutes (a large page's attachments).
TASK_DURATION = Histogram(
    "hitwatch_task_duration_seconds",
    "Time one task took, whatever its outcome.",
    ["stage"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
MAILS_SENT = Counter("hitwatch_mails_sent", "Messages the SMTP server accepted.")
MAILS_FAILED = Counter("hitwatch_mails_failed", "Messages the SMTP server refused or never got.")
ALERT_LATENCY = Histogram(
    "hitwatch_alert_latency_seconds",
    "From the story's version being stored by the indexer to its alert handed to SMTP.",
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
)

# Every series name hitwatch exports (a histogram as its base name), for the checks of
# the dashboard and alert rules in `ops/`; `hitwatch.monitoring` adds its own.
METRIC_NAMES: frozenset[str] = frozenset(
    {
        "hitwatch_tasks_total",
        "hitwatch_task_failures_total",
        "hitwatch_task_duration_seconds",
        "hitwatch_mails_sent_total",
        "hitwatch_mails_failed_total",
        "hitwatch_alert_latency_seconds",
    }
)


class _ProcessValues(Collector):
    """This process's own values (the client's default registry), for a fresh registry."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def registry(multiprocess_dir: Path | None, extra: Iterable[Collector] = ()) -> CollectorRegistry:
    """What `/metrics` serves: every process's values from `multiprocess_dir` (or, without
    one, this process's own), and the `extra` collectors read at scrape time."""
    collected = CollectorRegistry(auto_describe=False)
    if multiprocess_dir is None:
        collected.register(_ProcessValues())
    else:
        _multiprocess.MultiProcessCollector(collected, path=str(multiprocess_dir))  # type: ignore[no-untyped-call]
    for collector in extra:
        collected.register(collector)
    return collected
