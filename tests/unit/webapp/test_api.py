"""The JSON API: items, item detail, search, health."""

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from hitwatch.errors import SearchBackendError
from hitwatch.search import SearchRequest
from hitwatch.search.memory import InMemoryIndex
from hitwatch.settings import Settings
from hitwatch.store import Database
from tests.factories import FORUM, FORUM_REPRINT, LLM, POLICY, SAMPLE, Doc, filler
from webapp import create_app

PAGINATION_KEYS = {"page", "per_page", "total", "pages", "has_prev", "has_next", "total_exact"}


def test_items_are_paginated(client: FlaskClient, seed: Callable[[list[Doc]], None]) -> None:
    seed(filler(25))
    body = client.get("/api/v1/items?per_page=10&page=3").get_json()
    assert body["pagination"] == {
        "page": 3, "per_page": 10, "total": 25, "pages": 3, "has_prev": True, "has_next": False,
        "total_exact": True,
    }  # fmt: skip
    assert [item["title"][:4] for item in body["items"]] == [
        "第5条："[:4],
        "第4条："[:4],
        "第3条："[:4],
        "第2条："[:4],
        "第1条："[:4],
    ]
    assert client.get("/api/v1/items?per_page=100000").get_json()["pagination"]["per_page"] == 100


def test_item_summary_fields(client: FlaskClient, seed: Callable[[list[Doc]], None]) -> None:
    seed(SAMPLE)
    items = client.get("/api/v1/items").get_json()["items"]
    forum = next(item for item in items if item["doc_id"] == FORUM.doc_id)
    assert forum["story_size"] == 2
    assert forum["origin_name"] == "朝阳报"
    assert forum["published_at"] == "2024-07-04T00:15:00+00:00"
    assert forum["topics"][0]["code"] == "M"
    assert all(item["relevant"] for item in items)


def test_item_detail(client: FlaskClient, seed: Callable[[list[Doc]], None]) -> None:
    seed(SAMPLE)
    detail = client.get(f"/api/v1/items/{FORUM_REPRINT.doc_id}").get_json()
    assert detail["body"].startswith("7月3日")
    assert detail["also_published_by"] == [
        {"doc_id": FORUM.doc_id, "source_name": "首都文明网", "url": FORUM.url}
    ]
    policy = client.get(f"/api/v1/items/{POLICY.doc_id}").get_json()
    assert policy["policy"]["doc_number"] == "国卫办医政发〔2024〕12号"
    missing = client.get("/api/v1/items/nope")
    assert missing.status_code == 404 and "error" in missing.get_json()


def test_search_json(client: FlaskClient, seed: Callable[[list[Doc]], None]) -> None:
    seed(SAMPLE)
    response = client.get("/api/v1/search", query_string={"q": "大模型", "sort": "date"})
    assert response.status_code == 200
    assert response.content_type.startswith("application/json")
    assert "大模型" in response.get_data(as_text=True)  # UTF-8, not \u escapes
    body = response.get_json()
    assert body["query"] == {"q": "大模型", "source": "", "from": "", "to": "", "sort": "date"}
    assert set(body["pagination"]) == PAGINATION_KEYS
    ids = [result["doc_id"] for result in body["results"]]
    # Newest first; the forum story (two copies) appears once, as its newest copy.
    assert ids[0] == FORUM_REPRINT.doc_id and LLM.doc_id in ids
    assert FORUM.doc_id not in ids
    first = body["results"][0]
    assert "<mark>大模型</mark>" in first["snippet_html"]
    assert first["story_size"] == 2
    assert first["also"] == [{"doc_id": FORUM.doc_id, "source_name": "首都文明网"}]


def test_search_json_rejects_bad_dates(client: FlaskClient) -> None:
    response = client.get("/api/v1/search?q=x&to=yesterday")
    assert response.status_code == 400
    assert "YYYY-MM-DD" in response.get_json()["error"]


def test_health_reports_each_part(client: FlaskClient, seed: Callable[[list[Doc]], None]) -> None:
    seed(SAMPLE)
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"status": "ok", "articles": len(SAMPLE)}
    assert body["checks"]["search"]["status"] == "ok"
    assert body["checks"]["search"]["documents"] == len(SAMPLE)
    assert body["checks"]["redis"]["status"] == "unavailable"  # optional: still healthy


class BrokenIndex(InMemoryIndex):
    def count(self, request: SearchRequest) -> int:
        raise SearchBackendError("connection refused")

    def search(self, request: SearchRequest):  # type: ignore[no-untyped-def]
        raise SearchBackendError("connection refused")


def test_broken_search_index(settings: Settings, database: Database) -> None:
    app: Flask = create_app(settings, database=database, search_index=BrokenIndex())
    client = app.test_client()
    health = client.get("/api/v1/health")
    assert health.status_code == 503
    assert (
        health.get_json()["checks"]["search"]["error"] == "SearchBackendError: connection refused"
    )
    page = client.get("/search?q=医保")
    assert page.status_code == 503 and "搜索索引暂时不可用" in page.get_data(as_text=True)
    assert client.get("/api/v1/search?q=医保").status_code == 503


def test_unmigrated_database_says_to_migrate(settings: Settings, index: InMemoryIndex) -> None:
    from hitwatch.store import open_database

    empty = open_database(settings.resolved_database_url)
    try:
        client = create_app(settings, database=empty, search_index=index).test_client()
        page = client.get("/")
        assert page.status_code == 503
        assert "运行 hitwatch migrate" in page.get_data(as_text=True)
        assert client.get("/api/v1/health").get_json()["checks"]["database"]["status"] == "error"
    finally:
        empty.dispose()


def test_status_page_says_in_chinese_what_works(client) -> None:
    page = client.get("/status")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "系统状态" in text and "数据库（文章与月报）" in text
    assert "队列服务（Redis）" in text and "不可用" in text  # nothing listens on port 9
    assert "Connection refused" not in text  # the reason is for admins only
    assert 'href="/status"' in client.get("/").get_data(as_text=True)
