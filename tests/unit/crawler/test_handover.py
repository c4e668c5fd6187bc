"""The CrawledItem handed to the classifier."""

from __future__ import annotations

from datetime import UTC, datetime

from crawler.handover import FetchedPage, build_item
from hitwatch.messages import CrawledItem, parse_message, stable_id

NOW = datetime(2024, 7, 12, 8, 0, tzinfo=UTC)


def _page(**changes: object) -> FetchedPage:
    fields = {
        "url": "http://127.0.0.1:8765/www.bjnews.com.cn/detail/171991195531264.html",
        "final_url": "http://127.0.0.1:8765/www.bjnews.com.cn/detail/171991195531264.html",
        "real_url": "https://www.bjnews.com.cn/detail/171991195531264.html",
        "source_id": "bjnews",
        "status": 200,
        "content_type": "text/html; charset=utf-8",
        "body": "<html>新京报</html>".encode(),
        "hints": {
            "title": "标题",
            "date": "2024-07-03",
            "list_url": "https://www.bjnews.com.cn/health",
            "author": "",
        },
        "mirrored": True,
    }
    return FetchedPage(**{**fields, **changes})  # type: ignore[arg-type]


def test_item_keeps_raw_bytes_and_list_hints() -> None:
    item = build_item(_page(), NOW)
    again = parse_message(CrawledItem, item.to_payload())
    assert again.body_bytes() == "<html>新京报</html>".encode()
    assert again.item_id == stable_id("https://www.bjnews.com.cn/detail/171991195531264.html")
    assert again.hints == {
        "title": "标题",
        "date": "2024-07-03",
        "list_url": "https://www.bjnews.com.cn/health",
        "original_url": "https://www.bjnews.com.cn/detail/171991195531264.html",
    }
    assert again.fetched_at == NOW
    assert again.url.startswith("http://127.0.0.1:8765/")


def test_live_items_carry_no_original_url_and_updates_say_so() -> None:
    real = "https://www.bjnews.com.cn/detail/171991195531264.html"
    item = build_item(_page(url=real, final_url=real, mirrored=False), NOW, updated=True)
    assert "original_url" not in item.hints
    assert item.hints["update"] == "1"


def test_item_id_is_the_same_for_equivalent_urls() -> None:
    a = build_item(_page(real_url="https://www.gov.cn/zhengce/content_1.htm?b=2&a=1#top"), NOW)
    b = build_item(_page(real_url="https://www.gov.cn/zhengce/content_1.htm?a=1&b=2"), NOW)
    assert a.item_id == b.item_id
