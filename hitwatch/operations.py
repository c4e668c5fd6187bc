"""Operator commands: migrate, settings, check, failures, worker, scheduler."""

from __future__ import annotations

import importlib
import json
import logging
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from types import FrameType

import click
import redis

from hitwatch import settings as settings_module
from hitwatch.accounts.audit import record_event, shell_actor
from hitwatch.batches import BatchWorker
from hitwatch.broker import create_celery
from hitwatch.clock import ZONE_LABEL, beijing_time
from hitwatch.logs import configure_logging
from hitwatch.secret_key import require_secret_key
from hitwatch.settings import Settings, load_settings
from hitwatch.store import open_database
from hitwatch.store.failures import FailureLog, open_failure_log
from hitwatch.tasks import TASK_QUEUES

__all__ = [
    "check_command",
    "failures_group",
    "migrate_command",
    "scheduler_command",
    "settings_command",
    "worker_command",
]

log = logging.getLogger(__name__)

# queue -> module whose create_worker(settings) builds the worker that consumes it: a
# BatchWorker for the batched queues, a Celery app for the others
BATCH_QUEUES = ("classify", "index", "notify")
WORKERS: dict[str, str] = {
    "crawl": "crawler.worker",
    "classify": "classifier.worker",
    "index": "indexer.worker",
    "notify": "notifier.worker",
}


@contextmanager
def _failure_log(settings: Settings) -> Iterator[FailureLog]:
    database = open_database(settings.resolved_database_url)
    failures = open_failure_log(settings, database)
    try:
        yield failures
    finally:
        database.dispose()
        if failures.redis is not None:
            failures.redis.close()


@click.command("migrate")
def migrate_command() -> None:
    """Create or upgrade the database tables to the newest migration."""
    settings = load_settings()
    database = open_database(settings.resolved_database_url)
    database.migrate()
    database.dispose()
    where = settings.masked()["DATABASE_URL"] or f"SQLite in {settings.data_dir}"
    click.echo(f"database is up to date: {where}")


@click.command("settings")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.option(
    "--env-example", is_flag=True, help="Print every setting documented, as .env.example."
)
def settings_command(as_json: bool, env_example: bool) -> None:
    """Print the effective settings (secrets masked)."""
    if env_example:
        click.echo(settings_module.env_example(), nl=False)
        return
    values = load_settings().masked()
    if as_json:
        click.echo(json.dumps(values, ensure_ascii=False, indent=2))
        return
    width = max(map(len, values))
    for name, value in values.items():
        click.echo(f"{name.ljust(width)}  {value}")


@click.command("check")
def check_command() -> None:
    """List insecure settings, each with what to do; exit 1 when there is one."""
    from hitwatch.checks import run_checks

    results = run_checks(load_settings())
    for name, findings in results:
        if not findings:
            click.echo(f"ok        {name}")
        for finding in findings:
            click.secho(f"INSECURE  {finding.setting}: {finding.problem}", fg="red")
            click.echo(f"          fix: {finding.fix}")
    count = sum(len(findings) for _, findings in results)
    if count:
        raise click.ClickException(f"{count} insecure setting(s)")
    click.echo("no insecure settings found")


@click.group("failures")
def failures_group() -> None:
    """Items that failed in the pipeline: list them, replay them once the cause is fixed."""


@failures_group.command("list")
@click.option("--all", "include_resolved", is_flag=True, help="Include replayed failures.")
@click.option("--limit", default=50, show_default=True, help="Newest N failures.")
def failures_list(include_resolved: bool, limit: int) -> None:
    """List failures, newest first."""
    with _failure_log(load_settings()) as log:
        # With Redis down, failures parked there are listed once it is back.
        with suppress(redis.exceptions.ConnectionError):
            log.drain_pending()
        rows = log.list(include_resolved=include_resolved, limit=limit)
    if not rows:
        click.echo("no failures" + ("" if include_resolved else " waiting for replay"))
        return
    for row in rows:
        state = "replayed" if row.resolved else "open"
        click.echo(
            f"#{row.id:<5} {beijing_time(row.created_at)} {state:<8} {row.task_name:<28} "
            f"{row.error_type}: {row.error_message[:80]}\n       {row.item_key}"
        )
    click.echo(
        f"{len(rows)} shown (times {ZONE_LABEL}); replay with: hitwatch failures replay ID | --all"
    )


