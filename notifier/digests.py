"""Digest tasks: build the draft when a period closes, deliver a published issue (by
e-mail, and to the channels its subscribers picked)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hitwatch.alerts.mail import alert_links
from hitwatch.channels import HttpPoster, Poster
from hitwatch.digest.build import month_period, week_period
from hitwatch.digest.channels import post_issue
from hitwatch.digest.delivery import deliver_issue, subscriber_links
from hitwatch.digest.workflow import DigestError, build_draft
from hitwatch.errors import TransientError
from hitwatch.mail import open_transport
from hitwatch.messages import DigestDue, DigestPublished, parse_message
from hitwatch.settings import Settings
from hitwatch.store import Database

__all__ = ["DigestTasks", "closed_period"]

log = logging.getLogger(__name__)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def closed_period(kind: str, today: date) -> tuple[date, date]:
    """The last complete calendar month, or ISO week, before `today`."""
    if kind == "weekly":
        year, week, _ = (today - timedelta(days=7)).isocalendar()
        return week_period(f"{year}-W{week:02d}")
    last_month = today.replace(day=1) - timedelta(days=1)
    return month_period(f"{last_month:%Y-%m}")


@dataclass
class DigestTasks:
    database: Database
    settings: Settings
    poster: Callable[[Settings], Poster] = HttpPoster.from_settings

    def build(self, payload: dict[str, object]) -> None:
        due = parse_message(DigestDue, payload)
        start, end = closed_period(due.kind, datetime.now(SHANGHAI).date())
        try:
            with self.database.session() as session:
                issue = build_draft(session, self.settings, start, end, due.kind)
                log.info("%s digest draft #%s for %s..%s is ready", due.kind, issue.id, start, end)
        except DigestError as error:
            if error.key != "empty_period":
                raise
            log.info(
                "no %s digest for %s..%s: no relevant story in the period", due.kind, start, end
            )

    def deliver(self, payload: dict[str, object]) -> None:
        event = parse_message(DigestPublished, payload)
        transport = open_transport(self.settings)
        report = deliver_issue(
            self.database,
            self.settings,
            transport,
            event.issue_id,
            links=subscriber_links(self.settings.resolved_public_base_url),
        )
        links = alert_links(
            self.settings.resolved_public_base_url, self.settings.secret_key.get_secret_value()
        )
        posts = post_issue(
            self.database,
            self.settings,
            self.poster(self.settings),
            transport,
            event.issue_id,
            manage_url=links.manage,
        )
        log.info("digest issue %s delivered: %s; channels: %s", event.issue_id, report, posts)
        if report.failed or posts.retry or posts.busy:
            # Sends that failed stay recorded; retrying the task retries only those.
            raise TransientError(
                f"{len(report.failed)} digest e-mail(s) and {len(posts.retry)} channel post(s) "
                f"failed, {posts.busy} being posted elsewhere; will retry"
            )
