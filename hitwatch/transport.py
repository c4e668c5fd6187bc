"""kombu's Redis transport, made so that a message taken off a queue is never dropped.

kombu takes a message with BRPOP and then, in a second command, writes it to the
`unacked` hash from which a dead worker's messages are delivered again. Between the two
the message lives only in the worker's memory: a worker killed there (SIGKILL, the OOM
killer, a lost machine) or a Redis restart there loses it. Here:

- A channel consuming one queue takes with BLMOVE into a list of its own ("taking"
  list), and removes the message from that list in the same transaction that writes it
  to `unacked`. A worker that dies in between leaves it in its taking list; the next
  unacked sweep of any worker puts it back on its queue once the dead worker's liveness
  key has expired. (Several queues at once fall back to kombu's BRPOP.)
- The write to `unacked` is retried while Redis restarts (its lists come back from the
  append-only file), so the message is either run or delivered again; a worker asked to
  stop gives up at once and leaves the message in its taking list.
- A consumer with prefetch room takes, after the BLMOVE that woke it, up to that room
  more in one round trip (a Lua script of LMOVEs into its taking list) and records them
  all in `unacked` in one transaction before handing the first over; what it had not
  handed over when its channel closes goes back to the queue. A batch worker's
  acknowledgements of one batch are one round trip too (`acknowledging_together`).
- One redis-py client per channel: kombu builds a new client (hundreds of command
  callbacks) for every publish and every acknowledgement, a third of a batch worker's
  time per message.

Messages are taken at most twice, never lost: handlers are idempotent by item id.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from queue import Empty
from typing import Any

import kombu.transport.redis
import kombu.transport.virtual
import redis
from kombu.utils.json import dumps, loads

__all__ = ["TAKERS_KEY", "RedisTransport"]

log = logging.getLogger(__name__)

# Moves up to ARGV[1] messages from a queue to a taking list; returns them.
_TAKE_MORE = """
local taken = {}
for _ = 1, tonumber(ARGV[1]) do
  local message = redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT')
  if not message then break end
  taken[#taken + 1] = message
end
return taken
"""
# How long a worker keeps a message it took while Redis restarts.
TAKEN_MESSAGE_PATIENCE = 600.0
# Hash: taking list -> its queue, for every consuming channel that registered one.
TAKERS_KEY = "hitwatch:takers"
# A taking list whose owner has not said it is alive for this long is put back.
TAKER_ALIVE_SECONDS = 15
TAKER_REFRESH_SECONDS = 3


class _KeepTakenMessages(kombu.transport.redis.QoS):
    _held_acks: list[str] | None = None

    @contextmanager
    def acknowledging_together(self) -> Iterator[None]:
        """Acknowledgements made inside reach Redis in one round trip at the end (kombu
        makes one per message). Until then the messages stay unacknowledged: a worker
        that dies first has them delivered again."""
        self._held_acks = []
        try:
            yield
        finally:
            held, self._held_acks = self._held_acks, None
            if held:
                with self.pipe_or_acquire() as pipe:
                    pipe.zrem(self.unacked_index_key, *held)
                    pipe.hdel(self.unacked_key, *held)
                    pipe.execute()
                for tag in held:
                    kombu.transport.virtual.QoS.ack(self, tag)  # type: ignore[no-untyped-call]

    def ack(self, delivery_tag: str) -> None:
        if self._held_acks is not None:
            self._held_acks.append(delivery_tag)
            return
        super().ack(delivery_tag)  # type: ignore[no-untyped-call]

    def append(self, message: Any, delivery_tag: str) -> None:
        channel: _Channel = self.channel
        if delivery_tag in channel.recorded:  # taken with others, recorded with them
            channel.recorded.discard(delivery_tag)
        else:
            delivery = message.delivery_info
            raw = dumps([message._raw, delivery["exchange"], delivery["routing_key"]])  # type: ignore[no-untyped-call]
            channel.record_unacked(
                {delivery_tag: raw}, [] if channel.taken is None else [channel.taken]
            )
        kombu.transport.virtual.QoS.append(self, message, delivery_tag)  # type: ignore[no-untyped-call]

    def restore_visible(self, start: int = 0, num: int = 10, interval: int = 10) -> None:
        super().restore_visible(start, num, interval)  # type: ignore[no-untyped-call]
        try:
            self._return_orphans()
        except redis.exceptions.RedisError as error:  # the next sweep tries again
            log.warning("taking lists of dead workers not checked: %s", error)

    def _return_orphans(self) -> None:
        """Put back on its queue what a dead worker had taken but not yet recorded."""
        with self.channel.conn_or_acquire() as client:
            for key, queue in client.hgetall(TAKERS_KEY).items():
                if client.exists(key + b":alive"):
                    continue
                returned = 0
                while client.lmove(key, queue, "RIGHT", "RIGHT") is not None:
                    returned += 1
                client.hdel(TAKERS_KEY, key)
                if returned:
                    log.warning(
                        "%d message(s) taken by a dead worker put back on %s",
                        returned,
                        queue.decode(),
                    )


class _Channel(kombu.transport.redis.Channel):
    QoS = _KeepTakenMessages
    _shared_client: Any = None
    # The message between BLMOVE and its write to `unacked` (raw bytes), else None.
    taken: bytes | None = None
    taking_key = ""
    _taking_queue = ""  # the queue of `taking_key`
    _taking_from = ""  # that queue while a BLMOVE is in flight, else ""
    _alive_said = 0.0
    # Whether the consumer was asked to stop, when waits for Redis give up (set by it).
    stopping: Callable[[], bool] = staticmethod(lambda: False)
    _take_script: Any = None

    @property
    def recorded(self) -> set[str]:
        """Delivery tags taken in a bunch and already written to `unacked`, not yet handed
        to the consumer."""
        if "_recorded" not in self.__dict__:
            self.__dict__["_recorded"] = set()
        return self.__dict__["_recorded"]  # type: ignore[no-any-return]

    def record_unacked(self, records: dict[str, str], taken: list[bytes]) -> None:
        """kombu's write of taken messages to `unacked`, plus: `taken`, the latest taken,
        off the taking list in the same transaction; tried again while Redis restarts."""
        qos = self.qos
        deadline = time.monotonic() + TAKEN_MESSAGE_PATIENCE
        warned = 0.0
        while True:
            try:
                with self.conn_or_acquire() as client:
                    pipe = client.pipeline()
                    pipe.zadd(qos.unacked_index_key, dict.fromkeys(records, time.time()))
                    pipe.hset(qos.unacked_key, mapping=records)
                    if taken:
                        # The list holds this take alone (a channel whose write failed is
                        # replaced and its list emptied on close), so one LTRIM, not an
                        # LREM comparing each whole message; tried again, it trims nothing.
                        pipe.ltrim(self.taking_key, len(taken), -1)
                    pipe.execute()
                return
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as error:
                if time.monotonic() > deadline or self.stopping():
                    # Still in the taking list: put back by the next sweep once this
                    # worker's liveness key has expired.
                    raise
                if time.monotonic() - warned > 10:
                    log.error(
                        "%d message(s) taken but Redis is away (%s); keeping them",
                        len(records),
                        error,
                    )
                    warned = time.monotonic()
                time.sleep(0.5)

    def _take_more(self, queue: str) -> list[bytes]:
        """Up to the prefetch room left after one message, more of the queue's messages
        into the taking list in one round trip (kombu takes one per round trip)."""
        room = (self.qos.can_consume_max_estimate() or 0) - 1
        if room <= 0:
            return []
        try:
            with self.conn_or_acquire() as client:
                if self._take_script is None:
                    self._take_script = client.register_script(_TAKE_MORE)
                return list(self._take_script(keys=[queue, self.taking_key], args=[room]))
        except redis.exceptions.RedisError as error:  # what it moved: put back on close
            log.debug("no more messages taken: %s", error)
            return []

    @contextmanager
    def conn_or_acquire(self, client: Any = None) -> Iterator[Any]:
        if client:
            yield client
            return
        if self._shared_client is None:
            self._shared_client = self._create_client()  # type: ignore[no-untyped-call]
        yield self._shared_client

    def _brpop_start(self, timeout: int | None = None) -> None:
        queues = self._queue_cycle.consume(len(self.active_queues))
        keys = [
            self._q_for_pri(queue, pri)  # type: ignore[no-untyped-call]
            for pri in self.priority_steps
            for queue in queues
        ]
        if len(keys) != 1 or self.global_keyprefix:
            self._taking_from = ""
            super()._brpop_start(timeout)  # type: ignore[no-untyped-call]
            return
        self._taking_from = keys[0]
        if not self.taking_key:
            self.taking_key = f"hitwatch:taking:{keys[0]}:{uuid.uuid4().hex}"
            self._taking_queue = keys[0]
        self._say_alive()
        self._in_poll = self.client.connection
        self._brpop_sent_at = time.monotonic()  # type: ignore[assignment]
        wait = self.brpop_timeout if timeout is None else timeout
        self.client.connection.send_command(
            "BLMOVE", keys[0], self.taking_key, "RIGHT", "LEFT", wait or 0
        )

    def _say_alive(self) -> None:
        if time.monotonic() - self._alive_said < TAKER_REFRESH_SECONDS:
            return
        with self.conn_or_acquire() as client:
            client.pipeline().hset(TAKERS_KEY, self.taking_key, self._taking_queue).set(
                self.taking_key + ":alive", 1, ex=TAKER_ALIVE_SECONDS
            ).execute()
        self._alive_said = time.monotonic()

    def _brpop_read(self, **options: Any) -> bool:
        if not self._taking_from:
            return bool(super()._brpop_read(**options))  # type: ignore[no-untyped-call]
        try:
            try:
                item = self.client.parse_response(self.client.connection, "BLMOVE", **options)
            except self.connection_errors:
                self.client.connection.disconnect()
                raise
            if item is None:
                raise Empty()
            self._queue_cycle.rotate(self._taking_from)
            more = self._take_more(self._taking_from)
            payloads = [loads(raw.decode()) for raw in (item, *more)]  # type: ignore[no-untyped-call]
            if more:
                records = {
                    payload["properties"]["delivery_tag"]: dumps(  # type: ignore[no-untyped-call]
                        [
                            payload,
                            payload["properties"]["delivery_info"]["exchange"],
                            payload["properties"]["delivery_info"]["routing_key"],
                        ]
                    )
                    for payload in payloads
                }
                self.record_unacked(records, [item, *more])
                self.recorded.update(records)
            else:
                self.taken = item
            try:
                for payload in payloads:
                    self.connection._deliver(payload, self._taking_from)
            finally:
                self.taken = None
            return True
        finally:
            self._in_poll = None  # type: ignore[assignment]
            self._flush_brpop_reauth()  # type: ignore[no-untyped-call]

    def close(self) -> None:
        if self.recorded:  # taken in a bunch, not handed over: back to their queue now
            try:
                with self.conn_or_acquire() as client:
                    for tag in self.recorded:
                        self.qos.restore_by_tag(tag, client, leftmost=True)
                self.recorded.clear()
            except redis.exceptions.RedisError as error:  # in `unacked`: restored later
                log.warning("messages taken but not handed over not put back: %s", error)
        if self.taking_key:
            try:
                with self.conn_or_acquire() as client:
                    # Empty unless a message was being taken: put it back, then leave.
                    while client.lmove(self.taking_key, self._taking_queue, "RIGHT", "RIGHT"):
                        pass
                    client.hdel(TAKERS_KEY, self.taking_key)
                    client.delete(self.taking_key + ":alive")
            except redis.exceptions.RedisError as error:  # the sweep of another worker will
                log.warning("taking list %s not cleared on close: %s", self.taking_key, error)
        super().close()  # type: ignore[no-untyped-call]


class RedisTransport(kombu.transport.redis.Transport):
    """kombu's Redis transport with `_Channel` (see the module's docstring)."""

    Channel = _Channel
