"""`hitwatch bench faults`: synthetic pages through the real queues and worker processes
with a fault injected at about 30 %, then the accounting.

Black box on purpose: pages go into the `classify` queue, `hitwatch worker` processes
(classify, index, notify) do the rest, and the harness only looks at what came out: the
store, the search index, the failure records (table, Redis list and spool file) and the
mails a real SMTP server received. Every page handed over must be stored and searchable
or have an open failure record; no page stored or searchable twice; no alert mailed
twice. Open failures are replayed once (`hitwatch failures replay --all`) after the
fault is mended, as an operator would.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import redis
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from classifier.extraction.samples import synthetic_page
from hitwatch.alerts.rules import add_rule
from hitwatch.bench.inbox import Inbox
from hitwatch.broker import create_celery, send_message
from hitwatch.embedded import EmbeddedRedis
from hitwatch.messages import CrawledItem, stable_id
from hitwatch.search import SearchRequest, open_search_index
from hitwatch.settings import Settings, load_settings
from hitwatch.store import Article, Failure, open_database
from hitwatch.store.failures import PENDING_KEY, spool_path
from hitwatch.store.models import AlertDelivery
from hitwatch.tasks import CLASSIFY_ITEM
from hitwatch.transport import TAKERS_KEY

__all__ = [
    "FAULTS",
    "Accounting",
    "Fault",
    "FaultStack",
    "HarnessError",
    "ServerFault",
    "make_fault",
    "mount_tmpfs",
    "poison_items",
    "run_fault",
]

Echo = Callable[[str], None]

STAGES = ("classify", "index", "notify")
ALERT_ADDRESS = "watch@example.org"
ALERT_QUERY = "电子病历"

# Short retries and timeouts so that a fault outlasts the retries in seconds, not hours.
FAST_SETTINGS = {
    "TASK_MAX_RETRIES": "3",
    "TASK_RETRY_BACKOFF_MAX": "2",
    "BROKER_VISIBILITY_TIMEOUT": "10",
    "ALERT_CLAIM_TIMEOUT": "8",
    "DIGEST_SEND_CLAIM_TIMEOUT": "8",
    "EXTRACTION_TIME_LIMIT": "5",
}


class HarnessError(RuntimeError):
    """The fault run could not be carried out (a worker would not start, no settling)."""


@dataclass(frozen=True)
class Accounting:
    """What came out of one run, item by item."""

    fault: str
    handed_over: int
    indexed: int  # handed-over pages stored (by URL)
    searchable: int  # documents in the search index
    stored: int  # article rows
    failures: int  # handed-over pages with an open failure record
    lost: int  # neither stored nor recorded as failed
    duplicates: int  # pages stored twice, or search documents beyond the stored rows
    stored_and_failed: int  # stored pages that still carry an open failure record
    alerts_sent: int
    alerts_twice: int
    alerts_unsent: int  # alert deliveries claimed but not sent
    replayed: int
    seconds: float
    notes: tuple[str, ...] = ()

    @property
    def holds(self) -> bool:
        """Nothing lost, nothing twice, the index agrees with the store."""
        return (
            self.lost == 0
            and self.duplicates == 0
            and self.alerts_twice == 0
            and self.alerts_unsent == 0
            and self.stored_and_failed == 0
            and self.searchable == self.stored
        )

    def line(self) -> str:
        return (
            f"[{self.fault}] handed over {self.handed_over} / indexed {self.indexed} "
            f"(searchable {self.searchable}) / failures {self.failures} / lost {self.lost} / "
            f"duplicates {self.duplicates} / alerts sent {self.alerts_sent} / "
            f"twice {self.alerts_twice} / unsent {self.alerts_unsent} "
            f"(replayed {self.replayed}, {self.seconds:.0f} s)"
        )


class Fault(Protocol):
    """One fault: `inject` breaks something, holds it, mends it (blocking). A fault may
    set `trigger`, the share of pages done when it is injected (TRIGGER otherwise)."""

    name: str

    def inject(self, stack: FaultStack) -> None: ...


@dataclass
class FaultStack:
    """A store, a search index, a private Redis (AOF on), an SMTP server and the workers."""

    workdir: Path
    broker: EmbeddedRedis
    inbox: Inbox
    smtp_port: int
    database_url: str = ""
    elasticsearch_url: str = ""
    elasticsearch_index: str = ""
    echo: Echo = print
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    urls: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _started: int = 0

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            **FAST_SETTINGS,
            "REDIS_URL": self.broker.url,
            "DATABASE_URL": self.database_url,
            "ELASTICSEARCH_URL": self.elasticsearch_url,
            "ELASTICSEARCH_INDEX": self.elasticsearch_index or "hitwatch-faults",
            "HITWATCH_DATA_DIR": str(self.data_dir),
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.smtp_port),
            "MAIL_CATCHER": "false",
            "MAIL_FROM": "hitwatch <alerts@example.org>",
            "PUBLIC_BASE_URL": "https://hitwatch.example.org",
            "SECRET_KEY": "fault-harness-secret-0123456789abcdef",
            "LOG_LEVEL": "INFO",
            "LOG_FORMAT": "text",
        }

    @property
    def settings(self) -> Settings:
        env = self.env
        return load_settings(
            data_dir=self.data_dir,
            redis_url=env["REDIS_URL"],
            database_url=env["DATABASE_URL"],
            elasticsearch_url=env["ELASTICSEARCH_URL"],
            elasticsearch_index=env["ELASTICSEARCH_INDEX"],
        )

    # -- the store and the index

    def prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "logs").mkdir(exist_ok=True)
        settings = self.settings
        database = open_database(settings.resolved_database_url)
        try:
            database.migrate()
            add_rule(database, ALERT_ADDRESS, ALERT_QUERY, include_offtopic=True)
        finally:
            database.dispose()
        index = open_search_index(settings)
        index.ensure()
        index.close()

    def drop_index(self) -> None:
        if self.elasticsearch_url:
            index = open_search_index(self.settings)
            index.drop()
            index.close()

    # -- workers

    def start_worker(self, stage: str) -> None:
        self._started += 1
        log = self.workdir / "logs" / f"worker-{stage}-{self._started}.log"
        with log.open("ab") as out:
            self.workers[stage] = subprocess.Popen(
                [_hitwatch(), "worker", stage, "--concurrency", "1"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill_worker(self, stage: str) -> None:
        """SIGKILL the worker's whole process group, as a crashed machine would."""
        process = self.workers[stage]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)

    def stop_workers(self) -> None:
        for process in self.workers.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.workers.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)

    def check_workers(self) -> None:
        for stage, process in self.workers.items():
            if process.poll() is not None:
                raise HarnessError(
                    f"the {stage} worker exited ({process.returncode})\n{self.logs()}"
                )

    def logs(self, lines: int = 25) -> str:
        parts = []
        for path in sorted((self.workdir / "logs").glob("*.log")):
            tail = path.read_text("utf-8", "replace").splitlines()[-lines:]
            parts.append(f"== {path.name}\n" + "\n".join(tail))
        return "\n".join(parts)

    def hitwatch(self, *args: str) -> str:
        """Run a `hitwatch` command as an operator would, with the workers' settings."""
        done = subprocess.run(
            [_hitwatch(), *args], env=self.env, capture_output=True, text=True, timeout=120
        )
        if done.returncode != 0:
            raise HarnessError(f"hitwatch {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    # -- the broker

    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.broker.url, socket_timeout=5, socket_connect_timeout=2)

    def in_flight(self, stage: str) -> bool:
        """A message of `stage` is taken by a worker and not yet acknowledged."""
        client = self.redis()
        try:
            for raw in client.hvals("unacked"):
                _message, _exchange, routing_key = json.loads(raw)
                if routing_key == stage:
                    return True
            return False
        finally:
            client.close()

    def enqueue(self, items: list[CrawledItem]) -> None:
        app = create_celery(self.settings, "faults")
        try:
            for item in items:
                send_message(app, CLASSIFY_ITEM, item)
                self.urls.append(item.url)
        finally:
            app.close()

    def note(self, text_: str) -> None:
        self.notes.append(text_)
        self.echo(f"  {text_}")


