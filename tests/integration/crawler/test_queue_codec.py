"""The shared request queue on a real Redis holds JSON and gives the request back."""

from __future__ import annotations

import json

import redis
from scrapy import Spider
from scrapy.http import FormRequest
from scrapy_redis.queue import FifoQueue

from crawler import codec


class _Spider(Spider):
    name = "queue-codec"

    def parse_list(self, response: object) -> None:
        """Named callback stored in the queue."""


def test_requests_round_trip_through_redis_as_json(isolated_redis_url: str) -> None:
    client = redis.Redis.from_url(isolated_redis_url)
    spider = _Spider()
    queue = FifoQueue(client, spider, "run:%(spider)s:requests", serializer=codec)
    request = FormRequest(
        "https://example.cn/dataproxy.jsp",
        formdata={"page": "3"},
        meta={"kind": "list", "page": 3, "real_url": "https://example.cn/list"},
        callback=spider.parse_list,
    )
    queue.push(request)
    stored = client.lrange("run:queue-codec:requests", 0, -1)
    assert len(stored) == 1
    assert json.loads(stored[0])["url"] == request.url  # JSON, not a pickle
    back = queue.pop()
    assert back is not None
    assert (type(back), back.url, back.body, back.meta) == (
        FormRequest,
        request.url,
        request.body,
        request.meta,
    )
    assert back.callback == spider.parse_list
    assert len(queue) == 0
    client.close()
