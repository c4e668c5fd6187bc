"""Celery wiring shared by every worker: routes, delivery guarantees, retries, failures.

Delivery is at-least-once (`acks_late`, prefetch 1, tasks of a killed worker delivered
again), so every task handler must be idempotent, keyed by a stable id.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, TypeVar

import elastic_transport
import kombu.exceptions
import kombu.serialization
import orjson
import redis
import sqlalchemy.exc
from celery import Celery, Task
from celery.exceptions import Reject

from hitwatch.errors import TransientError
from hitwatch.messages import CrawledItem, _Message
from hitwatch.metrics import TASK_DURATION, TASK_FAILURES, TASKS
from hitwatch.settings import Settings
from hitwatch.store.failures import FailureLog, item_key
from hitwatch.tasks import QUEUES, TASK_QUEUES, queue_for
from hitwatch.transport import RedisTransport

__all__ = [
    "RETRYABLE",
    "RedisTransport",
    "close_earlier_failures",
    "create_celery",
    "is_redelivered",
    "log_outcome",
    "queue_patiently",
    "record_failure",
    "register_task",
    "retry_delay",
    "send_message",
    "send_messages",
]

log = logging.getLogger(__name__)
task_log = logging.getLogger("hitwatch.tasks.outcome")

# Errors that may go away by themselves: a server restarting, a timeout, a lock.
RETRYABLE: tuple[type[BaseException], ...] = (
    TransientError,
    ConnectionError,
    TimeoutError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    elastic_transport.ConnectionError,
    elastic_transport.ConnectionTimeout,
    kombu.exceptions.OperationalError,  # the broker itself, e.g. publishing the next step
)

Handler = Callable[[dict[str, Any]], None]
T = TypeVar("T")

# How long a worker tries to queue a retry while the broker is away before it records
# the failure instead: a Redis restart takes seconds, and a retry beats a failure record.
RETRY_QUEUE_PATIENCE = 30.0


def _json_body(value: object) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


# Message bodies are plain JSON (`model_dump(mode="json")`): orjson writes and reads the
# same JSON as kombu's encoder at a fraction of its CPU, paid per message at every stage.
kombu.serialization.register(  # type: ignore[no-untyped-call]
    "json", _json_body, orjson.loads, content_type="application/json", content_encoding="utf-8"
)


def create_celery(settings: Settings, main: str) -> Celery:
    """A Celery app on Redis with one queue per pipeline stage."""
    app = Celery(main, broker=settings.resolved_redis_url, set_as_current=False)
    app.conf.update(
        broker_transport=RedisTransport,
        task_routes={name: {"queue": queue} for name, queue in TASK_QUEUES.items()},
        task_queues=None,
        task_create_missing_queues=True,
        task_default_queue=QUEUES[0],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": settings.resolved_visibility_timeout,
            # Look for messages of dead workers every few seconds (kombu's default sweep
            # runs about every 100 s, longer than a short visibility timeout).
            "unacked_restore_interval": max(1, min(10, settings.resolved_visibility_timeout // 4)),
            "unacked_restore_throttle": 1,
            # A worker killed during that sweep leaves its lock behind: kombu's 300 s
            # would hold every redelivery back for five minutes. A sweep takes ms.
            "unacked_mutex_expire": 15,
            # No message priorities: one list per queue, which a worker takes from with
            # BLMOVE (see hitwatch.transport).
            "priority_steps": [0],
        },
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        timezone="Asia/Shanghai",
    )
    return app


def retry_delay(retries: int, cap: int) -> float:
    """Exponential backoff with full jitter, so a crowd of retries does not come back at once."""
    return random.uniform(1, min(cap, 2 ** (retries + 1)))


def register_task(
    app: Celery,
    name: str,
    handler: Handler,
    failures: FailureLog,
    settings: Settings,
) -> Task:
    """Register `handler(payload)` as task `name`: transient errors are retried with backoff,
    anything else (or retries exhausted) is written to the failure log and acknowledged.

    Nothing is acknowledged unrecorded: when the retry cannot be queued (the broker is
    down) the failure is recorded instead, and when no failure record can be written
    anywhere the message is rejected back to the queue (or, with the broker down, stays
    unacknowledged and comes back after the visibility timeout)."""

    queue_for(name)  # refuses a task that has no route

    def record(payload: dict[str, Any], exc: BaseException, attempts: int, started: float) -> None:
        if not record_failure(failures, name, payload, exc, attempts, started):
            raise Reject(exc, requeue=True)

    def outcome(payload: dict[str, Any], result: str, attempts: int, started: float) -> None:
        log_outcome(name, payload, result, attempts, started)

    @app.task(name=name, bind=True, max_retries=settings.task_max_retries)  # type: ignore[untyped-decorator]
    def run(self: Task, payload: dict[str, Any]) -> None:
        attempts = self.request.retries + 1
        started = time.monotonic()
        try:
            handler(payload)
        except RETRYABLE as exc:
            if self.request.retries < settings.task_max_retries:
                delay = retry_delay(self.request.retries, settings.task_retry_backoff_max)
                log.warning("%s: %s; retry %d in %.0fs", name, exc, attempts, delay)
                try:
                    again = queue_patiently(
                        name, partial(self.retry, exc=exc, countdown=delay, throw=False)
                    )
                except Exception as broker_error:  # the retry could not be queued
                    log.error(
                        "%s: retry not queued (%s); recording the failure", name, broker_error
                    )
                    record(payload, exc, attempts, started)
                    return
                outcome(payload, "retry", attempts, started)
                raise again from exc
            record(payload, exc, attempts, started)
        except Exception as exc:
            record(payload, exc, attempts, started)
        else:
            if _redelivered(self):
                close_earlier_failures(failures, name, payload)
            outcome(payload, "done", attempts, started)

    return run


def _redelivered(task: Task) -> bool:
    """The message came back from the broker (a dead worker's, or one not acknowledged)."""
    request = task.request
    return is_redelivered(request.delivery_info, getattr(request, "headers", None)) or bool(
        getattr(request, "redelivered", False)
    )


def is_redelivered(delivery_info: dict[str, Any] | None, headers: dict[str, Any] | None) -> bool:
    """kombu marks a restored message (a dead worker's) in its delivery info or headers."""
    return bool((delivery_info or {}).get("redelivered") or (headers or {}).get("redelivered"))


def log_outcome(
    name: str, payload: dict[str, Any], result: str, attempts: int, started: float
) -> None:
    """Count one task outcome (done, retry, failed, requeued) and log it in one line; with
    LOG_FORMAT=json, fields an operator can filter."""
    stage = queue_for(name)
    elapsed = time.monotonic() - started
    TASKS.labels(name, stage, result).inc()
    TASK_DURATION.labels(stage).observe(elapsed)
    fields = {
        "task": name,
        "stage": stage,
        "item": item_key(payload),
        "outcome": result,
        "attempts": attempts,
        "duration_ms": round(elapsed * 1000, 1),
    }
    task_log.info(
        "%s %s for %s in %.0f ms", name, result, fields["item"], fields["duration_ms"], extra=fields
    )


def record_failure(
    failures: FailureLog,
    name: str,
    payload: dict[str, Any],
    exc: BaseException,
    attempts: int,
    started: float,
) -> bool:
    """Keep a failed item in the failure log; False when no record could be written
    anywhere (database, Redis, spool), so the caller puts the message back instead."""
    try:
        failures.record(name, payload, exc, attempts)
    except Exception as error:  # database, Redis and spool all refused
        log.critical("%s: failure not recorded (%s); the message goes back", name, error)
        log_outcome(name, payload, "requeued", attempts, started)
        return False
    TASK_FAILURES.labels(queue_for(name), type(exc).__name__).inc()
    log_outcome(name, payload, "failed", attempts, started)
    return True


def close_earlier_failures(failures: FailureLog, name: str, payload: dict[str, Any]) -> None:
    """An item done on redelivery closes the failure records an earlier attempt left open
    (e.g. recorded while the store was down, then delivered again)."""
    try:
        if cleared := failures.resolve_item(name, payload):
            log.warning(
                "%s: done on redelivery; %d earlier failure record(s) of %s closed",
                name,
                cleared,
                item_key(payload),
            )
    except Exception as error:  # the item is done; an open record stays replayable
        log.error(
            "%s: earlier failure records of %s not closed (%s)", name, item_key(payload), error
        )


def queue_patiently(
    name: str, send: Callable[[], T], stopping: Callable[[], bool] = lambda: False
) -> T:
    """Queue a retry, trying again for `RETRY_QUEUE_PATIENCE` while the broker is away: a
    Redis restart takes seconds, and a retry beats a failure record. A worker asked to
    stop (`stopping()`) does not wait: its caller leaves the message unacknowledged."""
    deadline = time.monotonic() + RETRY_QUEUE_PATIENCE
    while True:
        try:
            return send()
        except Exception as broker_error:
            if time.monotonic() >= deadline or stopping():
                raise
            log.warning("%s: retry not queued yet (%s); trying again", name, broker_error)
            time.sleep(1)


def send_message(
    app: Celery, task_name: str, message: _Message | CrawledItem, producer: Any = None
) -> None:
    """Queue `message` for the service that handles `task_name` (with `producer`, one of
    `send_messages`)."""
    payload = message.to_payload()
    # argsrepr names the item: Celery's own (a safe repr of the whole payload, page text
    # included) cost more than publishing the message. Nothing to declare: a queue's
    # messages go straight to its list (direct routing), and consumers declare it.
    app.send_task(
        task_name,
        args=[payload],
        queue=queue_for(task_name),
        argsrepr=f"[{item_key(payload)!r}]",
        kwargsrepr="{}",
        producer=producer,
        declare=[],
    )


def send_messages(
    app: Celery, task_name: str, messages: Sequence[_Message | CrawledItem]
) -> list[BaseException | None]:
    """Queue a batch's `messages` in one Redis round trip (kombu's publish batch: one
    pipeline); an outcome per message, None when queued. A pipeline that failed leaves
    every message's delivery uncertain: each gets the error (its cause, e.g. Redis
    away, so it is retried: consumers are idempotent)."""
    outcomes: list[BaseException | None] = []
    with app.producer_or_acquire() as producer:
        try:
            with producer.batch():
                for message in messages:
                    try:
                        send_message(app, task_name, message, producer)
                    except Exception as exc:
                        outcomes.append(exc)
                    else:
                        outcomes.append(None)
        except Exception as exc:
            error = exc.__cause__ if isinstance(exc.__cause__, Exception) else exc
            log.warning("%s: a batch of %d not queued: %s", task_name, len(messages), error)
            outcomes = [outcome or error for outcome in outcomes]
            outcomes += [error] * (len(messages) - len(outcomes))
    return outcomes
