"""`hitwatch alerts`: list, add, remove alert rules, and try a query on recent stories."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy import select

from hitwatch.alerts.mail import alert_links
from hitwatch.alerts.posting import send_test
from hitwatch.alerts.rules import (
    AlertError,
    RuleStats,
    add_rule,
    delete_rule,
    request_alert,
    rule_stats,
)
from hitwatch.channels import ChannelError, HttpPoster
from hitwatch.errors import QueryError
from hitwatch.mail import AddressError
from hitwatch.policies import policy_views
from hitwatch.search import SHANGHAI, RuleMatcher, article_document, compile_rule
from hitwatch.settings import Settings, load_settings
from hitwatch.store import Database, open_database
from hitwatch.store.models import AlertRule, Article, Channel, Story

__all__ = ["alerts_group"]


@contextmanager
def _database() -> Iterator[tuple[Database, Settings]]:
    settings = load_settings()
    database = open_database(settings.resolved_database_url)
    try:
        yield database, settings
    except (AlertError, AddressError, ChannelError) as error:
        raise click.ClickException(str(error)) from None
    except QueryError as error:
        raise click.ClickException(f"bad query: {error}") from None
    finally:
        database.dispose()


def _state(rule: AlertRule) -> str:
    if not rule.confirmed:
        return "pending"
    return "active" if rule.active else "paused"


@click.group("alerts")
def alerts_group() -> None:
    """Alert rules: saved queries whose new matches are mailed (see README, Alerts)."""


@alerts_group.command("list")
@click.option("--email", help="Only the rules of this address.")
def list_command(email: str | None) -> None:
    """Every rule: id, state (pending, active, paused), address, mails sent, name, query."""
    with _database() as (database, _settings):
        with database.session() as session:
            query = select(AlertRule).order_by(AlertRule.id)
            if email:
                query = query.where(AlertRule.email == email.strip().lower())
            rules = session.scalars(query).all()
        stats = rule_stats(database, [rule.id for rule in rules])
    for rule in rules:
        offtopic = " +off-topic" if rule.include_offtopic else ""
        sent = stats.get(rule.id, RuleStats())
        click.echo(
            f"{rule.id:>5}  {_state(rule):<8} {rule.email:<32} sent {sent.sent:<4} "
            f"{rule.name or '-'}  [{rule.query}]{offtopic}"
        )
    click.echo(f"{len(rules)} rule(s)")


@alerts_group.command("add")
@click.argument("email")
@click.argument("query")
@click.option("--name", default="", help="What the alert is called in its e-mails.")
@click.option("--include-offtopic", is_flag=True, help="Also items judged off-topic.")
@click.option(
    "--confirmed/--send-confirmation",
    default=False,
    help="Active at once (the address agreed elsewhere), or mail the opt-in link (default).",
)
def add_command(email: str, query: str, name: str, include_offtopic: bool, confirmed: bool) -> None:
    """Add a rule for EMAIL on QUERY (the search box's query language)."""
    with _database() as (database, settings):
        if confirmed:
            rule = add_rule(database, email, query, name=name, include_offtopic=include_offtopic)
            click.echo(f"alert {rule.id} is active for {rule.email}")
            return
        from hitwatch.mail import open_transport

        asked = request_alert(
            database,
            settings,
            open_transport(settings),
            email,
            query,
            name=name,
            include_offtopic=include_offtopic,
            links=alert_links(
                settings.resolved_public_base_url, settings.secret_key.get_secret_value()
            ),
        )
        rule = asked.rule
        if asked.mailed:
            click.echo(
                f"alert {rule.id} is pending: a confirmation link was mailed to {rule.email}"
            )
        else:
            click.echo(
                f"alert {rule.id} is pending: its link was mailed to {rule.email} less than "
                "5 minutes ago, so it was not sent again"
            )


@alerts_group.command("remove")
@click.argument("rule_ids", nargs=-1, type=int, required=True)
def remove_command(rule_ids: tuple[int, ...]) -> None:
    """Delete rules (and their delivery records) by id."""
    with _database() as (database, _settings):
        for rule_id in rule_ids:
            delete_rule(database, None, rule_id)
            click.echo(f"alert {rule_id} removed")


@alerts_group.command("test")
@click.argument("query")
@click.option("--recent", default=1000, show_default=True, help="How many newest stories.")
@click.option("--include-offtopic", is_flag=True, help="Also items judged off-topic.")
def test_command(query: str, recent: int, include_offtopic: bool) -> None:
    """Which of the newest stories QUERY would have alerted on (nothing is sent)."""
    with _database() as (database, _settings):
        matcher = RuleMatcher([compile_rule(1, query, include_offtopic=include_offtopic)])
        with database.session() as session:
            rows = session.execute(
                select(Article)
                .join(Story, Story.canonical_doc_id == Article.id)
                .order_by(Story.published_at.desc().nulls_last(), Story.id)
                .limit(recent)
            ).scalars()
            articles = list(rows)
            views = policy_views(session, [article.id for article in articles])
            documents = [
                article_document(article, views[article.id].status, views[article.id].links)
                for article in articles
            ]
        matched = [document for document in documents if matcher.match(document)]
        for document in matched:
            day = (
                f"{document.published_at.astimezone(SHANGHAI):%Y-%m-%d}"
                if document.published_at
                else "----------"
            )
            click.echo(f"{day}  {document.source_name}  {document.title}  ({document.doc_id})")
        click.echo(f"{len(matched)} of the {len(documents)} newest stories match")


@alerts_group.command("channels")
@click.option("--email", help="Only the channels of this address.")
def channels_command(email: str | None) -> None:
    """Every channel: id, state, failures in a row, kind, owner, name, URL (shortened)."""
    with _database() as (database, _settings), database.session() as session:
        query = select(Channel).order_by(Channel.id)
        if email:
            query = query.where(Channel.owner_email == email.strip().lower())
        channels = session.scalars(query).all()
    for channel in channels:
        click.echo(
            f"{channel.id:>5}  {channel.state:<7} failures {channel.failures:<3} "
            f"{channel.kind:<9} {channel.owner_email:<32} {channel.name or '-'}  {channel.url_hint}"
        )
    click.echo(f"{len(channels)} channel(s)")


@alerts_group.command("test-channel")
@click.argument("channel_id", type=int)
def test_channel_command(channel_id: int) -> None:
    """Post one sample message to channel CHANNEL_ID now and say how it went."""
    with _database() as (database, settings):
        result = send_test(database, settings, HttpPoster.from_settings(settings), channel_id)
    status = f"HTTP {result.http_status}" if result.http_status else "no answer"
    if not result.ok:
        raise click.ClickException(
            f"channel {channel_id}: the test message failed ({status}, {result.duration_ms} ms):"
            f" {result.error}"
        )
    click.echo(f"channel {channel_id}: test message delivered ({status}, {result.duration_ms} ms)")
