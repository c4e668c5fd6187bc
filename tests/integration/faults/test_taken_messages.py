"""A message a worker took off its queue is never dropped, on a real Redis: kombu takes it
with BRPOP and writes it to the unacked hash in a second command, so a Redis restart or a
worker killed between the two lost it. hitwatch.transport takes it into the worker's own
taking list (BLMOVE), leaves that list in the write to unacked, puts back what a dead
worker's list holds, and keeps trying the write while Redis restarts."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import redis
from kombu import Connection, Consumer, Exchange, Producer, Queue

from hitwatch.embedded import EmbeddedRedis
from hitwatch.transport import TAKERS_KEY, RedisTransport
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


def test_a_taken_message_is_in_the_taking_list_until_it_is_recorded_unacked(
    isolated_redis_url: str,
) -> None:
    connection = Connection(
        isolated_redis_url, transport=RedisTransport, transport_options={"priority_steps": [0]}
    )
    client = redis.Redis.from_url(isolated_redis_url)
    queue = Queue("classify", Exchange("classify"), "classify")
    seen: list[tuple[int, int]] = []
    try:
        channel = connection.default_channel
        Producer(channel).publish(
            {"n": 1}, exchange=queue.exchange, routing_key="classify", declare=[queue]
        )

        def received(body: object, message: object) -> None:
            taking = client.hkeys(TAKERS_KEY)
            held = sum(client.llen(key) for key in taking)
            seen.append((len(taking), held, client.hlen("unacked")))
            message.ack()  # type: ignore[attr-defined]

        with Consumer(channel, [queue], callbacks=[received], accept=["json"]):
            connection.drain_events(timeout=5)
        # Taken through this channel's taking list, recorded as unacked and out of the
        # list in one step.
        assert seen == [(1, 0, 1)]
        assert client.hlen("unacked") == 0
        assert client.llen("classify") == 0
    finally:
        connection.release()
        client.close()


def test_what_a_dead_worker_had_taken_goes_back_to_its_queue(isolated_redis_url: str) -> None:
    client = redis.Redis.from_url(isolated_redis_url)
    dead, alive = "hitwatch:taking:classify:dead", "hitwatch:taking:index:alive"
    client.lpush(dead, b"message-of-a-dead-worker")
    client.lpush(alive, b"message-being-taken")
    client.hset(TAKERS_KEY, mapping={dead: "classify", alive: "index"})
    client.set(alive + ":alive", 1, ex=60)  # its worker says it lives; no key for the dead one
    connection = Connection(isolated_redis_url, transport=RedisTransport)
    try:
        connection.default_channel.qos.restore_visible()  # every worker's unacked sweep
        assert client.lrange("classify", 0, -1) == [b"message-of-a-dead-worker"]
        assert client.llen(dead) == 0
        assert client.hkeys(TAKERS_KEY) == [alive.encode()]
        assert client.lrange(alive, 0, -1) == [b"message-being-taken"]  # left to its worker
        assert client.llen("index") == 0
    finally:
        connection.release()
        client.close()


def _publish(connection: Connection, queue: Queue, count: int) -> None:
    producer = Producer(connection.default_channel)
    for n in range(count):
        producer.publish({"n": n}, exchange=queue.exchange, routing_key=queue.name, declare=[queue])


def test_messages_taken_in_a_bunch_are_recorded_unacked_before_the_first_is_handed_over(
    isolated_redis_url: str,
) -> None:
    connection = Connection(
        isolated_redis_url, transport=RedisTransport, transport_options={"priority_steps": [0]}
    )
    client = redis.Redis.from_url(isolated_redis_url)
    queue = Queue("classify", Exchange("classify"), "classify")
    seen: list[tuple[int, int, int]] = []
    try:
        _publish(connection, queue, 5)
        received: list[object] = []

        def receive(body: object, message: object) -> None:
            held = sum(client.llen(key) for key in client.hkeys(TAKERS_KEY))
            seen.append((client.llen("classify"), held, client.hlen("unacked")))
            received.append(message)

        channel = connection.default_channel
        # Room for 3: one message, then two more in the same round trip.
        with Consumer(channel, [queue], callbacks=[receive], accept=["json"], prefetch_count=3):
            connection.drain_events(timeout=5)
            assert seen == [(2, 0, 3)] * 3  # all three recorded before the first ran
            for message in received:
                message.ack()  # type: ignore[attr-defined]
            connection.drain_events(timeout=5)
        assert len(received) == 5
        assert client.hlen("unacked") == 2  # the last two, not acknowledged
    finally:
        connection.release()  # puts them back on the queue
        client.close()
    client = redis.Redis.from_url(isolated_redis_url)
    assert client.hlen("unacked") == 0
    assert client.llen("classify") == 2
    client.close()


def test_messages_taken_in_a_bunch_but_not_handed_over_go_back_when_the_channel_closes(
    isolated_redis_url: str,
) -> None:
    connection = Connection(
        isolated_redis_url, transport=RedisTransport, transport_options={"priority_steps": [0]}
    )
    client = redis.Redis.from_url(isolated_redis_url)
    queue = Queue("classify", Exchange("classify"), "classify")
    try:
        _publish(connection, queue, 4)

        def receive(body: object, message: object) -> None:
            raise RuntimeError("the consumer fails on the first of the bunch")

        channel = connection.default_channel
        consumer = Consumer(
            channel, [queue], callbacks=[receive], accept=["json"], prefetch_count=10
        )
        with consumer, pytest.raises(RuntimeError):
            connection.drain_events(timeout=5)
        assert client.hlen("unacked") == 4
        assert client.llen("classify") == 0
    finally:
        connection.release()
    # The one handed over and the three never handed over: all back, none unacked.
    assert client.llen("classify") == 4
    assert client.hlen("unacked") == 0
    client.close()
