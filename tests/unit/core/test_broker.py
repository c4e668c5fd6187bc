"""Retry and failure policy of every task, run eagerly (no broker needed)."""

import pytest
from sqlalchemy import select

from hitwatch.broker import create_celery, register_task, retry_delay
from hitwatch.errors import ExtractionError, TransientError
from hitwatch.settings import load_settings
from hitwatch.store import Failure
from hitwatch.store.failures import FailureLog
from hitwatch.tasks import CLASSIFY_ITEM


@pytest.fixture
def eager(settings, database):
    settings = load_settings(data_dir=settings.data_dir, task_max_retries=2)
    app = create_celery(settings, "test")
    app.conf.task_always_eager = True
    return app, settings, FailureLog(database)


def _failures(database):
    with database.session() as session:
        return session.scalars(select(Failure)).all()


def test_permanent_error_is_recorded_once_without_retry(eager, database):
    app, settings, failures = eager
    calls = []

    def handler(payload):
        calls.append(payload)
        raise ExtractionError("no article body found")

    task = register_task(app, CLASSIFY_ITEM, handler, failures, settings)
    task.apply(args=[{"url": "https://www.nhc.gov.cn/a.shtml"}])
    assert len(calls) == 1
    [row] = _failures(database)
    assert row.error_type == "ExtractionError"
    assert row.item_key == "https://www.nhc.gov.cn/a.shtml"
    assert row.payload == {"url": "https://www.nhc.gov.cn/a.shtml"}
    assert row.attempts == 1


def test_transient_error_is_retried_then_recorded(eager, database, monkeypatch):
    app, settings, failures = eager
    monkeypatch.setattr("hitwatch.broker.retry_delay", lambda retries, cap: 0)
    calls = []

    def handler(payload):
        calls.append(payload)
        raise TransientError("elasticsearch is restarting")

    task = register_task(app, CLASSIFY_ITEM, handler, failures, settings)
    task.apply(args=[{"doc_id": "d1"}])
    assert len(calls) == 3  # first try + 2 retries
    [row] = _failures(database)
    assert row.attempts == 3 and row.error_type == "TransientError"


def test_transient_error_that_clears_records_nothing(eager, database, monkeypatch):
    app, settings, failures = eager
    monkeypatch.setattr("hitwatch.broker.retry_delay", lambda retries, cap: 0)
    outcomes = [ConnectionError("refused"), None]

    def handler(payload):
        if (error := outcomes.pop(0)) is not None:
            raise error

    register_task(app, CLASSIFY_ITEM, handler, failures, settings).apply(args=[{}])
    assert _failures(database) == []


def test_a_task_without_a_route_is_refused(eager):
    app, settings, failures = eager
    with pytest.raises(KeyError, match="has no queue"):
        register_task(app, "nowhere.do_thing", lambda p: None, failures, settings)


def test_retry_delay_grows_and_is_capped():
    assert all(1 <= retry_delay(0, 300) <= 2 for _ in range(50))
    assert all(retry_delay(20, 30) <= 30 for _ in range(50))


def test_a_retry_the_broker_cannot_queue_is_recorded_not_dropped(eager, database, monkeypatch):
    """Celery turns a failed retry publish into Reject(requeue=False): a silent drop."""
    from celery.exceptions import Reject
    from kombu.exceptions import OperationalError

    app, settings, failures = eager

    def handler(payload):
        raise OperationalError("Error 111 connecting to redis")  # publishing the next step

    task = register_task(app, CLASSIFY_ITEM, handler, failures, settings)

    def broker_down(*args, **kwargs):
        raise Reject(OperationalError("broker down"), requeue=False)

    monkeypatch.setattr(task, "retry", broker_down)
    monkeypatch.setattr("hitwatch.broker.RETRY_QUEUE_PATIENCE", 0)
    task.apply(args=[{"doc_id": "d9"}])
    [row] = _failures(database)
    assert row.item_key == "d9" and row.error_type == "OperationalError"


def test_a_retry_is_queued_once_the_broker_is_back_without_a_failure_record(
    eager, database, monkeypatch
):
    from celery.exceptions import Reject, Retry
    from kombu.exceptions import OperationalError

    app, settings, failures = eager

    def handler(payload):
        raise OperationalError("Error 111 connecting to redis")

    task = register_task(app, CLASSIFY_ITEM, handler, failures, settings)
    attempts = []

    def broker_restarting(*args, **kwargs):
        attempts.append(1)
        if len(attempts) < 3:  # Redis is restarting: the first two publishes fail
            raise Reject(OperationalError("broker down"), requeue=False)
        return Retry("queued", when=0)

    monkeypatch.setattr(task, "retry", broker_restarting)
    monkeypatch.setattr("hitwatch.broker.time.sleep", lambda seconds: None)
    task.apply(args=[{"doc_id": "d11"}])
    assert len(attempts) == 3
    assert _failures(database) == []


