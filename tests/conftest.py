"""Shared fixtures. Servers come from `scripts/services` through TEST_* variables.

Without a server a test that needs it is skipped with the reason, except under CI=true,
where a missing server fails the run: CI must never pass by skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hitwatch.settings import Settings, load_settings
from hitwatch.store import Database, open_database
from tests.smtp import Inbox, free_port

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"
IN_CI = os.environ.get("CI", "").lower() == "true"


# test node id -> the real servers it asked for; the summary counts their outcomes
SERVICES_USED: dict[str, set[str]] = {}


def require_service(env_name: str, what: str) -> str:
    current = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0]
    SERVICES_USED.setdefault(current, set()).add(what)
    url = os.environ.get(env_name, "")
    if not url:
        message = f"{what} not available: set {env_name} (scripts/services up && eval $(scripts/services env))"
        if IN_CI:
            pytest.fail(f"CI=true: {message}")
        pytest.skip(message)
    return url


def require_corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(
            f"real-world corpus not found at {CORPUS}; evaluation needs ../shared beside the checkout"
        )
    return CORPUS


@pytest.fixture
def corpus() -> Path:
    return require_corpus()


@pytest.fixture
def redis_url() -> str:
    return require_service("TEST_REDIS_URL", "Redis")


@pytest.fixture
def postgres_url() -> str:
    return require_service("TEST_DATABASE_URL", "PostgreSQL")


@pytest.fixture
def elasticsearch_url() -> str:
    return require_service("TEST_ELASTICSEARCH_URL", "Elasticsearch")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings isolated in a temporary data dir (embedded SQLite + FTS5)."""
    return load_settings(data_dir=tmp_path / "data")


@pytest.fixture
def database(settings: Settings) -> Iterator[Database]:
    db = open_database(settings.resolved_database_url)
    db.migrate()
    yield db
    db.dispose()


@pytest.fixture
def unique_name() -> str:
    """A name for test-owned server resources (indices, keys, databases) that tests clean up."""
    return f"test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def isolated_redis_url(redis_url: str) -> Iterator[str]:
    """A Redis database of its own (db 9), emptied before and after the test."""
    import redis

    base = redis_url.rsplit("/", 1)[0] if redis_url.count("/") > 2 else redis_url
    url = f"{base}/9"
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server (aiosmtpd) on a free port, keeping what it receives."""
    from aiosmtpd.controller import Controller

    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


@pytest.fixture
def fresh_postgres_url(postgres_url: str, unique_name: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for this test, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = unique_name.replace("-", "_")
    # pre-ping: a fault test restarts the server between the CREATE and the DROP
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


SERVICE_FIXTURES = {
    "redis_url": "requires_redis",
    "postgres_url": "requires_postgres",
    "elasticsearch_url": "requires_elasticsearch",
}
_outcomes: dict[str, dict[str, int]] = {}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test by its directory (unit, contract, integration, e2e) and by the real servers
    its fixtures need, so the summary can say what ran against what."""
    for item in items:
        kind = Path(str(item.fspath)).relative_to(REPO / "tests").parts[0]
        if kind in {"unit", "contract", "integration", "e2e"}:
            item.add_marker(kind)
        fixtures = getattr(item, "fixturenames", ())
        for fixture, marker in SERVICE_FIXTURES.items():
            if fixture in fixtures:
                item.add_marker(marker)
        # SMTP servers are started by the tests themselves (aiosmtpd) behind these fixtures.
        if {"smtp", "inbox", "inbox_and_client", "fault_stack"} & set(fixtures):
            SERVICES_USED.setdefault(item.nodeid, set()).add("SMTP")
        # The fault tests restart their own Redis (tests/integration/faults).
        if "fault_stack" in fixtures:
            item.add_marker("requires_redis")
            SERVICES_USED.setdefault(item.nodeid, set()).add("Redis")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        for service in SERVICES_USED.get(report.nodeid, ()):
            counts = _outcomes.setdefault(service, {})
            counts[report.outcome] = counts.get(report.outcome, 0) + 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say how many tests ran against each real server: CI's log must show they ran."""
    terminalreporter.section("tests against real servers")
    for service in ("Redis", "PostgreSQL", "Elasticsearch", "SMTP"):
        counts = _outcomes.get(service, {})
        text = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) or "none ran"
        terminalreporter.write_line(f"{service:<14} {text}")
