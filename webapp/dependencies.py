"""What the views need from outside, injected by `create_app` and kept on the app."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from flask import current_app

from hitwatch.search import SearchIndex
from hitwatch.settings import Settings
from hitwatch.store import Database

__all__ = ["Dependencies", "TaskSender", "dependencies"]


class TaskSender(Protocol):
    """The part of a Celery app the web app uses: sending a named task to a queue."""

    def send_task(self, name: str, args: Any = None, **options: Any) -> Any: ...


@dataclass
class Dependencies:
    settings: Settings
    database: Database
    search_index: SearchIndex
    _celery: TaskSender | None = field(default=None, repr=False)

    def celery(self) -> TaskSender:
        """The broker connection, created on first use (most pages never need it)."""
        if self._celery is None:
            from hitwatch.broker import create_celery

            self._celery = create_celery(self.settings, "webapp")
        return self._celery


def dependencies() -> Dependencies:
    deps: Dependencies = current_app.extensions["hitwatch"]
    return deps
