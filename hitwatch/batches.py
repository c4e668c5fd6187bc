"""Batch workers: the classify, index and notify stages take their queue's messages in
batches, so what costs per call (a store transaction, a search-index request, a Redis
round trip, a task's bookkeeping) is paid per batch, not per item.

A worker holds up to `BATCH_SIZE` unacknowledged messages (kombu's prefetch on the same
Celery queues and message format) and hands them to the handler as one list when it is
full or `BATCH_WAIT_MS` after its first message. Every guarantee of `hitwatch.broker`
holds per item: a message is acknowledged only after its item is done, retried (queued
again with backoff, as Celery's retry does) or recorded as a failure; an item whose
failure cannot be recorded anywhere goes back to its queue; a worker that dies leaves its
messages unacknowledged, delivered again after `BROKER_VISIBILITY_TIMEOUT`. A batch that
fails as a whole with a non-transient error is run again item by item, so a poison item
fails alone.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from types import FrameType
from typing import Any, TypeVar

import redis
from celery import Celery
from kombu.message import Message
from kombu.mixins import ConsumerMixin

from hitwatch.broker import (
    RETRYABLE,
    close_earlier_failures,
    is_redelivered,
    log_outcome,
    queue_patiently,
    record_failure,
    retry_delay,
)
from hitwatch.settings import Settings
from hitwatch.store.failures import FailureLog
from hitwatch.tasks import queue_for

__all__ = ["BATCH_SIZES_KEY", "BatchHandler", "BatchWorker", "each", "parse_batch"]

log = logging.getLogger(__name__)

# payloads in, one outcome per payload out: None (done) or the item's error.
BatchHandler = Callable[[Sequence[dict[str, Any]]], Sequence[BaseException | None]]
# Redis hash per queue: batch size -> batches of that size (`hitwatch bench pipeline`).
M = TypeVar("M")
BATCH_SIZES_KEY = "hitwatch:batch-sizes:{queue}"


def parse_batch(
    model: Callable[[dict[str, Any]], M], payloads: Sequence[dict[str, Any]]
) -> tuple[list[BaseException | None], list[tuple[int, M]]]:
    """A result slot per payload, and the payloads `model` parses with their positions: a
    message that is not what its task expects fails alone, in its slot."""
    results: list[BaseException | None] = [None] * len(payloads)
    parsed: list[tuple[int, M]] = []
    for position, payload in enumerate(payloads):
        try:
            parsed.append((position, model(payload)))
        except Exception as exc:
            results[position] = exc
    return results, parsed


def each(handler: Callable[[dict[str, Any]], None]) -> BatchHandler:
    """A batch handler that runs a one-item handler on every payload in turn."""

    def run(payloads: Sequence[dict[str, Any]]) -> list[BaseException | None]:
        results: list[BaseException | None] = []
        for payload in payloads:
            try:
                handler(payload)
            except Exception as exc:
                results.append(exc)
            else:
                results.append(None)
        return results

    return run


class _StoppedError(Exception):
    """The worker was asked to stop while it waited for the broker."""


@dataclass
class _Delivery:
    message: Message
    name: str
    payload: dict[str, Any]
    retries: int
    due: float  # epoch seconds; 0 when it may run now


def _due(eta: object) -> float:
    if not isinstance(eta, str) or not eta:
        return 0.0
    try:
        return datetime.fromisoformat(eta).timestamp()
    except ValueError:
        return 0.0


class BatchWorker(ConsumerMixin):
    """Consumes one queue in batches; `handle(name, handler)` for each of its tasks."""

    def __init__(self, app: Celery, queue: str, failures: FailureLog, settings: Settings) -> None:
        self.app = app
        self.queue_name = queue
        self.failures = failures
        self.settings = settings
        self.size = settings.batch_size
        self.wait = settings.batch_wait_ms / 1000
        self.connection = app.connection_for_read()
        self._stats = redis.Redis.from_url(settings.resolved_redis_url)
        self._handlers: dict[str, BatchHandler] = {}
        self._buffer: list[_Delivery] = []
        self._delayed: list[_Delivery] = []
        self._first = 0.0
        self._stopping = False
        self._consumer: Any = None  # kombu.Consumer (untyped)

    def handle(self, name: str, handler: BatchHandler) -> None:
        if queue_for(name) != self.queue_name:  # also refuses a task without a route
            raise ValueError(f"task {name} travels on {queue_for(name)}, not {self.queue_name}")
        self._handlers[name] = handler

    # -- consuming -------------------------------------------------------------------

    def get_consumers(self, consumer_class: Any, channel: Any) -> list[Any]:
        queue = self.app.amqp.queues[self.queue_name]
        consumer = consumer_class(
            queues=[queue], callbacks=[self._receive], accept=["json"], prefetch_count=self.size
        )
        self._consumer = consumer
        channel.stopping = lambda: self._stopping
        return [consumer]

    def establish_connection(self) -> Any:
        # kombu tries to reconnect forever; a worker asked to stop gives up within a
        # second (what it holds is in Redis's unacknowledged or taking structures).
        return self._connect_until_stopped()

    @contextmanager
    def _connect_until_stopped(self) -> Iterator[Any]:
        def give_up() -> None:
            if self._stopping:
                raise _StoppedError

        with self.create_connection() as connection:  # type: ignore[no-untyped-call]
            connection.ensure_connection(
                self.on_connection_error, self.connect_max_retries, callback=give_up
            )
            yield connection

    def on_connection_revived(self) -> None:
        # Messages taken on the lost connection cannot be acknowledged any more; the
        # broker delivers them again after the visibility timeout.
        self._buffer, self._delayed = [], []

    def _receive(self, body: Any, message: Message) -> None:
        headers = message.headers or {}
        name = str(headers.get("task", ""))
        args = body[0] if isinstance(body, list | tuple) and body else []
        payload = args[0] if isinstance(args, list | tuple) and args else {}
        delivery = _Delivery(
            message=message,
            name=name,
            payload=payload if isinstance(payload, dict) else {"body": payload},
            retries=int(headers.get("retries") or 0),
            due=_due(headers.get("eta")),
        )
        if delivery.due > time.time():
            self._delayed.append(delivery)
            self._make_room()
            return
        self._add(delivery)

    def _add(self, delivery: _Delivery) -> None:
        if not self._buffer:
            self._first = time.monotonic()
        self._buffer.append(delivery)
        if len(self._buffer) >= self.size:
            self.flush()

    def _make_room(self) -> None:
        # A message waiting for its retry time holds a prefetch slot; as Celery does for
        # its ETA tasks, the worker takes one more so the queue keeps moving.
        if self._consumer is not None:
            self._consumer.qos(prefetch_count=self.size + len(self._delayed))

    def on_iteration(self) -> None:
        if self._delayed:
            now = time.time()
            ready = [d for d in self._delayed if d.due <= now]
            if ready:
                self._delayed = [d for d in self._delayed if d.due > now]
                self._make_room()
                for delivery in ready:
                    self._add(delivery)
        if self._buffer and (self._stopping or time.monotonic() - self._first >= self.wait):
            self.flush()
        if self._stopping:
            self.should_stop = True

    def run_until_stopped(self) -> None:
        """Consume until SIGTERM or SIGINT; the batch in hand is finished first."""

        def stop(signum: int, frame: FrameType | None) -> None:
            self._stopping = True  # the next iteration finishes the batch in hand, then stops

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        log.info(
            "%s worker: batches of up to %d, waiting up to %d ms",
            self.queue_name,
            self.size,
            self.settings.batch_wait_ms,
        )
        # Messages still held when the channel closes (waiting for a retry time) go back
        # to the queue.
        with suppress(_StoppedError):
            self.run(safety_interval=max(min(self.wait, 1.0), 0.01))  # type: ignore[no-untyped-call]

    # -- one batch -------------------------------------------------------------------

    def flush(self) -> None:
        batch, self._buffer = self._buffer, []
        if not batch:
            return
        groups: dict[str, list[_Delivery]] = {}
        for delivery in batch:
            groups.setdefault(delivery.name, []).append(delivery)
        for name, deliveries in groups.items():
            started = time.monotonic()
            handler = self._handlers.get(name)
            if handler is None:
                error = LookupError(f"no handler for task {name!r} on queue {self.queue_name}")
                results: Sequence[BaseException | None] = [error] * len(deliveries)
            else:
                results = self._run(handler, [d.payload for d in deliveries])
            # Every message of a batch came on the consumer's one channel.
            with deliveries[0].message.channel.qos.acknowledging_together():
                for delivery, result in zip(deliveries, results, strict=True):
                    self._settle(delivery, result, started)
        try:
            self._stats.hincrby(BATCH_SIZES_KEY.format(queue=self.queue_name), str(len(batch)))
        except redis.exceptions.RedisError as exc:  # a figure, not a guarantee
            log.debug("batch size not counted: %s", exc)

    def _run(
        self, handler: BatchHandler, payloads: list[dict[str, Any]]
    ) -> Sequence[BaseException | None]:
        try:
            results = handler(payloads)
        except RETRYABLE as exc:
            return [exc] * len(payloads)
        except Exception as exc:
            if len(payloads) == 1:
                return [exc]
            log.warning(
                "%s: a batch of %d failed (%s: %s); running its items one by one",
                self.queue_name,
                len(payloads),
                type(exc).__name__,
                exc,
            )
            return [self._run(handler, [payload])[0] for payload in payloads]
        if len(results) != len(payloads):
            error = RuntimeError(f"handler gave {len(results)} results for {len(payloads)} items")
            return [error] * len(payloads)
        return results

    def _settle(self, delivery: _Delivery, error: BaseException | None, started: float) -> None:
        attempts = delivery.retries + 1
        if error is None:
            if is_redelivered(delivery.message.delivery_info, delivery.message.headers):
                close_earlier_failures(self.failures, delivery.name, delivery.payload)
            delivery.message.ack()  # type: ignore[no-untyped-call]
            log_outcome(delivery.name, delivery.payload, "done", attempts, started)
            return
        if isinstance(error, RETRYABLE) and delivery.retries < self.settings.task_max_retries:
            delay = retry_delay(delivery.retries, self.settings.task_retry_backoff_max)
            log.warning("%s: %s; retry %d in %.0fs", delivery.name, error, attempts, delay)
            try:
                queue_patiently(
                    delivery.name,
                    lambda: self.app.send_task(
                        delivery.name,
                        args=[delivery.payload],
                        queue=self.queue_name,
                        countdown=delay,
                        retries=delivery.retries + 1,
                        task_id=(delivery.message.headers or {}).get("id"),
                    ),
                    stopping=lambda: self._stopping,
                )
            except Exception as broker_error:  # the retry could not be queued
                if self._stopping:  # the broker is away: delivered again after the restart
                    log.warning(
                        "%s: retry not queued (%s) while stopping; left unacknowledged",
                        delivery.name,
                        broker_error,
                    )
                    return
                log.error(
                    "%s: retry not queued (%s); recording the failure", delivery.name, broker_error
                )
            else:
                delivery.message.ack()  # type: ignore[no-untyped-call]
                log_outcome(delivery.name, delivery.payload, "retry", attempts, started)
                return
        if record_failure(self.failures, delivery.name, delivery.payload, error, attempts, started):
            delivery.message.ack()  # type: ignore[no-untyped-call]
        else:
            delivery.message.requeue()  # type: ignore[no-untyped-call]
