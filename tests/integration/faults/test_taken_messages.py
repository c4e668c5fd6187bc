"""A message a worker took off its queue while Redis went away is kept, on a real Redis
restarted under it (kombu writes it to the unacked hash in a second command, and dropped
it when that failed: the one item the issue saw lost per Redis restart)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import redis
from kombu import Connection

from hitwatch.broker import RedisTransport
from hitwatch.embedded import EmbeddedRedis
from tests.smtp import free_port

pytestmark = pytest.mark.requires_redis


def test_a_message_taken_while_redis_restarts_reaches_the_unacked_hash(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path, free_port())
    server.start()
    connection = Connection(server.url, transport=RedisTransport)
    try:
        channel = connection.default_channel
        payload = {
            "body": "e30=",
            "content-encoding": "utf-8",
            "content-type": "application/json",
            "headers": {},
            "properties": {
                "delivery_info": {"exchange": "", "routing_key": "classify"},
                "delivery_tag": "tag-1",
                "body_encoding": "base64",
            },
        }
        message = channel.Message(payload, channel=channel)
        server.stop()  # BRPOP has answered; Redis goes away before the second command
        restart = threading.Timer(2.0, server.start)
        restart.start()
        started = time.monotonic()
        channel.qos.append(message, "tag-1")
        waited = time.monotonic() - started
        restart.join()
        client = redis.Redis.from_url(server.url)
        assert client.hkeys("unacked") == [b"tag-1"]  # redelivered if this worker dies now
        assert client.zrange("unacked_index", 0, -1) == [b"tag-1"]
        client.close()
        assert waited >= 1.5
    finally:
        connection.release()
        server.stop()
