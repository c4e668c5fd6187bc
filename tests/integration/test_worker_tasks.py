"""Every task routed to a queue has a handler in that queue's worker: a task added to
hitwatch.tasks without one would sit in its queue (batch workers) or be refused."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from hitwatch.batches import BatchWorker
from hitwatch.operations import BATCH_QUEUES, WORKERS
from hitwatch.settings import load_settings
from hitwatch.tasks import TASK_QUEUES

pytestmark = pytest.mark.requires_redis


@pytest.mark.parametrize("queue", sorted(WORKERS))
def test_the_worker_of_each_queue_handles_every_task_routed_to_it(
    queue: str, tmp_path: Path, isolated_redis_url: str
) -> None:
    settings = load_settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'store.db'}",
        redis_url=isolated_redis_url,
    )
    worker = importlib.import_module(WORKERS[queue]).create_worker(settings)
    routed = {name for name, routed_to in TASK_QUEUES.items() if routed_to == queue}
    if queue in BATCH_QUEUES:
        assert isinstance(worker, BatchWorker)
        assert set(worker._handlers) == routed
    else:
        assert routed <= set(worker.tasks)
