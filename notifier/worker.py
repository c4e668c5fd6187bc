"""The `notifier.handle_story_indexed` task: record each event once, however often delivered,
and mail the alerts it matches."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from celery import Celery

from hitwatch.broker import create_celery, register_task
from hitwatch.messages import StoryIndexed, parse_message
from hitwatch.settings import Settings
from hitwatch.store import Database, StoryEvent, open_database
from hitwatch.store.failures import open_failure_log
from hitwatch.tasks import BUILD_DIGEST, DELIVER_DIGEST, HANDLE_STORY_INDEXED, SEND_ALERT_BUNDLES
from notifier.alerts import AlertTasks
from notifier.digests import DigestTasks

__all__ = ["Notifier", "create_worker"]

log = logging.getLogger(__name__)


@dataclass
class Notifier:
    database: Database
    alerts: AlertTasks | None = None

    def handle(self, payload: dict[str, object]) -> None:
        event = parse_message(StoryIndexed, payload)
        self._record(event)
        # Also for an event seen before: the worker may have died before mailing its
        # alerts; the delivery claims make a second pass send nothing twice.
        if self.alerts is not None:
            self.alerts.handle(event)

    def _record(self, event: StoryIndexed) -> None:
        key = f"{event.doc_id}:{event.version}"
        with self.database.session() as session:
            if session.get(StoryEvent, key) is not None:
                return
            session.add(
                StoryEvent(
                    key=key,
                    doc_id=event.doc_id,
                    story_id=event.story_id,
                    new_story=event.new_story,
                    updated=event.updated,
                )
            )
        log.info(
            "%s story %s: %s (%s)",
            "new" if event.new_story else "updated" if event.updated else "copy in",
            event.story_id,
            event.title,
            event.source_name,
        )


def create_worker(settings: Settings) -> Celery:
    app = create_celery(settings, "notifier")
    database = open_database(settings.resolved_database_url)
    failures = open_failure_log(settings, database)
    digests = DigestTasks(database, settings)
    alerts = AlertTasks(database, settings)
    notifier = Notifier(database, alerts)
    register_task(app, HANDLE_STORY_INDEXED, notifier.handle, failures, settings)
    register_task(app, SEND_ALERT_BUNDLES, alerts.send_bundles, failures, settings)
    register_task(app, BUILD_DIGEST, digests.build, failures, settings)
    register_task(app, DELIVER_DIGEST, digests.deliver, failures, settings)
    return app
