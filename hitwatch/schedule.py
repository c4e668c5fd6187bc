"""What the scheduler (Celery beat) sends, and when."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery.schedules import crontab

from hitwatch.messages import DigestDue
from hitwatch.settings import Settings
from hitwatch.sources import configured_sources
from hitwatch.tasks import BUILD_DIGEST, CRAWL_SOURCE, queue_for

__all__ = ["beat_schedule"]


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """One periodic crawl per enabled source, at the interval its definition gives, and
    the draft digests built when a month (1st, 06:00) or a week (Monday 06:00) closes.
    Times are Asia/Shanghai (the Celery app's timezone)."""
    digests = {
        f"{kind} digest draft": {
            "task": BUILD_DIGEST,
            "schedule": when,
            "args": [DigestDue(kind=kind).to_payload()],
            "options": {"queue": queue_for(BUILD_DIGEST)},
        }
        for kind, when in (
            ("monthly", crontab(minute=0, hour=6, day_of_month=1)),
            ("weekly", crontab(minute=0, hour=6, day_of_week=1)),
        )
    }
    crawls = {
        f"crawl {source.id}": {
            "task": CRAWL_SOURCE,
            "schedule": timedelta(minutes=source.interval_minutes),
            "args": [{"source_id": source.id}],
            "options": {"queue": queue_for(CRAWL_SOURCE)},
        }
        for source in configured_sources(settings)
        if source.enabled
    }
    return crawls | digests