@failures_group.command("replay")
@click.argument("failure_ids", nargs=-1, type=int)
@click.option("--all", "replay_all", is_flag=True, help="Replay every open failure.")
def failures_replay(failure_ids: tuple[int, ...], replay_all: bool) -> None:
    """Send failed items back to the task that failed them."""
    if not failure_ids and not replay_all:
        raise click.UsageError("name failure IDs (see `hitwatch failures list`) or pass --all")
    settings = load_settings()
    app = create_celery(settings, "replay")
    sent = 0
    actor = shell_actor()
    with _failure_log(settings) as log:
        rows = list(log.list(limit=100_000)) if replay_all else []
        for failure_id in failure_ids:
            row = log.get(failure_id)
            if row is None:
                click.echo(f"#{failure_id}: no such failure", err=True)
            else:
                rows.append(row)
        for row in rows:
            queue = TASK_QUEUES.get(row.task_name)
            if queue is None:
                click.echo(f"#{row.id}: {row.task_name} cannot be replayed (no queue)", err=True)
                continue
            app.send_task(row.task_name, args=[row.payload], queue=queue)
            log.mark_replayed(row.id, actor=actor)
            with log.db.session() as session:
                record_event(session, "failure_replay", actor=actor, target=f"failure:{row.id}")
            sent += 1
    click.echo(f"{sent} failure(s) sent back to their queues")


@click.command("worker")
@click.argument("queue", type=click.Choice(sorted(WORKERS)))
@click.option("--concurrency", type=int, help="Processes (default WORKER_CONCURRENCY).")
@click.option(
    "--pool",
    type=click.Choice(["prefork", "solo", "threads"]),
    default="prefork",
    show_default=True,
    help="Celery pool of the crawl worker; the batch workers run processes.",
)
def worker_command(queue: str, concurrency: int | None, pool: str) -> None:
    """Run a worker consuming QUEUE. Start more, anywhere, to scale out.

    classify, index and notify take their messages in batches (BATCH_SIZE, BATCH_WAIT_MS);
    crawl runs a Celery worker."""
    settings = load_settings()
    require_secret_key(settings)
    configure_logging(settings)
    processes = concurrency or settings.worker_concurrency
    module = importlib.import_module(WORKERS[queue])
    from hitwatch.monitoring import serve_metrics

    serve_metrics(settings, open_database(settings.resolved_database_url))
    if queue in BATCH_QUEUES:
        _run_batch_workers(lambda: module.create_worker(settings), processes)
        return
    app = module.create_worker(settings)
    app.worker_main(
        [
            "worker",
            f"--queues={queue}",
            f"--concurrency={processes}",
            f"--pool={pool}",
            f"--hostname={queue}@%h",
            f"--loglevel={settings.log_level}",
            "--without-gossip",
            "--without-mingle",
        ]
    )


def _run_batch_workers(create: Callable[[], BatchWorker], processes: int) -> None:
    """One batch worker in this process, or `processes` of them in child processes that
    this one restarts when one dies and stops on SIGTERM/SIGINT."""
    if processes <= 1:
        create().run_until_stopped()
        return

    def child() -> int:
        pid = os.fork()
        if pid == 0:  # each child opens its own connections
            try:
                create().run_until_stopped()
            finally:
                os._exit(0)
        return pid

    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    children = {child() for _ in range(processes)}
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        children.discard(pid)
        if not stopping:
            log.error("worker process %d ended (status %d); starting another", pid, status)
            children.add(child())


@click.command("scheduler")
def scheduler_command() -> None:
    """Run the periodic scheduler (Celery beat): source crawls by their intervals."""
    settings = load_settings()
    configure_logging(settings)
    from hitwatch.schedule import beat_schedule

    app = create_celery(settings, "scheduler")
    app.conf.beat_schedule = beat_schedule(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app.start(
        [
            "beat",
            f"--loglevel={settings.log_level}",
            f"--schedule={settings.data_dir / 'beat-schedule'}",
        ]
    )


@click.command("mailcatcher")
@click.option("--port", type=int, help="Port to listen on (default SMTP_PORT).")
def mailcatcher_command(port: int | None) -> None:
    """Catch outgoing mail on 127.0.0.1 and keep it for the web app's 邮件 page (demo)."""
    from aiosmtpd.controller import Controller

    from hitwatch.mailbox import MailboxHandler, mailbox_dir

    settings = load_settings()
    folder = mailbox_dir(settings.data_dir)
    controller = Controller(
        MailboxHandler(folder), hostname="127.0.0.1", port=port or settings.smtp_port
    )
    controller.start()
    click.echo(f"mail catcher on 127.0.0.1:{controller.port}, keeping messages in {folder}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
