"""Pure functions turning stored values into what a reader sees (dates, paragraphs)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from hitwatch.clock import SHANGHAI, beijing_time

__all__ = [
    "ENTITY_LABELS",
    "SHANGHAI",
    "SOURCE_KINDS",
    "day_range",
    "local_time",
    "paragraphs",
    "parse_day",
    "plain_value",
]

SOURCE_KINDS = {"government": "政府网站", "media": "媒体", "aggregator": "聚合平台"}

# Entity kinds the classifier may emit -> their label; unknown kinds are shown as given.
# Entity kinds as the classifier's dictionary (classifier/entities.yaml) names them.
ENTITY_LABELS = {
    "company": "企业",
    "product": "产品",
    "hospital": "医院",
    "government": "政府机构",
}

local_time = beijing_time  # the pages' name for it (a template filter)


def parse_day(text: str | None) -> date | None:
    """A YYYY-MM-DD form field; None when empty. Raises ValueError on anything else."""
    text = (text or "").strip()
    if not text:
        return None
    return date.fromisoformat(text)


def day_range(first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]:
    """Inclusive Shanghai calendar days -> [start, end) instants for a search request."""
    start = datetime.combine(first, time(), SHANGHAI) if first else None
    end = datetime.combine(last + timedelta(days=1), time(), SHANGHAI) if last else None
    return start, end


def paragraphs(body: str) -> list[str]:
    """The cleaned body's paragraphs (one per line), blank lines dropped."""
    return [line.strip() for line in body.splitlines() if line.strip()]


def plain_value(value: Any) -> str:
    """A JSON value from the classifier's evidence, as one readable line."""
    if isinstance(value, dict):
        return "；".join(f"{key}: {plain_value(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return "、".join(plain_value(item) for item in value)
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)
