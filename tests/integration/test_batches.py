"""Batch workers on a real Redis: batches close by size or time, and every guarantee of
the task wrapper holds per item (acknowledged only when done, retried or recorded; a
poison item fails alone; an unrecordable failure goes back to the queue)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest
import redis
from sqlalchemy import select

from hitwatch.batches import BatchWorker
from hitwatch.broker import create_celery
from hitwatch.errors import ExtractionError, TransientError
from hitwatch.settings import load_settings
from hitwatch.store import Failure
from hitwatch.store.failures import FailureLog
from hitwatch.tasks import CLASSIFY_ITEM, INDEX_DOCUMENT

pytestmark = [pytest.mark.requires_redis]


@pytest.fixture
def make_worker(isolated_redis_url, tmp_path, database):  # type: ignore[no-untyped-def]
    made: list[BatchWorker] = []

    def make(failures: Any = None, **overrides: Any) -> tuple[BatchWorker, redis.Redis]:
        settings = load_settings(
            data_dir=tmp_path / "data", redis_url=isolated_redis_url, **overrides
        )
        app = create_celery(settings, "test")
        worker = BatchWorker(app, "index", failures or FailureLog(database), settings)
        made.append(worker)
        return worker, redis.Redis.from_url(isolated_redis_url)

    yield make
    for worker in made:
        worker.connection.release()


def _send(worker: BatchWorker, *doc_ids: str, countdown: float | None = None) -> None:
    for doc_id in doc_ids:
        worker.app.send_task(
            INDEX_DOCUMENT, args=[{"doc_id": doc_id}], queue="index", countdown=countdown
        )


def _run_until(worker: BatchWorker, done: Callable[[], bool], timeout: float = 20) -> None:
    """Consume until `done()` holds and nothing is in hand, then stop."""
    deadline = time.monotonic() + timeout
    step = worker.on_iteration

    def iteration() -> None:
        step()
        if (done() and not worker._buffer) or time.monotonic() > deadline:
            worker.should_stop = True

    worker.on_iteration = iteration  # type: ignore[method-assign]
    worker.run(safety_interval=0.05)
    assert time.monotonic() <= deadline, "timed out"


def _settled(client: redis.Redis) -> bool:
    return client.llen("index") == 0 and client.hlen("unacked") == 0


def test_batches_close_by_size_then_by_time_and_everything_is_acknowledged(make_worker):
    worker, client = make_worker(batch_size=5, batch_wait_ms=150)
    seen: list[list[str]] = []

    def handler(payloads: Sequence[dict[str, Any]]) -> list[BaseException | None]:
        seen.append([p["doc_id"] for p in payloads])
        return [None] * len(payloads)

    worker.handle(INDEX_DOCUMENT, handler)
    _send(worker, *(f"d{n}" for n in range(7)))
    _run_until(worker, lambda: sum(map(len, seen)) == 7 and _settled(client))
    assert [len(batch) for batch in seen] == [5, 2]
    assert sorted(doc for batch in seen for doc in batch) == [f"d{n}" for n in range(7)]
    assert client.hgetall("hitwatch:batch-sizes:index") == {b"5": b"1", b"2": b"1"}


def test_a_lone_item_is_not_held_back_longer_than_the_wait(make_worker):
    worker, client = make_worker(batch_size=50, batch_wait_ms=200)
    handled: list[float] = []
    worker.handle(INDEX_DOCUMENT, lambda payloads: handled.append(time.monotonic()) or [None])
    sent = time.monotonic()
    _send(worker, "alone")
    _run_until(worker, lambda: bool(handled) and _settled(client))
    assert handled[0] - sent < 2.0


def test_a_poison_item_fails_alone_and_the_others_are_done(make_worker, database):
    worker, client = make_worker(batch_size=4, batch_wait_ms=100)
    done: list[str] = []

    def handler(payloads: Sequence[dict[str, Any]]) -> list[BaseException | None]:
        if any(p["doc_id"] == "poison" for p in payloads):
            raise ValueError("constraint violated by one row")  # the whole transaction
        done.extend(p["doc_id"] for p in payloads)
        return [None] * len(payloads)

    worker.handle(INDEX_DOCUMENT, handler)
    _send(worker, "a", "poison", "b", "c")
    _run_until(worker, lambda: len(done) == 3 and _settled(client))
    assert sorted(done) == ["a", "b", "c"]
    with database.session() as session:
        [row] = session.scalars(select(Failure)).all()
    assert row.item_key == "poison" and row.error_type == "ValueError" and row.attempts == 1


def test_a_transient_item_error_is_retried_later_and_a_permanent_one_recorded(
    make_worker, database, monkeypatch
):
    monkeypatch.setattr("hitwatch.batches.retry_delay", lambda retries, cap: 0.5)
    worker, client = make_worker(batch_size=10, batch_wait_ms=100, task_max_retries=2)
    attempts: dict[str, int] = {}

    def handler(payloads: Sequence[dict[str, Any]]) -> list[BaseException | None]:
        results: list[BaseException | None] = []
        for payload in payloads:
            doc_id = payload["doc_id"]
            attempts[doc_id] = attempts.get(doc_id, 0) + 1
            if doc_id == "flaky" and attempts[doc_id] == 1:
                results.append(TransientError("search cluster restarting"))
            elif doc_id == "broken":
                results.append(ExtractionError("no article body"))
            else:
                results.append(None)
        return results

    worker.handle(INDEX_DOCUMENT, handler)
    _send(worker, "ok", "flaky", "broken")
    _run_until(worker, lambda: attempts.get("flaky") == 2 and _settled(client))
    assert attempts == {"ok": 1, "flaky": 2, "broken": 1}
    with database.session() as session:
        [row] = session.scalars(select(Failure)).all()
    assert row.item_key == "broken" and row.error_type == "ExtractionError"


def test_retries_exhausted_are_recorded_with_their_attempts(make_worker, database, monkeypatch):
    monkeypatch.setattr("hitwatch.batches.retry_delay", lambda retries, cap: 0.2)
    worker, client = make_worker(batch_size=10, batch_wait_ms=50, task_max_retries=1)
    worker.handle(INDEX_DOCUMENT, lambda payloads: [ConnectionError("refused")] * len(payloads))
    _send(worker, "down")

    def recorded() -> bool:
        with database.session() as session:
            return session.scalars(select(Failure)).first() is not None

    _run_until(worker, lambda: recorded() and _settled(client))
    with database.session() as session:
        [row] = session.scalars(select(Failure)).all()
    assert row.item_key == "down" and row.attempts == 2


def test_a_failure_nobody_can_record_goes_back_to_the_queue(make_worker):
    class Nowhere:
        def record(self, *args: Any, **kwargs: Any) -> None:
            raise RuntimeError("database, Redis and spool all refused")

    worker, client = make_worker(failures=Nowhere(), batch_size=10, batch_wait_ms=50)
    calls: list[str] = []

    def handler(payloads: Sequence[dict[str, Any]]) -> list[BaseException | None]:
        calls.extend(p["doc_id"] for p in payloads)
        return [ExtractionError("bad page")] * len(payloads)

    worker.handle(INDEX_DOCUMENT, handler)
    _send(worker, "kept")
    # Not acknowledged and not dropped: back on its queue at once, so it comes again
    # (left unacknowledged, it would wait for the visibility timeout, an hour).
    _run_until(worker, lambda: len(calls) >= 2, timeout=10)
    assert calls[:2] == ["kept", "kept"]
    assert client.llen("index") + client.hlen("unacked") == 1


def test_a_task_of_another_queue_is_refused(make_worker):
    worker, _ = make_worker()
    with pytest.raises(ValueError, match="travels on classify"):
        worker.handle(CLASSIFY_ITEM, lambda payloads: [None] * len(payloads))


def test_a_worker_with_two_processes_consumes_with_both_and_stops_on_sigterm(
    isolated_redis_url, tmp_path, workers
):
    import os
    import signal

    from tests.integration.support import wait_for

    pool = workers({"REDIS_URL": isolated_redis_url, "HITWATCH_DATA_DIR": str(tmp_path / "data")})
    process = pool.start("notify", "--concurrency", "2")
    client = redis.Redis.from_url(isolated_redis_url)

    def consumers() -> int:
        return sum(1 for c in client.client_list() if c.get("cmd") in ("blmove", "brpop"))

    wait_for(lambda: consumers() == 2, 90, "two consuming processes", pool.logs)
    os.kill(process.pid, signal.SIGTERM)  # the parent alone: it stops its children
    wait_for(lambda: process.poll() is not None, 30, "the worker to stop", pool.logs)
    wait_for(lambda: consumers() == 0, 10, "its processes to stop", pool.logs)


def test_a_worker_told_to_stop_while_redis_is_gone_exits_at_once(tmp_path, workers):
    """Redis stops first (as a Ctrl-C in the terminal once stopped the demo's Redis): the
    worker, reconnecting, stops within seconds of its SIGTERM instead of retrying forever."""
    import os
    import signal

    from hitwatch.embedded import EmbeddedRedis
    from tests.integration.support import wait_for
    from tests.smtp import free_port

    server = EmbeddedRedis(tmp_path / "broker", free_port())
    server.start()
    try:
        pool = workers({"REDIS_URL": server.url, "HITWATCH_DATA_DIR": str(tmp_path / "data")})
        process = pool.start("index", "--concurrency", "1")
        client = redis.Redis.from_url(server.url)
        wait_for(
            lambda: any(c.get("cmd") == "blmove" for c in client.client_list()),
            90,
            "the worker to consume",
            pool.logs,
        )
        client.close()
        server.stop()
        time.sleep(3)  # the worker has lost its connection and tries to get it back
        assert process.poll() is None, pool.logs()
        os.kill(process.pid, signal.SIGTERM)
        wait_for(lambda: process.poll() is not None, 5, "the worker to stop", pool.logs)
    finally:
        server.stop()


def test_a_retry_that_cannot_be_queued_while_stopping_leaves_the_message_unacknowledged(
    tmp_path, database
):
    """Stopping with Redis gone, a worker does not wait `RETRY_QUEUE_PATIENCE` per item to
    queue its retries, nor records them as failures: it leaves them in the unacked hash,
    from which Redis (restarted from its append-only file) delivers them again."""
    from hitwatch.embedded import EmbeddedRedis
    from tests.smtp import free_port

    server = EmbeddedRedis(tmp_path / "broker", free_port())
    server.start()
    settings = load_settings(data_dir=tmp_path / "data", redis_url=server.url)
    worker = BatchWorker(create_celery(settings, "test"), "index", FailureLog(database), settings)

    def handler(payloads: Sequence[dict[str, Any]]) -> list[BaseException | None]:
        worker._stopping = True  # SIGTERM arrives ...
        server.stop()  # ... and Redis goes away before the batch is settled
        return [TransientError("store away")] * len(payloads)

    worker.handle(INDEX_DOCUMENT, handler)
    try:
        _send(worker, "a", "b", "c")
        started = time.monotonic()
        worker.run_until_stopped()
        assert time.monotonic() - started < 15
        server.start()
        client = redis.Redis.from_url(server.url)
        assert client.hlen("unacked") + client.llen("index") == 3
        with database.session() as session:
            assert session.scalars(select(Failure)).all() == []
        client.close()
    finally:
        worker.connection.release()
        server.stop()
