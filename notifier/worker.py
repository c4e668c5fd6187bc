"""The `notifier.handle_story_indexed` task: record each event once, however often delivered,
and mail the alerts it matches."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import select

from hitwatch.batches import BatchWorker, each, parse_batch
from hitwatch.broker import create_celery
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
        [error] = self.handle_batch([payload])
        if error is not None:
            raise error

    def handle_batch(self, payloads: Sequence[dict[str, Any]]) -> list[BaseException | None]:
        """Record a batch of events in one transaction, then mail the alerts they match."""
        results, events = parse_batch(partial(parse_message, StoryIndexed), payloads)
        if not events:
            return results
        self._record([event for _, event in events])
        # Also for an event seen before: the worker may have died before mailing its
        # alerts; the delivery claims make a second pass send nothing twice.
        if self.alerts is not None:
            errors = self.alerts.handle_batch([event for _, event in events])
            for (position, _), error in zip(events, errors, strict=True):
                results[position] = error
        return results

    def _record(self, events: Sequence[StoryIndexed]) -> None:
        keyed = {f"{event.doc_id}:{event.version}": event for event in events}
        with self.database.session() as session:
            known = set(
                session.scalars(select(StoryEvent.key).where(StoryEvent.key.in_(list(keyed))))
            )
            for key, event in keyed.items():
                if key in known:
                    continue
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


def create_worker(settings: Settings) -> BatchWorker:
    app = create_celery(settings, "notifier")
    database = open_database(settings.resolved_database_url)
    failures = open_failure_log(settings, database)
    digests = DigestTasks(database, settings)
    alerts = AlertTasks(database, settings)
    notifier = Notifier(database, alerts)
    worker = BatchWorker(app, "notify", failures, settings)
    worker.handle(HANDLE_STORY_INDEXED, notifier.handle_batch)
    worker.handle(SEND_ALERT_BUNDLES, each(alerts.send_bundles))
    worker.handle(BUILD_DIGEST, each(digests.build))
    worker.handle(DELIVER_DIGEST, each(digests.deliver))
    return worker
