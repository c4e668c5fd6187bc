"""Alert matching on "story indexed": load the document, match every confirmed rule, mail
it and post it to the rules' channels.

The compiled rules are kept between events and reloaded only when the rules table
changed (one cheap aggregate query per event), so 10,000 rules are parsed once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from hitwatch.alerts.bundles import send_due
from hitwatch.alerts.delivery import deliver_matches, load_documents
from hitwatch.alerts.mail import AlertLinks, alert_links
from hitwatch.alerts.posting import post_matches
from hitwatch.alerts.rules import load_matcher, rules_version
from hitwatch.channels import HttpPoster, Poster
from hitwatch.errors import TransientError
from hitwatch.mail import MailTransport, open_transport
from hitwatch.messages import AlertsDue, StoryIndexed, parse_message
from hitwatch.search import RuleMatcher, SearchDocument, positive_terms
from hitwatch.settings import Settings
from hitwatch.store import Database

__all__ = ["AlertTasks"]

log = logging.getLogger(__name__)


@dataclass
class AlertTasks:
    database: Database
    settings: Settings
    transport: Callable[[Settings], MailTransport] = open_transport
    poster: Callable[[Settings], Poster] = HttpPoster.from_settings
    _matcher: RuleMatcher = field(default_factory=RuleMatcher, repr=False)
    _version: object = field(default=None, repr=False)

    def matcher(self) -> RuleMatcher:
        """The compiled rules, reloaded when any rule was added, changed or deleted."""
        with self.database.session() as session:
            version = rules_version(session)
            if version != self._version:
                self._matcher = load_matcher(session)
                self._version = version
                log.info("alert rules loaded: %d active", len(self._matcher))
        return self._matcher

    def _links(self) -> AlertLinks:
        return alert_links(
            self.settings.resolved_public_base_url, self.settings.secret_key.get_secret_value()
        )

    def send_bundles(self, payload: dict[str, object]) -> None:
        """The scheduler's tick: held and bundled matches whose time has come, heartbeats."""
        parse_message(AlertsDue, payload)
        report = send_due(
            self.database,
            self.settings,
            self.poster(self.settings),
            self.transport(self.settings),
            self._links(),
        )
        if report.mails or report.posts or report.heartbeats or report.failed:
            log.info("alert tick: %s", report)

    def handle(self, event: StoryIndexed) -> None:
        [error] = self.handle_batch([event])
        if error is not None:
            raise error

    def handle_batch(self, events: Sequence[StoryIndexed]) -> list[BaseException | None]:
        """Alerts for a batch of events, the rules looked up once; each event's error."""
        # A copy joining a known story is not news; a new story or a changed text is. A
        # reclassified document is old news under a new classification: no alert.
        news = [
            (position, event)
            for position, event in enumerate(events)
            if not event.reclassified and (event.new_story or event.updated)
        ]
        results: list[BaseException | None] = [None] * len(events)
        if not news:
            return results
        matcher = self.matcher()
        if not len(matcher):
            return results
        # One SMTP connection carries the batch's mails (was one per mail: connecting took
        # a third of the sending).
        try:
            documents = load_documents(self.database, [event.doc_id for _, event in news])
        except Exception as exc:  # the store is away: each event is tried again
            for position, _ in news:
                results[position] = exc
            return results
        transport = self.transport(self.settings)
        with transport.batch():
            for position, event in news:
                try:
                    self._alert(event, documents.get(event.doc_id), matcher, transport)
                except Exception as exc:
                    results[position] = exc
        return results

    def _alert(
        self,
        event: StoryIndexed,
        document: SearchDocument | None,
        matcher: RuleMatcher,
        transport: MailTransport,
    ) -> None:
        if document is None:
            raise TransientError(f"document {event.doc_id} is not in the store yet")
        matched = matcher.matching_rules(document)
        if not matched:
            return
        links = self._links()
        report = deliver_matches(self.database, self.settings, transport, document, matched, links)
        terms = {rule.id: [term.text for term in positive_terms(rule.query)] for rule in matched}
        posts = post_matches(
            self.database,
            self.settings,
            self.poster(self.settings),
            transport,
            document,
            terms,
            links,
        )
        log.info("alerts for story %s: %s; channels: %s", event.story_id, report, posts)
        if report.failed or report.busy or posts.retry or posts.busy:
            # Failed sends stay recorded and are retried; a fresh claim by another worker
            # is looked at again later (it is taken over if that worker died).
            raise TransientError(
                f"{len(report.failed)} alert e-mail(s) and {len(posts.retry)} channel post(s) "
                f"failed, {report.busy + posts.busy} being sent elsewhere"
            )
