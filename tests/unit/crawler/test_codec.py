"""The request-queue codec: JSON only, Scrapy's own request classes only."""

from __future__ import annotations

import json
import pickle

import pytest
from scrapy import Request, Spider
from scrapy.http import FormRequest
from scrapy.utils.request import request_from_dict

from crawler import codec
from crawler.codec import QueueCodecError
from crawler.config import scrapy_settings
from hitwatch.sources import load_sources


class _Spider(Spider):
    name = "codec"

    def parse_item(self, response: object) -> None:
        """A named callback, as the queue stores callbacks by name."""


def test_form_request_round_trips_with_body_headers_and_meta() -> None:
    spider = _Spider()
    request = FormRequest(
        "https://example.cn/list",
        formdata={"page": "2", "名称": "通知"},
        headers={"If-None-Match": '"abc"'},
        meta={"kind": "list", "page": 2, "hints": {"title": "标题"}, "raw": b"\x00\xff"},
        callback=spider.parse_item,
        dont_filter=True,
    )
    raw = codec.dumps(request.to_dict(spider=spider))
    json.loads(raw)  # plain JSON on the wire
    back = request_from_dict(codec.loads(raw), spider=spider)
    assert type(back) is FormRequest
    assert (back.url, back.method, back.body) == (request.url, "POST", request.body)
    assert back.headers.get("If-None-Match") == b'"abc"'
    assert back.meta == request.meta
    assert back.callback == spider.parse_item
    assert back.dont_filter is True


def test_pickled_requests_are_refused() -> None:
    payload = pickle.dumps({"url": "https://example.cn/"})
    with pytest.raises(QueueCodecError, match="not valid JSON"):
        codec.loads(payload)


def test_a_request_class_outside_scrapy_is_refused() -> None:
    raw = json.dumps({"url": "https://example.cn/", "_class": "subprocess.Popen"})
    with pytest.raises(QueueCodecError, match="not allowed"):
        codec.loads(raw)


def test_meta_that_is_not_plain_data_is_refused_when_queued() -> None:
    request = Request("https://example.cn/", meta={"spider": object()})
    with pytest.raises(QueueCodecError, match="plain data"):
        codec.dumps(request.to_dict())


def test_crawl_settings_use_the_json_codec(settings) -> None:
    source = load_sources()[0]
    options = scrapy_settings(settings, source, run_key="run")
    assert options["SCHEDULER_SERIALIZER"] == "crawler.codec"