def _hitwatch() -> str:
    return str(Path(sys.executable).with_name("hitwatch"))


def synthetic_items(count: int, *, first: int = 0) -> list[CrawledItem]:
    rng = random.Random(23)
    now = datetime.now(UTC)
    items = []
    for n in range(first, first + count):
        url, _source, content_type, raw = synthetic_page(n, rng)
        items.append(_item(url, raw, now, content_type))
    return items


def _item(
    url: str, raw: bytes, now: datetime, content_type: str = "text/html; charset=utf-8"
) -> CrawledItem:
    return CrawledItem(
        item_id=stable_id(url),
        url=url,
        final_url=url,
        source_id="chinanews",
        fetched_at=now,
        content_type=content_type,
        body_z64=CrawledItem.pack_body(raw),
    )


def poison_items() -> list[CrawledItem]:
    """A 50 MB page, a page of 200,000 nested elements and a binary file."""
    now = datetime.now(UTC)
    base = "https://www.chinanews.com.cn/faults/2024/07-01"
    filler = "<p>" + "电子病历系统应用水平分级评价。" * 40 + "</p>"
    huge = "<html><body>" + filler * (50_000_000 // len(filler.encode())) + "</body></html>"
    nested = "<html><body>" + "<div>" * 200_000 + "深" + "</div>" * 200_000 + "</body></html>"
    binary = random.Random(5).randbytes(2_000_000)
    return [
        _item(f"{base}/huge.shtml", huge.encode(), now),
        _item(f"{base}/nested.shtml", nested.encode(), now),
        _item(f"{base}/binary.shtml", binary, now, "application/octet-stream"),
    ]


# -- the accounting


@dataclass(frozen=True)
class _Snapshot:
    stored: Counter[str]
    failed: set[str]
    parked: int  # failure records waiting in Redis or the spool file

    def settled_for(self, urls: list[str]) -> bool:
        return all(url in self.stored or url in self.failed for url in urls)


def _snapshot(stack: FaultStack) -> _Snapshot:
    database = open_database(stack.settings.resolved_database_url)
    try:
        with database.session() as session:
            articles = session.execute(select(Article.id, Article.url)).all()
            failed = set(
                session.scalars(select(Failure.item_key).where(Failure.resolved.is_(False))).all()
            )
        stored = Counter(url for _id, url in articles)
        url_of = dict(articles)
    finally:
        database.dispose()
    parked = 0
    spool = spool_path(stack.data_dir)
    if spool.exists():
        lines = [json.loads(line) for line in spool.read_text("utf-8").splitlines() if line]
        failed |= {row["item_key"] for row in lines}
        parked += len(lines)
    client = stack.redis()
    try:
        pending = [json.loads(raw) for raw in client.lrange(PENDING_KEY, 0, -1)]
    finally:
        client.close()
    failed |= {row["item_key"] for row in pending}
    # Later stages name the item by its doc_id: count their failures against its page.
    failed = {url_of.get(key, key) for key in failed}
    return _Snapshot(stored, failed, parked + len(pending))


def _queues_idle(stack: FaultStack) -> bool:
    client = stack.redis()
    try:
        busy = sum(int(client.llen(stage)) for stage in STAGES) + int(client.hlen("unacked"))
        # Taken by a worker, not yet recorded as unacked (a dead worker's come back).
        busy += sum(int(client.llen(key)) for key in client.hkeys(TAKERS_KEY))
        return busy == 0
    finally:
        client.close()


def _settle(stack: FaultStack, timeout: float) -> bool:
    """Wait until every page is accounted for and the queues are idle (True), or until
    the queues stay idle with pages unaccounted for, or time runs out (False)."""
    deadline = time.monotonic() + timeout
    idle_since: float | None = None
    last_echo = 0.0
    while time.monotonic() < deadline:
        stack.check_workers()
        try:
            snapshot = _snapshot(stack)
            idle = _queues_idle(stack)
        except Exception as error:  # a server the fault took away; ask again
            snapshot, idle = None, False
            if time.monotonic() - last_echo > 5:
                stack.echo(f"  (accounting waits: {type(error).__name__})")
                last_echo = time.monotonic()
        if snapshot is not None:
            if time.monotonic() - last_echo > 10:
                stack.echo(
                    f"  {sum(1 for u in stack.urls if u in snapshot.stored)}/{len(stack.urls)} "
                    f"stored, {len(snapshot.failed)} failed"
                )
                last_echo = time.monotonic()
            if idle and snapshot.settled_for(stack.urls):
                return True
            if idle:
                idle_since = idle_since or time.monotonic()
                # Nothing queued, nothing in flight, something missing: lost for good.
                if time.monotonic() - idle_since > 20:
                    return False
            else:
                idle_since = None
        time.sleep(0.5)
    return False


def _progress(stack: FaultStack) -> float:
    try:
        snapshot = _snapshot(stack)
    except Exception:  # a server still starting: no progress yet
        return 0.0
    done = sum(1 for url in stack.urls if url in snapshot.stored or url in snapshot.failed)
    return done / len(stack.urls)


def _alerts(inbox: Inbox) -> tuple[int, int, int]:
    """Alerts received, alerts a reader sees twice (two Message-IDs for one alert), and
    alerts sent again with their Message-ID (mail clients show those once)."""
    ids: dict[tuple[str, str], Counter[str]] = {}
    for message in inbox.messages:
        if ALERT_ADDRESS in str(message["To"]):
            alert = (str(message["To"]), str(message["Subject"]))
            ids.setdefault(alert, Counter())[str(message["Message-ID"])] += 1
    twice = sum(len(seen) - 1 for seen in ids.values())
    resent = sum(n - 1 for seen in ids.values() for n in seen.values())
    return len(ids), twice, resent


def _unsent_alerts(stack: FaultStack) -> int:
    database = open_database(stack.settings.resolved_database_url)
    try:
        with database.session() as session:
            query = select(func.count()).where(AlertDelivery.status != "sent")
            return session.scalar(query) or 0
    finally:
        database.dispose()


def _account(stack: FaultStack, fault: str, replayed: int, seconds: float) -> Accounting:
    snapshot = _snapshot(stack)
    index = open_search_index(stack.settings)
    try:
        index.refresh()
        searchable = index.count(SearchRequest())
    finally:
        index.close()
    handed = set(stack.urls)
    indexed = handed & set(snapshot.stored)
    failed = handed & snapshot.failed
    stored_rows = sum(snapshot.stored.values())
    twice_stored = sum(n - 1 for n in snapshot.stored.values())
    alerts_sent, alerts_twice, resent = _alerts(stack.inbox)
    if resent:
        stack.note(f"{resent} alert(s) sent again with the same Message-ID (shown once)")
    return Accounting(
        fault=fault,
        handed_over=len(stack.urls),
        indexed=len(indexed),
        searchable=searchable,
        stored=stored_rows,
        failures=len(failed - indexed),
        lost=len(handed - indexed - failed),
        duplicates=twice_stored + max(0, searchable - stored_rows),
        stored_and_failed=len(indexed & failed),
        alerts_sent=alerts_sent,
        alerts_twice=alerts_twice,
        alerts_unsent=_unsent_alerts(stack),
        replayed=replayed,
        seconds=seconds,
        notes=tuple(stack.notes),
    )


# Pages stored or failed when a fault is injected, unless the fault says otherwise.
TRIGGER = 0.3


def run_fault(stack: FaultStack, fault: Fault, items: int, *, timeout: float = 300) -> Accounting:
    """Hand over `items` pages, inject `fault` at its trigger (about 30 %), settle,
    replay, account."""
    trigger = float(getattr(fault, "trigger", TRIGGER))
    started = time.monotonic()
    stack.prepare()
    stack.enqueue(synthetic_items(items))
    stack.echo(f"[{fault.name}] {items} pages handed over to the classify queue")
    for stage in STAGES:
        stack.start_worker(stage)
    try:
        deadline = time.monotonic() + timeout
        while _progress(stack) < trigger:
            stack.check_workers()
            if time.monotonic() > deadline:
                raise HarnessError(f"no {trigger:.0%} progress in {timeout:.0f} s\n{stack.logs()}")
            time.sleep(0.2)
        stack.echo(f"[{fault.name}] injecting the fault at {_progress(stack):.0%}")
        fault.inject(stack)
        stack.echo(f"[{fault.name}] fault mended; waiting for the pipeline to settle")
        _settle(stack, timeout)
        replayed = 0
        if parked := _snapshot(stack).parked:
            stack.note(f"{parked} failure record(s) parked in Redis or the spool file")
        stack.hitwatch("failures", "list")  # drains records parked in Redis or the spool
        before = _snapshot(stack)
        open_failures = before.failed & set(stack.urls)
        stack.note(
            f"before the replay: {len(open_failures)} open failure(s), "
            f"{len(open_failures & set(before.stored))} of them for stored pages"
        )
        if open_failures:
            stack.echo(f"[{fault.name}] replaying {len(open_failures)} open failure(s)")
            stack.hitwatch("failures", "replay", "--all")
            replayed = len(open_failures)
            _settle(stack, timeout)
            stack.hitwatch("failures", "list")
        return _account(stack, fault.name, replayed, time.monotonic() - started)
    finally:
        stack.stop_workers()


# -- the faults


@dataclass
class KillWorker:
    """SIGKILL each stage's worker in turn while it holds a message, starting a new one
    at once; the killed workers' messages come back after the visibility timeout."""

    stages: tuple[str, ...]
    name: str = ""
    # At once: a worker holds a message from its start; by 30 % stored the classify
    # stage, faster than the index stage, may have nothing left to hold.
    trigger: float = 0.0

    def __post_init__(self) -> None:
        self.name = self.name or "kill-" + "+".join(self.stages)

    def inject(self, stack: FaultStack) -> None:
        for stage in self.stages:
            deadline = time.monotonic() + 60
            while not stack.in_flight(stage):
                if time.monotonic() > deadline:
                    raise HarnessError(f"the {stage} worker never held a message")
                time.sleep(0.01)
            stack.kill_worker(stage)
            stack.note(f"{stage} worker SIGKILLed mid-task")
            stack.start_worker(stage)
        killed = time.monotonic()
        while not _queues_idle(stack):
            if time.monotonic() - killed > 120:
                break
            time.sleep(0.5)
        stack.note(f"queues idle {time.monotonic() - killed:.0f} s after the last kill")


@dataclass
class RestartRedis:
    """Stop and start the broker several times while pages are in flight. `sigterm`: as
    `docker compose restart` stops the compose file's Redis; else SHUTDOWN, as `hitwatch
    run` stops its embedded Redis. Both run with the append-only file (fsync every second)."""

    name: str = "redis-restart"
    restarts: int = 3
    down_seconds: float = 2.0
    sigterm: bool = True

    def inject(self, stack: FaultStack) -> None:
        for n in range(self.restarts):
            if self.sigterm and stack.broker.process is not None:
                stack.broker.process.send_signal(signal.SIGTERM)
                stack.broker.process.wait(30)
            else:
                stack.broker.stop()
            time.sleep(self.down_seconds)
            stack.broker.start()
            stack.note(f"Redis restarted ({n + 1}/{self.restarts})")
            time.sleep(3)


@dataclass
class UnwritableStore:
    """The store refuses writes for longer than the retries last: SQLite files made
    immutable (chattr +i), or the PostgreSQL database switched to read-only."""

    name: str = "store-unwritable"
    hold_seconds: float = 12.0

    def inject(self, stack: FaultStack) -> None:
        url = stack.settings.resolved_database_url
        if url.startswith("sqlite"):
            self._sqlite(stack, Path(make_url(url).database or ""))
        else:
            self._postgres(stack, url)

    def _sqlite(self, stack: FaultStack, path: Path) -> None:
        files = [p for p in (path, path.with_name(path.name + "-wal")) if p.exists()]
        subprocess.run(["chattr", "+i", *map(str, files)], check=True)
        stack.note(f"SQLite store immutable for {self.hold_seconds:.0f} s")
        try:
            time.sleep(self.hold_seconds)
        finally:
            subprocess.run(["chattr", "-i", *map(str, files)], check=True)

    def _postgres(self, stack: FaultStack, url: str) -> None:
        name = make_url(url).database
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text("SET default_transaction_read_only = off"))
                connection.execute(
                    text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
                )
                _close_other_sessions(connection)
                stack.note(f"PostgreSQL database read-only for {self.hold_seconds:.0f} s")
                time.sleep(self.hold_seconds)
                connection.execute(
                    text(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')
                )
                _close_other_sessions(connection)
        finally:
            engine.dispose()


def _close_other_sessions(connection: object) -> None:
    # Open sessions keep their setting: end them, as a failover would.
    connection.execute(  # type: ignore[attr-defined]
        text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    )


@dataclass
class DiskFull:
    """Fill the file system of the SQLite store (a small tmpfs the harness mounted), hold,
    free it; the store must come out whole (PRAGMA integrity_check)."""

    name: str = "disk-full"
    hold_seconds: float = 10.0

    def inject(self, stack: FaultStack) -> None:
        filler = stack.data_dir / "filler"
        # Unbuffered: a buffered writer keeps what the full disk refused and raises
        # again when it is closed.
        with filler.open("wb", buffering=0) as out:
            try:
                while True:
                    out.write(b"\0" * 65536)
            except OSError:
                pass
        stack.note(f"store file system full for {self.hold_seconds:.0f} s")
        time.sleep(self.hold_seconds)
        filler.unlink()
        path = make_url(stack.settings.resolved_database_url).database or ""
        engine = create_engine(f"sqlite:///{path}")
        try:
            with engine.connect() as connection:
                check = connection.execute(text("PRAGMA integrity_check")).scalar()
        finally:
            engine.dispose()
        stack.note(f"store integrity after the full disk: {check}")
        if check != "ok":
            raise HarnessError(f"the SQLite store is corrupted: {check}")


@dataclass
class SmtpDown:
    """The SMTP server answers 451 to every mail for a while: alerts are retried, then
    recorded; nothing is mailed twice."""

    name: str = "smtp-down"
    hold_seconds: float = 12.0

    def inject(self, stack: FaultStack) -> None:
        stack.inbox.refuse = True
        time.sleep(self.hold_seconds)
        stack.inbox.refuse = False
        stack.note(f"SMTP refused {stack.inbox.refused} mail(s) in {self.hold_seconds:.0f} s")


@dataclass
class Poison:
    """A 50 MB page, 200,000 nested elements, a binary file: each a failure record within
    seconds, and the pages behind them keep flowing."""

    name: str = "poison"
    within_seconds: float = 30.0

    def inject(self, stack: FaultStack) -> None:
        poison = poison_items()
        before = _snapshot(stack)
        stored_before = sum(before.stored.values())
        sent = time.monotonic()
        stack.enqueue(poison)
        # The rest goes in behind the poison: it must not wait for it.
        stack.enqueue(synthetic_items(20, first=100_000))
        waiting = {item.url for item in poison}
        while waiting:
            if time.monotonic() - sent > self.within_seconds:
                raise HarnessError(f"no failure record for {sorted(waiting)}\n{stack.logs()}")
            recorded = _snapshot(stack).failed
            for url in sorted(waiting & recorded):
                stack.note(
                    f"{url.rsplit('/', 1)[1]}: failure record in {time.monotonic() - sent:.1f} s"
                )
            waiting -= recorded
            time.sleep(0.2)
        stored_after = sum(_snapshot(stack).stored.values())
        stack.note(f"{stored_after - stored_before} pages stored meanwhile")


@dataclass
class ServerFault:
    """A server stopped (or restarted) by the caller's commands, for `hold_seconds`."""

    name: str
    stop: Callable[[], None]
    start: Callable[[], None]
    hold_seconds: float = 0.0

    def inject(self, stack: FaultStack) -> None:
        began = time.monotonic()
        self.stop()
        time.sleep(self.hold_seconds)
        self.start()
        stack.note(f"{self.name}: server away for {time.monotonic() - began:.0f} s")


# Faults the harness injects by itself (servers it does not own take a ServerFault).
FAULTS: dict[str, Callable[[], Fault]] = {
    "kill-workers": lambda: KillWorker(STAGES),
    "kill-classify": lambda: KillWorker(("classify",)),
    "kill-index": lambda: KillWorker(("index",)),
    "kill-notify": lambda: KillWorker(("notify",)),
    "redis-restart": lambda: RestartRedis(),
    "embedded-redis-restart": lambda: RestartRedis("embedded-redis-restart", sigterm=False),
    "store-unwritable": lambda: UnwritableStore(),
    "disk-full": lambda: DiskFull(),
    "smtp-down": lambda: SmtpDown(),
    "poison": lambda: Poison(),
}


def make_fault(name: str) -> Fault:
    return FAULTS[name]()


def mount_tmpfs(folder: Path, megabytes: int) -> Callable[[], None]:
    """A small file system at `folder` (for `disk-full`); returns its unmount. Needs root."""
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise HarnessError(f"cannot mount a tmpfs at {folder}: {done.stderr.strip()}")

    def unmount() -> None:
        subprocess.run(["umount", "-l", str(folder)], check=False)

    return unmount
