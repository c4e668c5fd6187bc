"""Fixtures of the fault tests: a `FaultStack` on a private embedded Redis (AOF on), a real
SMTP server, and the store and index of the backend asked for."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from hitwatch.bench.faults import Accounting, FaultStack
from hitwatch.bench.inbox import Inbox
from hitwatch.embedded import EmbeddedRedis
from tests.conftest import REPO
from tests.smtp import free_port

MakeStack = Callable[..., FaultStack]


@pytest.fixture
def fault_stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeStack]:
    """`fault_stack(backend)`: "sqlite" (SQLite + FTS5) or "servers" (PostgreSQL +
    Elasticsearch of scripts/services)."""
    made: list[tuple[FaultStack, Controller]] = []

    def make(backend: str, workdir: Path | None = None) -> FaultStack:
        workdir = workdir or tmp_path / "run"
        inbox = Inbox()
        smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
        smtp.start()
        broker = EmbeddedRedis(tmp_path / "broker", free_port())
        broker.start()
        stack = FaultStack(workdir, broker, inbox, smtp.port)
        if backend == "servers":
            stack.database_url = request.getfixturevalue("fresh_postgres_url")
            stack.elasticsearch_url = request.getfixturevalue("elasticsearch_url")
            stack.elasticsearch_index = request.getfixturevalue("unique_name")
        made.append((stack, smtp))
        return stack

    yield make
    for stack, smtp in made:
        stack.stop_workers()
        try:
            stack.drop_index()
        finally:
            stack.broker.stop()
            smtp.stop()


def services(*args: str) -> None:
    """scripts/services, as CI runs it (same ports and state folder as the test servers)."""
    done = subprocess.run(
        [str(REPO / "scripts" / "services"), *args], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr


def assert_nothing_lost(result: Accounting) -> None:
    print(result.line())  # the accounting line, shown by pytest -s
    for note in result.notes:
        print(f"  {note}")
    assert result.lost == 0, result
    assert result.duplicates == 0, result
    assert result.alerts_twice == 0, result
    assert result.alerts_unsent == 0, result
    assert result.stored_and_failed == 0, result
    assert result.searchable == result.stored, result
    assert result.holds
