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
