"""Failure records: every task that finally fails is kept with its payload, and replayable."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Sequence
from typing import Any

import redis
from sqlalchemy import select

from hitwatch.store.db import Database
from hitwatch.store.models import Failure, utcnow

__all__ = ["FailureLog"]

log = logging.getLogger(__name__)

# Where a failure goes when the database itself is down; drained into the table later.
PENDING_KEY = "hitwatch:failures:pending"


def _item_key(payload: dict[str, Any]) -> str:
    for key in ("url", "canonical_url", "doc_id", "item_id"):
        if payload.get(key):
            return str(payload[key])
    return ""


class FailureLog:
    def __init__(self, db: Database, redis_client: redis.Redis | None = None) -> None:
        self.db = db
        self.redis = redis_client

    def record(
        self, task_name: str, payload: dict[str, Any], exc: BaseException, attempts: int = 1
    ) -> None:
        row = {
            "task_name": task_name,
            "item_key": _item_key(payload),
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
        except Exception:
            if self.redis is None:
                raise
            log.exception("database unavailable; keeping the failure in Redis until it is back")
            self.redis.rpush(PENDING_KEY, json.dumps(row, ensure_ascii=False))

    def drain_pending(self) -> int:
        """Move failures parked in Redis (database was down) into the table."""
        if self.redis is None:
            return 0
        moved = 0
        while (raw := self.redis.lpop(PENDING_KEY)) is not None:
            with self.db.session() as session:
                session.add(Failure(**json.loads(raw)))  # type: ignore[arg-type]
            moved += 1
        return moved

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
