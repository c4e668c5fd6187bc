"""Log output of every service: readable lines, or with LOG_FORMAT=json one JSON object
a line, so an operator can follow one item through the stages (`"item": "<url>"`)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from hitwatch.settings import Settings

__all__ = ["TASK_FIELDS", "JsonFormatter", "configure_logging"]

# What a task's outcome line carries besides its message (see hitwatch.broker).
TASK_FIELDS = ("task", "stage", "item", "outcome", "attempts", "duration_ms")


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC), level, logger, message, the task fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({key: getattr(record, key) for key in TASK_FIELDS if hasattr(record, key)})
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=settings.log_level, handlers=[handler], force=True)
