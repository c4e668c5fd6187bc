"""What the scheduler (Celery beat) sends, and when."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hitwatch.sources import load_sources
from hitwatch.tasks import CRAWL_SOURCE, queue_for

__all__ = ["beat_schedule"]


def beat_schedule() -> dict[str, dict[str, Any]]:
    """One periodic crawl per enabled source, at the interval its definition gives."""
    return {
        f"crawl {source.id}": {
            "task": CRAWL_SOURCE,
            "schedule": timedelta(minutes=source.interval_minutes),
            "args": [{"source_id": source.id}],
            "options": {"queue": queue_for(CRAWL_SOURCE)},
        }
        for source in load_sources()
        if source.enabled
    }
