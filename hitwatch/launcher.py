"""`hitwatch run`: the whole product on one machine, on embedded defaults.

Starts an embedded Redis when REDIS_URL is empty, migrates the store, starts one worker
per queue, the scheduler, the web app (and the mirror site in demo mode), runs a first
crawl and shows the pipeline's progress until Ctrl-C, which stops everything it started.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import click
import redis
from sqlalchemy import func, select

from hitwatch.embedded import EmbeddedRedis, LaunchError, log_tail
from hitwatch.secret_key import require_secret_key
from hitwatch.settings import Settings, load_settings
from hitwatch.store import Article, Failure, open_database
from hitwatch.tasks import QUEUES

__all__ = ["Supervisor", "run_command"]


@dataclass
class Child:
    name: str
    args: list[str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None
    restarts: list[float] = field(default_factory=list)  # monotonic times of restarts
    env: dict[str, str] | None = None


RESTART_LIMIT = 5
RESTART_WINDOW = 60


def _die_with_parent() -> None:
    """Linux: a child gets SIGTERM if the launcher itself is killed (kill -9, OOM), so no
    worker outlives the product it belongs to."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


@dataclass
class Supervisor:
    """Starts the product's processes, watches them, stops them in reverse order."""

    env: dict[str, str]
    log_dir: Path
    children: list[Child] = field(default_factory=list)

    def start(self, name: str, *args: str, env: dict[str, str] | None = None) -> Child:
        """Start `hitwatch ARGS` (with its own `env` instead of the supervisor's, if given)."""
        hitwatch = shutil.which("hitwatch", path=str(Path(sys.executable).parent)) or "hitwatch"
        child = Child(name, [hitwatch, *args], self.log_dir / f"{name}.log", env=env)
        self._spawn(child)
        self.children.append(child)
        return child

    def _spawn(self, child: Child) -> None:
        if child.log is None:
            child.log = child.log_path.open("ab")
        child.process = subprocess.Popen(
            child.args,
            stdout=child.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=child.env if child.env is not None else self.env,
            start_new_session=True,  # Ctrl-C reaches us; we stop the children in order
            preexec_fn=_die_with_parent,
        )

    def check(self, *, ignore: tuple[Child, ...] = ()) -> list[str]:
        """Start again every child that stopped; what happened, for the progress output.

        A child that keeps dying (RESTART_LIMIT times within RESTART_WINDOW seconds) is a
        fault no restart fixes: the launcher stops with its log instead of looping.
        """
        events = []
        now = time.monotonic()
        for child in self.children:
            if child in ignore or child.process is None:
                continue
            code = child.process.poll()
            if code is None:
                continue
            child.restarts = [t for t in child.restarts if now - t < RESTART_WINDOW]
            if len(child.restarts) >= RESTART_LIMIT:
                raise LaunchError(
                    f"{child.name} keeps stopping (exit {code}, {RESTART_LIMIT} times within "
                    f"{RESTART_WINDOW} s). Log {child.log_path}:\n{log_tail(child.log_path)}"
                )
            child.restarts.append(now)
            self._spawn(child)
            events.append(f"{child.name} stopped (exit {code}); restarted (log {child.log_path})")
        return events

    def stop_all(self) -> None:
        for child in reversed(self.children):
            if child.process and child.process.poll() is None:
                with suppress(ProcessLookupError):
                    os.killpg(child.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in reversed(self.children):
            if child.process is None:
                continue
            with suppress(subprocess.TimeoutExpired):
                child.process.wait(max(0.1, deadline - time.monotonic()))
            if child.process.poll() is None:
                with suppress(ProcessLookupError):
                    os.killpg(child.process.pid, signal.SIGKILL)
            if child.log:
                child.log.close()


@dataclass
class Progress:
    """Counts shown while the first crawl runs: queue lengths, indexed items, failures."""

    settings: Settings

    def __post_init__(self) -> None:
        self.redis = redis.Redis.from_url(self.settings.resolved_redis_url)
        self.database = open_database(self.settings.resolved_database_url)

    def snapshot(self) -> dict[str, int]:
        counts = {queue: int(self.redis.llen(queue)) for queue in QUEUES}
        # Messages a worker has taken but not acknowledged yet (kombu's Redis transport).
        counts["in_flight"] = int(self.redis.hlen("unacked"))
        with self.database.session() as session:
            counts["indexed"] = session.scalar(select(func.count()).select_from(Article)) or 0
            counts["failed"] = (
                session.scalar(
                    select(func.count()).select_from(Failure).where(Failure.resolved.is_(False))
                )
                or 0
            )
        return counts


@contextmanager
def _interrupt_as_exit() -> Iterator[None]:
    """Ctrl-C and SIGTERM both stop the product the same clean way. SIGINT is set
    explicitly: a shell that starts us in the background leaves it ignored."""

    def _raise(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, _raise) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _line(counts: dict[str, int], crawling: bool) -> str:
    queued = ", ".join(f"{q} {counts[q]}" for q in QUEUES)
    state = "crawling" if crawling else "crawl done"
    return (
        f"  {state:<10} | queued: {queued} | working {counts['in_flight']}"
        f" | indexed {counts['indexed']} | failed {counts['failed']}"
    )


@click.command("run")
@click.option("--live", is_flag=True, help="Crawl the configured real sources (needs internet).")
@click.option("--no-crawl", is_flag=True, help="Start everything but skip the first crawl.")
@click.option("--exit-after-crawl", is_flag=True, help="Stop once the first crawl is indexed.")
def run_command(live: bool, no_crawl: bool, exit_after_crawl: bool) -> None:
    """Start the whole product (embedded Redis, workers, scheduler, web app) and crawl.

    Demo mode (the default) crawls a bundled mirror of real sources' pages, so it works
    offline; --live crawls the real sites. Ctrl-C stops everything.
    """
    settings = load_settings(crawl_mode="live" if live else "demo")
    require_secret_key(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log_dir = settings.data_dir / "logs"
    log_dir.mkdir(exist_ok=True)
    env = dict(os.environ, CRAWL_MODE=settings.crawl_mode, HITWATCH_DATA_DIR=str(settings.data_dir))
    # The children see the embedded Redis as REDIS_URL, i.e. as a deployment: they get
    # the demo's key (generated in the data dir) explicitly.
    env["SECRET_KEY"] = settings.secret_key.get_secret_value()

    embedded = None
    if not settings.redis_url:
        embedded = EmbeddedRedis(settings.data_dir, settings.embedded_redis_port)
        click.echo(f"starting embedded Redis on 127.0.0.1:{embedded.port} ...")
        embedded.start()
        env["REDIS_URL"] = embedded.url
        settings = load_settings(
            crawl_mode=settings.crawl_mode, redis_url=embedded.url, secret_key=settings.secret_key
        )

    demo = embedded is not None and not settings.database_url
    catch_mail = demo and _smtp_is_free(settings)
    if catch_mail:
        env["MAIL_CATCHER"] = "true"
    supervisor = Supervisor(env, log_dir)
    try:
        with _interrupt_as_exit():
            click.echo("migrating the database ...")
            open_database(settings.resolved_database_url).migrate()
            if catch_mail:
                supervisor.start("mailcatcher", "mailcatcher")
            for queue in QUEUES:
                supervisor.start(f"worker-{queue}", "worker", queue, "--concurrency", "1")
            supervisor.start("scheduler", "scheduler")
            if settings.crawl_mode == "demo":
                supervisor.start("mirror", "mirror", "--port", str(settings.mirror_port))
            supervisor.start("web", "web")
            backend = "Elasticsearch" if settings.elasticsearch_url else "SQLite FTS5"
            click.echo(
                f"workers, scheduler and web app started (logs in {log_dir}); index: {backend}"
            )
            click.secho(f"web app: {settings.resolved_public_base_url}/", bold=True)
            if demo:
                click.echo(demo_admin_login(settings))
            if catch_mail:
                click.echo(
                    f"mail: caught on 127.0.0.1:{settings.smtp_port}, nothing leaves this "
                    f"machine; read it at {settings.resolved_public_base_url}/mail (as admin)"
                )
            crawl = None
            if not no_crawl:
                mode = "--demo" if settings.crawl_mode == "demo" else "--live"
                click.echo(f"first crawl ({settings.crawl_mode} mode) ...")
                crawl = supervisor.start("crawl", "crawl", mode, "--once")
            _watch(settings, supervisor, crawl, exit_after_crawl, embedded)
    except KeyboardInterrupt:
        click.echo("\nstopping ...")
    finally:
        supervisor.stop_all()
        if embedded:
            embedded.stop()
        click.echo("stopped.")


def _smtp_is_free(settings: Settings) -> bool:
    """Whether the demo should catch mail: SMTP points here and nothing listens there."""
    if settings.smtp_host not in {"127.0.0.1", "localhost", "::1"}:
        return False
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", settings.smtp_port)) != 0


DEMO_ADMIN = "admin@hitwatch.local"


def demo_admin_login(settings: Settings) -> str:
    """How to log in to the embedded demo: its admin is made on the first run, with a
    random password kept (owner-only) in the data dir so later runs can say it again."""
    from hitwatch.accounts import add_user, authenticate, count_admins, record_event

    saved = settings.data_dir / "demo-admin.txt"
    database = open_database(settings.resolved_database_url)
    try:
        with database.session() as session:
            if count_admins(session) == 0:
                password = secrets.token_urlsafe(12)
                add_user(session, DEMO_ADMIN, "admin", name="管理员", password=password)
                record_event(session, "user_add", actor="hitwatch run", target=DEMO_ADMIN)
                saved.touch(mode=0o600)
                saved.write_text(password + "\n", "utf-8")
            password = saved.read_text("utf-8").strip() if saved.exists() else ""
            if password and authenticate(session, DEMO_ADMIN, password):
                return f"log in as {DEMO_ADMIN} with password {password} (kept in {saved})"
    finally:
        database.dispose()
    return (
        "log in with your admin account "
        f"(`hitwatch users link {DEMO_ADMIN}` prints a link that sets a new password)"
    )


def _watch(
    settings: Settings,
    supervisor: Supervisor,
    crawl: Child | None,
    exit_after: bool,
    embedded: EmbeddedRedis | None,
) -> None:
    progress = Progress(settings)
    announced = False
    last = ""
    while True:
        time.sleep(2)
        if embedded is not None and embedded.process and embedded.process.poll() is not None:
            # Workers and the web app reconnect by themselves once it answers again; the
            # append-only file in the data dir brings the queues back as they were.
            code = embedded.process.poll()
            click.secho(f"embedded Redis stopped (exit {code}); starting it again ...", fg="red")
            embedded.start()
            click.secho(f"embedded Redis is back on 127.0.0.1:{embedded.port}", fg="green")
        for event in supervisor.check(ignore=(crawl,) if crawl else ()):
            click.secho(event, fg="yellow")
        crawling = bool(crawl and crawl.process and crawl.process.poll() is None)
        try:
            counts = progress.snapshot()
        except redis.exceptions.RedisError:  # down, or loading its append-only file
            line = "  waiting for Redis (queues unavailable) ..."
            if line != last:
                click.echo(line)
                last = line
            continue
        line = _line(counts, crawling)
        if line != last:
            click.echo(line)
            last = line
        idle = not crawling and not any(counts[q] for q in (*QUEUES, "in_flight"))
        if crawl and not announced and idle:
            announced = True
            code = crawl.process.poll() if crawl.process else None
            if code:
                click.secho(f"the crawl exited with {code}; see {crawl.log_path}", fg="red")
            click.secho(
                f"first crawl indexed: {counts['indexed']} items, {counts['failed']} failures. "
                f"Open {settings.resolved_public_base_url}/ (Ctrl-C to stop)",
                fg="green",
            )
            if exit_after:
                return
