"""Nothing lost, ever: each fault of issue #23 on the real servers, with the accounting.

Pages go through real `hitwatch worker` processes (classify, index, notify) over a real
Redis; a fault strikes at about 30 %; then every page handed over must be stored and
searchable or have an open failure record, nothing stored or searchable twice, no
alert mailed twice (counted by a real SMTP server). `pytest -s` prints the accounting.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hitwatch.bench.faults import (
    DiskFull,
    HarnessError,
    KillWorker,
    Poison,
    RestartRedis,
    ServerFault,
    SmtpDown,
    UnwritableStore,
    mount_tmpfs,
    run_fault,
)
from tests.conftest import IN_CI
from tests.integration.faults.conftest import MakeStack, assert_nothing_lost, services

pytestmark = pytest.mark.requires_redis

ITEMS = 120


def test_a_classify_an_index_and_a_notify_worker_killed_mid_task_lose_nothing(
    fault_stack: MakeStack,
) -> None:
    stack = fault_stack("servers")
    result = run_fault(stack, KillWorker(("classify", "index", "notify")), ITEMS)
    assert_nothing_lost(result)
    assert result.failures == 0 and result.indexed == ITEMS
    assert sum("SIGKILLed mid-task" in note for note in result.notes) == 3
    # The dead workers' messages came back after BROKER_VISIBILITY_TIMEOUT (10 s here),
    # not after an hour, nor after kombu's 300 s lock of a worker killed in its sweep.
    idle = next(n for n in result.notes if n.startswith("queues idle"))
    assert int(idle.split()[2]) < 60, idle


@pytest.mark.parametrize(
    ("fault", "backend"),
    [
        (RestartRedis(), "servers"),  # SIGTERM, as `docker compose restart redis` does
        (RestartRedis("embedded-redis-restart", sigterm=False), "sqlite"),  # `hitwatch run`'s
    ],
    ids=["compose-aof", "embedded"],
)
def test_redis_restarted_three_times_loses_nothing(fault_stack: MakeStack, fault, backend) -> None:
    result = run_fault(fault_stack(backend), fault, ITEMS)
    assert_nothing_lost(result)


@pytest.mark.parametrize("backend", ["sqlite", "servers"])
def test_a_store_unwritable_longer_than_the_retries_loses_nothing(
    fault_stack: MakeStack, backend
) -> None:
    result = run_fault(fault_stack(backend), UnwritableStore(), ITEMS)
    assert_nothing_lost(result)
    assert result.replayed > 0, "the fault outlasted the retries: failures were recorded"
    assert result.indexed == ITEMS, "the replay stored every recorded page"


@pytest.mark.timeout(600)
def test_elasticsearch_stopped_for_a_minute_then_every_page_is_indexed(
    fault_stack: MakeStack,
) -> None:
    fault = ServerFault(
        "elasticsearch-stop",
        stop=lambda: services("down", "elasticsearch"),
        start=lambda: services("up", "elasticsearch"),
        hold_seconds=60,
    )
    result = run_fault(fault_stack("servers"), fault, ITEMS, timeout=400)
    assert_nothing_lost(result)
    assert result.replayed > 0, "a minute outlasts the retries: failures that a replay clears"
    assert result.indexed == result.searchable == ITEMS


def test_postgresql_restarted_mid_run_loses_nothing(fault_stack: MakeStack) -> None:
    fault = ServerFault(
        "postgres-restart",
        stop=lambda: services("down", "postgres"),
        start=lambda: services("up", "postgres"),
        hold_seconds=3,
    )
    result = run_fault(fault_stack("servers"), fault, ITEMS)
    assert_nothing_lost(result)
    assert result.indexed == ITEMS


def test_smtp_down_while_alerts_go_out_sends_each_alert_once(fault_stack: MakeStack) -> None:
    stack = fault_stack("sqlite")
    result = run_fault(stack, SmtpDown(), ITEMS)
    assert_nothing_lost(result)
    assert stack.inbox.refused > 0, "alerts were refused while the server was down"
    assert result.alerts_sent > 0


def test_a_full_disk_under_the_sqlite_store_is_a_clear_error_and_no_corruption(
    fault_stack: MakeStack, tmp_path: Path
) -> None:
    workdir = tmp_path / "run"
    try:
        unmount = mount_tmpfs(workdir / "data", 24)
    except HarnessError as error:
        if IN_CI or os.geteuid() == 0:
            raise  # CI runs as root: the fault must run there
        pytest.skip(f"disk-full needs a small file system of its own: {error}")
    try:
        result = run_fault(fault_stack("sqlite", workdir), DiskFull(), ITEMS)
    finally:
        unmount()
    assert_nothing_lost(result)
    assert "store integrity after the full disk: ok" in result.notes


def test_poison_pages_are_failures_within_seconds_and_hold_nothing_up(
    fault_stack: MakeStack,
) -> None:
    result = run_fault(fault_stack("sqlite"), Poison(within_seconds=30), ITEMS)
    assert_nothing_lost(result)
    assert result.failures == 3, "the 50 MB page, the nested page and the binary file"
    assert result.indexed == result.handed_over - 3
