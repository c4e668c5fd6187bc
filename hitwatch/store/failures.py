"""Failure records: every task that finally fails is kept with its payload, and replayable.

A record goes to the failure table; with the database down, to a Redis list; with Redis
down too, to a spool file on this machine (one JSON line each, synced to disk). Only
when all three refuse does `record` raise, and then the task must not be acknowledged.
`drain_pending` (run by `hitwatch failures list` and at every worker start) moves parked
records into the table.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import select

from hitwatch.settings import Settings
from hitwatch.store.db import Database
from hitwatch.store.models import Failure, utcnow

__all__ = [
    "FailureLog",
    "FailureNotRecordedError",
    "item_key",
    "open_failure_log",
    "spool_path",
]

log = logging.getLogger(__name__)

# Where a failure goes when the database itself is down; drained into the table later.
PENDING_KEY = "hitwatch:failures:pending"


def spool_path(data_dir: Path) -> Path:
    """The last-resort spool of this machine's workers (database and Redis both down)."""
    return data_dir / "failures-spool.jsonl"


def item_key(payload: dict[str, Any]) -> str:
    """What a payload is about, for people: its URL or id."""
    for key in ("url", "canonical_url", "doc_id", "item_id"):
        if payload.get(key):
            return str(payload[key])
    return ""


class FailureNotRecordedError(RuntimeError):
    """Neither the database, nor Redis, nor the spool file took a failure record."""


class FailureLog:
    def __init__(
        self, db: Database, redis_client: redis.Redis | None = None, spool: Path | None = None
    ) -> None:
        self.db = db
        self.redis = redis_client
        self.spool = spool

    def record(
        self, task_name: str, payload: dict[str, Any], exc: BaseException, attempts: int = 1
    ) -> None:
        row = {
            "task_name": task_name,
            "item_key": item_key(payload),
            "payload": payload,
            "error_type": type(exc).__name__,
            "error_message": str(exc)[:4000],
            "traceback": "".join(traceback.format_exception(exc))[-8000:],
            "attempts": attempts,
        }
        log.error("task %s failed for %s: %s", task_name, row["item_key"], row["error_message"])
        try:
            with self.db.session() as session:
                session.add(Failure(**row))
            return
        except Exception as error:
            log.error("database unavailable (%s); parking the failure", error)
        text = json.dumps(row, ensure_ascii=False)
        if self.redis is not None:
            try:
                self.redis.rpush(PENDING_KEY, text)
                return
            except redis.exceptions.RedisError as error:
                log.error("Redis unavailable too (%s)", error)
        if self.spool is not None:
            try:
                self._append_to_spool(text)
                log.error(
                    "failure kept in the spool file %s until the database is back", self.spool
                )
                return
            except OSError as error:
                log.error("spool file %s unwritable (%s)", self.spool, error)
        raise FailureNotRecordedError(f"failure of {task_name} for {row['item_key']} not recorded")

    def _append_to_spool(self, line: str) -> None:
        assert self.spool is not None
        self.spool.parent.mkdir(parents=True, exist_ok=True)
        with self.spool.open("a", encoding="utf-8") as out:
            fcntl.flock(out, fcntl.LOCK_EX)  # several worker processes share the file
            out.write(line + "\n")
            out.flush()
            os.fsync(out.fileno())

    def drain_pending(self) -> int:
        """Move failures parked in Redis or in the spool file into the table."""
        moved = 0
        if self.spool is not None and self.spool.exists():
            draining = self.spool.with_suffix(".draining")
            with self.spool.open("a", encoding="utf-8") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                if not draining.exists():
                    self.spool.replace(draining)
            rows = [json.loads(line) for line in draining.read_text("utf-8").splitlines() if line]
            with self.db.session() as session:
                session.add_all(Failure(**row) for row in rows)
            draining.unlink()
            moved += len(rows)
        if self.redis is None:
            return moved
        while (raw := self.redis.lpop(PENDING_KEY)) is not None:
            with self.db.session() as session:
                session.add(Failure(**json.loads(raw)))  # type: ignore[arg-type]
            moved += 1
        return moved

    def resolve_item(self, task_name: str, payload: dict[str, Any]) -> int:
        """Close the open failures of `task_name` for this payload's item: a redelivered
        copy of the message has just succeeded (an earlier delivery recorded a failure
        and then could not acknowledge, e.g. with the broker down), so a stored item
        keeps no failure record."""
        key = item_key(payload)
        with self.db.session() as session:
            rows = session.scalars(
                select(Failure).where(
                    Failure.task_name == task_name,
                    Failure.item_key == key,
                    Failure.resolved.is_(False),
                )
            ).all()
            for row in rows:
                row.resolved = True
                row.replayed_by = "redelivery"
                row.replayed_at = utcnow()
        return len(rows)

    def list(self, *, include_resolved: bool = False, limit: int = 50) -> Sequence[Failure]:
        query = select(Failure).order_by(Failure.id.desc()).limit(limit)
        if not include_resolved:
            query = query.where(Failure.resolved.is_(False))
        with self.db.session() as session:
            return session.scalars(query).all()

    def get(self, failure_id: int) -> Failure | None:
        with self.db.session() as session:
            return session.get(Failure, failure_id)

    def mark_replayed(self, failure_id: int, *, actor: str = "") -> None:
        """Record that the item was sent again, and by whom (for the audit trail)."""
        with self.db.session() as session:
            failure = session.get(Failure, failure_id)
            if failure is not None:
                failure.replayed_by = actor
                failure.replayed_at = utcnow()
                failure.replay_count += 1
                failure.resolved = True


def open_failure_log(settings: Settings, database: Database) -> FailureLog:
    """The failure log of a worker or command: the table, then Redis, then the spool."""
    client = redis.Redis.from_url(
        settings.resolved_redis_url, socket_connect_timeout=2, socket_timeout=5
    )
    return FailureLog(database, client, spool_path(settings.data_dir))
