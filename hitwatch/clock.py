"""Beijing time, the one time zone hitwatch shows: the bulletin's periods, the search's
month filters, the web pages and the command line all speak it (and say so)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

__all__ = ["SHANGHAI", "ZONE_LABEL", "beijing_time"]

# China has kept UTC+8 without daylight saving since 1991; a fixed offset needs no tzdata.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")
ZONE_LABEL = "UTC+8"


def beijing_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored (UTC) or zoned datetime as Beijing wall time; empty for unknown dates."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(SHANGHAI).strftime(fmt)
