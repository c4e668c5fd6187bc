"""Source health and the failure table, with replay."""

import re
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from kombu.exceptions import OperationalError

from hitwatch.store import Database, Failure, Source
from hitwatch.store.failures import FailureLog
from tests.accounts import sign_in
from tests.factories import FakeCelery


@pytest.fixture
def client(app: Flask, database: Database) -> FlaskClient:
    """An admin's browser: source health and failures are theirs."""
    client = app.test_client()
    sign_in(client, database, "admin")
    return client


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def test_sources_empty_state(client: FlaskClient) -> None:
    assert "还没有信息源记录：运行 hitwatch run 开始首次采集" in text(client.get("/sources"))


def test_sources_show_state_broken_first(client: FlaskClient, database: Database) -> None:
    with database.session() as session:
        session.add_all(
            [
                Source(id="bjnews", name="新京报", state="ok", last_items=12,
                       last_success_at=datetime(2024, 7, 31, 0, 5, tzinfo=UTC)),
                Source(id="nhc", name="国家卫生健康委员会", kind="government", state="broken",
                       state_reason="列表页连续 3 次没有条目", last_errors=4),
                Source(id="chinanews", name="中新网", state="new"),
            ]
        )  # fmt: skip
    page = text(client.get("/sources"))
    assert "正常 1，异常 1，尚未采集 1" in page
    assert page.index("国家卫生健康委员会") < page.index("中新网") < page.index("新京报")
    assert "列表页连续 3 次没有条目" in page
    assert "2024-07-31 08:05" in page
    assert "政府网站" in page


def _record(database: Database, task_name: str, url: str) -> int:
    FailureLog(database).record(
        task_name, {"schema": "crawled_item/1", "url": url}, ValueError("无法解析正文")
    )
    with database.session() as session:
        return max(row.id for row in session.query(Failure).all())


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "replay form without a CSRF token"
    return match.group(1)


def test_failures_listed_newest_first(client: FlaskClient, database: Database) -> None:
    assert "没有待处理的失败记录" in text(client.get("/failures"))
    _record(database, "classifier.classify_item", "https://example.org/a.html")
    _record(database, "indexer.index_document", "https://example.org/b.html")
    page = text(client.get("/failures"))
    assert page.index("b.html") < page.index("a.html")
    assert "ValueError" in page and "无法解析正文" in page and "重放" in page
    assert "抽取与分类" in page and "入库与索引" in page  # what the task did, in Chinese


def test_replay_sends_the_payload_to_its_queue(
    client: FlaskClient, database: Database, celery: FakeCelery
) -> None:
    failure_id = _record(database, "classifier.classify_item", "https://example.org/a.html")
    token = _csrf(text(client.get("/failures")))
    response = client.post(f"/failures/{failure_id}/replay", data={"csrf_token": token})
    assert response.status_code == 302
    assert celery.sent == [
        (
            "classifier.classify_item",
            [{"schema": "crawled_item/1", "url": "https://example.org/a.html"}],
            {"queue": "classify"},
        )
    ]
    page = text(client.get("/failures"))
    assert "已把 #" in page and "送回队列 classify" in page
    assert "没有待处理的失败记录" in page
    resolved = text(client.get("/failures?all=1"))
    assert "已重放 1 次" in resolved and "由 admin@example.org" in resolved
    audit = text(client.get("/admin/audit?action=failure_replay"))
    assert f"failure:{failure_id}" in audit and "admin@example.org" in audit


def test_replay_of_a_task_without_queue_is_explained(
    client: FlaskClient, database: Database, celery: FakeCelery
) -> None:
    failure_id = _record(database, "crawler.retired_task", "https://example.org/c.html")
    token = _csrf(text(client.get("/failures")))
    client.post(f"/failures/{failure_id}/replay", data={"csrf_token": token})
    page = text(client.get("/failures"))
    assert "没有登记队列" in page and "crawler.retired_task" in page
    assert celery.sent == []
    assert FailureLog(database).get(failure_id).resolved is False  # type: ignore[union-attr]


def test_replay_with_broker_down_keeps_the_failure(
    client: FlaskClient, database: Database, celery: FakeCelery
) -> None:
    celery.error = OperationalError("Error 111 connecting to 127.0.0.1:6390. Connection refused.")
    failure_id = _record(database, "indexer.index_document", "https://example.org/d.html")
    token = _csrf(text(client.get("/failures")))
    client.post(f"/failures/{failure_id}/replay", data={"csrf_token": token})
    page = text(client.get("/failures"))
    assert "请确认 Redis 正在运行" in page
    assert FailureLog(database).get(failure_id).resolved is False  # type: ignore[union-attr]


def test_replay_needs_the_form_token(
    client: FlaskClient, database: Database, celery: FakeCelery
) -> None:
    failure_id = _record(database, "classifier.classify_item", "https://example.org/e.html")
    response = client.post(f"/failures/{failure_id}/replay", data={"csrf_token": "forged"})
    assert response.status_code == 400
    assert "表单已过期" in text(response)
    assert celery.sent == []


def test_replay_of_unknown_failure(client: FlaskClient) -> None:
    token = _csrf_from_any_form(client)
    client.post("/failures/999/replay", data={"csrf_token": token})
    assert "失败记录 #999 不存在" in text(client.get("/failures"))


def _csrf_from_any_form(client: FlaskClient) -> str:
    client.get("/failures")  # no form on an empty table: take the session's token instead
    with client.session_transaction() as session:
        if "csrf_token" not in session:
            session["csrf_token"] = "test-token"
        return str(session["csrf_token"])


def test_every_task_has_a_label_in_the_failure_table() -> None:
    from hitwatch.tasks import TASK_QUEUES
    from webapp.failures import TASK_LABELS

    assert set(TASK_LABELS) == set(TASK_QUEUES)
