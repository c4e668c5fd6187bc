"""`hitwatch digest`: build, list, show, publish and correct digest issues from a shell."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime

import click
from sqlalchemy.orm import Session

from hitwatch.accounts import shell_actor
from hitwatch.digest import month_period, render_html, render_markdown, render_text, week_period
from hitwatch.digest.build import DigestKind
from hitwatch.digest.workflow import (
    DigestError,
    build_draft,
    correct_issue,
    issue_digest,
    issue_entries,
    list_issues,
    publish_issue,
)
from hitwatch.settings import Settings, load_settings
from hitwatch.store import open_database
from hitwatch.store.models import DigestIssue

__all__ = ["digest_group"]

RENDERERS = {"text": render_text, "md": render_markdown, "html": render_html}


@contextmanager
def _session() -> Iterator[tuple[Session, Settings]]:
    settings = load_settings()
    database = open_database(settings.resolved_database_url)
    try:
        with database.session() as session:
            yield session, settings
    except DigestError as error:
        raise click.ClickException(str(error)) from None
    finally:
        database.dispose()


def _issue(session: Session, issue_id: int) -> DigestIssue:
    issue = session.get(DigestIssue, issue_id)
    if issue is None:
        raise click.ClickException(str(DigestError("no_issue", issue=issue_id)))
    return issue


def _period(
    month: str | None, week: str | None, first: date | None, last: date | None
) -> tuple[date, date, DigestKind]:
    chosen = [bool(month), bool(week), bool(first or last)]
    if sum(chosen) != 1:
        raise click.UsageError("give exactly one of --month, --week or --from/--to")
    try:
        if month:
            return (*month_period(month), "monthly")
        if week:
            return (*week_period(week), "weekly")
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    if not (first and last):
        raise click.UsageError("--from and --to go together (YYYY-MM-DD)")
    return first, last, "custom"


@click.group("digest")
def digest_group() -> None:
    """Build, show and publish digests (the bulletin of relevant stories of a period)."""


@digest_group.command("build")
@click.option("--month", help="Calendar month, e.g. 2024-07.")
@click.option("--week", help="ISO week, e.g. 2024-W27.")
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), help="First day (custom).")
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), help="Last day (custom).")
def build_command(
    month: str | None, week: str | None, first: datetime | None, last: datetime | None
) -> None:
    """Create or refresh the draft for a period; the editor's changes are kept."""
    start, end, kind = _period(
        month, week, first.date() if first else None, last.date() if last else None
    )
    with _session() as (session, settings):
        issue = build_draft(session, settings, start, end, kind, actor=shell_actor())
        entries = issue_entries(session, issue)
        included = sum(1 for entry, _ in entries if entry.included)
        click.echo(
            f"digest {issue.id}: {kind} draft {start}..{end}, {included} of {len(entries)} "
            f"items included (revision {issue.revision})"
        )
        click.echo(f"review with `hitwatch digest show {issue.id}` or at /digests/{issue.id}")


@digest_group.command("list")
def list_command() -> None:
    """Every issue and revision, newest period first."""
    with _session() as (session, _):
        for issue in list_issues(session):
            number = f"第{issue.number}期" if issue.number is not None else "-"
            click.echo(
                f"{issue.id:>5}  {issue.kind:<8} {issue.period_start}..{issue.period_end}  "
                f"{issue.status:<9} {number} rev {issue.revision}"
            )


@digest_group.command("show")
@click.argument("issue_id", type=int)
@click.option(
    "--format", "fmt", type=click.Choice(sorted(RENDERERS)), default="text", show_default=True
)
def show_command(issue_id: int, fmt: str) -> None:
    """Print an issue: a published one exactly as published, a draft as it stands."""
    with _session() as (session, settings):
        issue = _issue(session, issue_id)
        snapshot = {
            "text": issue.text_snapshot,
            "md": issue.markdown_snapshot,
            "html": issue.html_snapshot,
        }[fmt]
        if issue.status == "published" and snapshot:
            click.echo(snapshot, nl=False)
        else:
            click.echo(RENDERERS[fmt](issue_digest(session, issue, settings)), nl=False)


@digest_group.command("publish")
@click.argument("issue_id", type=int)
def publish_command(issue_id: int) -> None:
    """Check, number and freeze a draft. A published issue never changes afterwards."""
    with _session() as (session, settings):
        issue = publish_issue(session, _issue(session, issue_id), settings, actor=shell_actor())
        click.echo(f"digest {issue.id} published as number {issue.number} (rev {issue.revision})")


@digest_group.command("deliver")
@click.argument("issue_id", type=int)
def deliver_command(issue_id: int) -> None:
    """Mail a published issue to its subscribers; each gets it once, however often run."""
    from hitwatch.digest.delivery import deliver_issue, subscriber_links
    from hitwatch.mail import open_transport

    settings = load_settings()
    database = open_database(settings.resolved_database_url)
    try:
        report = deliver_issue(
            database,
            settings,
            open_transport(settings),
            issue_id,
            links=subscriber_links(settings.resolved_public_base_url),
        )
    except DigestError as error:
        raise click.ClickException(str(error)) from None
    finally:
        database.dispose()
    click.echo(
        f"digest {issue_id}: sent {report.sent}, already sent {report.already_sent}, "
        f"nothing matching filters {report.skipped_empty}, failed {len(report.failed)}"
    )
    if report.failed:
        raise click.ClickException(
            f"{len(report.failed)} sends failed (kept as failed, retried by the next run): "
            + ", ".join(report.failed)
        )


@digest_group.command("correct")
@click.argument("issue_id", type=int)
@click.option("--note", required=True, help="What was corrected; printed in the issue.")
def correct_command(issue_id: int, note: str) -> None:
    """Open a correction of a published issue: a new draft revision with a visible note."""
    with _session() as (session, _):
        draft = correct_issue(session, _issue(session, issue_id), note, actor=shell_actor())
        click.echo(
            f"digest {draft.id}: correction draft (revision {draft.revision}); "
            f"edit it, then `hitwatch digest publish {draft.id}`"
        )