def test_a_failure_that_cannot_be_recorded_anywhere_is_not_acknowledged(eager, database):
    from celery.exceptions import Reject

    app, settings, _ = eager

    class Nowhere:
        def record(self, *args, **kwargs):
            raise RuntimeError("database, Redis and spool all refused")

    def handler(payload):
        raise ExtractionError("bad page")

    task = register_task(app, CLASSIFY_ITEM, handler, Nowhere(), settings)  # type: ignore[arg-type]
    result = task.apply(args=[{"doc_id": "d10"}])
    assert isinstance(result.result, Reject) and result.result.requeue


def test_each_task_outcome_is_one_json_line_with_item_stage_and_duration(eager, database):
    import json
    import logging

    from hitwatch.logs import JsonFormatter

    app, settings, failures = eager
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(JsonFormatter().format(record))

    logger = logging.getLogger("hitwatch.tasks.outcome")
    handler = Collect()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:

        def handler(payload):
            if payload.get("doc_id") == "d2":
                raise ExtractionError("no article body found")

        task = register_task(app, CLASSIFY_ITEM, handler, failures, settings)
        task.apply(args=[{"url": "https://www.nhc.gov.cn/a.shtml"}])
        task.apply(args=[{"doc_id": "d2"}])
    finally:
        logger.removeHandler(handler)
    done, failed = (json.loads(line) for line in lines)
    assert done["item"] == "https://www.nhc.gov.cn/a.shtml" and done["outcome"] == "done"
    assert done["task"] == CLASSIFY_ITEM and done["stage"] == "classify"
    assert done["attempts"] == 1 and done["duration_ms"] >= 0 and done["level"] == "INFO"
    assert (failed["item"], failed["outcome"]) == ("d2", "failed")


def test_a_redelivered_message_that_succeeds_closes_the_failure_an_earlier_copy_recorded(
    eager, database
):
    # The broker went away: the first delivery recorded a failure and could not be
    # acknowledged; the message came back and this time the item was stored.
    app, settings, failures = eager
    payload = {"url": "https://www.nhc.gov.cn/b.shtml"}
    failures.record(CLASSIFY_ITEM, payload, ConnectionError("broker down"))
    failures.record(CLASSIFY_ITEM, {"url": "https://www.nhc.gov.cn/other.shtml"}, ValueError("x"))
    task = register_task(app, CLASSIFY_ITEM, lambda p: None, failures, settings)

    task.apply(args=[payload])  # a first delivery: nothing to close
    assert [row.resolved for row in _failures(database)] == [False, False]

    task.apply(args=[payload], headers={"redelivered": True})
    rows = {row.item_key: row for row in _failures(database)}
    assert rows[payload["url"]].resolved and rows[payload["url"]].replayed_by == "redelivery"
    assert not rows["https://www.nhc.gov.cn/other.shtml"].resolved


def test_the_visibility_timeout_outlasts_the_longest_hold_of_a_message(settings):
    defaults = load_settings(data_dir=settings.data_dir)
    # A retry waits in the worker up to TASK_RETRY_BACKOFF_MAX, then runs up to the
    # extraction limit; claims of a dead worker must be stale when its message returns.
    assert defaults.resolved_visibility_timeout == 300 + 60 + 60
    assert defaults.resolved_visibility_timeout > max(
        defaults.alert_claim_timeout, defaults.digest_send_claim_timeout
    )
    longer = load_settings(data_dir=settings.data_dir, task_retry_backoff_max=900)
    assert longer.resolved_visibility_timeout == 900 + 60 + 60
    fixed = load_settings(data_dir=settings.data_dir, broker_visibility_timeout=30)
    assert fixed.resolved_visibility_timeout == 30
    options = create_celery(fixed, "test").conf.broker_transport_options
    assert options["visibility_timeout"] == 30
    # Dead workers' messages are looked for every few seconds, not every 100 s.
    assert options["unacked_restore_interval"] * options["unacked_restore_throttle"] <= 10
    # ... and a worker killed in that sweep does not hold its lock for kombu's 300 s.
    assert options["unacked_mutex_expire"] <= 15
