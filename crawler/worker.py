"""The `crawler.crawl_source` task: the scheduler's periodic crawls, on the `crawl` queue.

Twisted's reactor cannot be restarted inside a long-lived worker, so each task runs one
`hitwatch crawl --once` child process; crawl workers on several machines share the load.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import redis
from celery import Celery

from hitwatch.broker import create_celery, register_task
from hitwatch.errors import PermanentError, TransientError
from hitwatch.settings import Settings
from hitwatch.sources import load_sources
from hitwatch.store.db import open_database
from hitwatch.store.failures import FailureLog
from hitwatch.tasks import CRAWL_SOURCE

__all__ = ["crawl_args", "create_worker"]

# A crawl of one source that takes longer than this is stuck.
CRAWL_TIMEOUT_SECONDS = 3600


def crawl_args(settings: Settings, source_id: str) -> list[str]:
    hitwatch = shutil.which("hitwatch", path=str(Path(sys.executable).parent)) or "hitwatch"
    mode = "--demo" if settings.crawl_mode == "demo" else "--live"
    return [hitwatch, "crawl", "--once", mode, f"--source={source_id}"]


def create_worker(settings: Settings) -> Celery:
    app = create_celery(settings, "crawler")
    known = {source.id for source in load_sources()}

    def crawl_source(payload: dict[str, Any]) -> None:
        source_id = str(payload.get("source_id", ""))
        if source_id not in known:
            raise PermanentError(f"no source definition {source_id!r}")
        try:
            done = subprocess.run(
                crawl_args(settings, source_id),
                check=False,
                timeout=CRAWL_TIMEOUT_SECONDS,
                capture_output=True,
            )
        except subprocess.TimeoutExpired as exc:
            raise TransientError(
                f"crawl of {source_id} took over {CRAWL_TIMEOUT_SECONDS}s"
            ) from exc
        if done.returncode != 0:
            tail = (
                done.stderr.decode("utf-8", "replace")[-2000:]
                or done.stdout.decode("utf-8", "replace")[-2000:]
            )
            raise TransientError(f"crawl of {source_id} exited with {done.returncode}: {tail}")

    client = redis.Redis.from_url(settings.resolved_redis_url, socket_connect_timeout=2)
    failures = FailureLog(open_database(settings.resolved_database_url), client)
    register_task(app, CRAWL_SOURCE, crawl_source, failures, settings)
    return app
