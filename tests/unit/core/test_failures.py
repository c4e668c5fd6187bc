"""Failure records survive a database outage by waiting in Redis (fake Redis here; the
real-server case is in tests/integration)."""

from hitwatch.store.failures import FailureLog


class FakeRedis:
    def __init__(self):
        self.lists = {}

    def rpush(self, key, value):
        self.lists.setdefault(key, []).append(value)

    def lpop(self, key):
        items = self.lists.get(key) or []
        return items.pop(0) if items else None


class BrokenDatabase:
    def session(self):
        raise ConnectionError("database is down")


def test_failure_waits_in_redis_while_the_database_is_down_then_drains(database):
    fake = FakeRedis()
    FailureLog(BrokenDatabase(), fake).record(
        "indexer.index_document", {"doc_id": "x1"}, ValueError("bad")
    )
    assert len(fake.lists["hitwatch:failures:pending"]) == 1

    log = FailureLog(database, fake)
    assert log.drain_pending() == 1
    [row] = log.list()
    assert row.item_key == "x1" and row.error_type == "ValueError"
    log.mark_replayed(row.id)
    assert log.list() == [] and len(log.list(include_resolved=True)) == 1


class DownRedis:
    def rpush(self, key, value):
        import redis

        raise redis.exceptions.ConnectionError("Redis is down")

    lpop = rpush


def test_with_database_and_redis_down_the_failure_waits_in_the_spool_file(database, tmp_path):
    spool = tmp_path / "failures-spool.jsonl"
    down = FailureLog(BrokenDatabase(), DownRedis(), spool)
    for n in range(3):
        down.record("indexer.index_document", {"doc_id": f"x{n}"}, ValueError("日志"))
    assert len(spool.read_text("utf-8").splitlines()) == 3

    back = FailureLog(database, FakeRedis(), spool)
    assert back.drain_pending() == 3
    assert sorted(row.item_key for row in back.list()) == ["x0", "x1", "x2"]
    assert not spool.exists() and back.drain_pending() == 0


def test_when_nothing_takes_the_record_it_says_so(tmp_path):
    import pytest

    from hitwatch.store.failures import FailureNotRecordedError

    unwritable = tmp_path / "missing-dir-is-a-file"
    unwritable.write_text("")
    log = FailureLog(BrokenDatabase(), DownRedis(), unwritable / "spool.jsonl")
    with pytest.raises(FailureNotRecordedError):
        log.record("indexer.index_document", {"doc_id": "x"}, ValueError("bad"))
