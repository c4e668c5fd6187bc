"""Crawl tasks on the `crawl` queue: `crawler.crawl_source` (the scheduler's periodic
crawls) and `crawler.fetch_page` (replay of a page
that failed to download).

Twisted's reactor cannot be restarted inside a long-lived worker, so each task runs one
`hitwatch crawl --once` child process; crawl workers on several machines share the load.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from celery import Celery

from hitwatch.broker import create_celery, register_task
from hitwatch.errors import PermanentError, TransientError
from hitwatch.settings import Settings
from hitwatch.sources import configured_sources
from hitwatch.store.db import open_database
from hitwatch.store.failures import open_failure_log
from hitwatch.tasks import CRAWL_SOURCE, FETCH_PAGE

__all__ = ["crawl_args", "create_worker"]

# A crawl of one source that takes longer than this is stuck.
CRAWL_TIMEOUT_SECONDS = 3600


def crawl_args(settings: Settings, source_id: str, url: str = "") -> list[str]:
    hitwatch = shutil.which("hitwatch", path=str(Path(sys.executable).parent)) or "hitwatch"
    mode = "--demo" if settings.crawl_mode == "demo" else "--live"
    args = [hitwatch, "crawl", "--once", mode, f"--source={source_id}"]
    return [*args, f"--url={url}"] if url else args


def _run(args: list[str], what: str) -> None:
    try:
        done = subprocess.run(args, check=False, timeout=CRAWL_TIMEOUT_SECONDS, capture_output=True)
    except subprocess.TimeoutExpired as exc:
        raise TransientError(f"{what} took over {CRAWL_TIMEOUT_SECONDS}s") from exc
    if done.returncode != 0:
        output = done.stderr or done.stdout
        raise TransientError(
            f"{what} exited with {done.returncode}: {output.decode('utf-8', 'replace')[-2000:]}"
        )


def create_worker(settings: Settings) -> Celery:
    app = create_celery(settings, "crawler")
    known = {source.id for source in configured_sources(settings)}

    def source_of(payload: dict[str, Any]) -> str:
        source_id = str(payload.get("source_id", ""))
        if source_id not in known:
            raise PermanentError(f"no source definition {source_id!r}")
        return source_id

    def crawl_source(payload: dict[str, Any]) -> None:
        source_id = source_of(payload)
        _run(crawl_args(settings, source_id), f"crawl of {source_id}")

    def fetch_page(payload: dict[str, Any]) -> None:
        """Replay of a failed download: fetch that one page again and hand it over."""
        source_id, url = source_of(payload), str(payload.get("url", ""))
        if not url:
            raise PermanentError("fetch_page payload has no url")
        _run(crawl_args(settings, source_id, url), f"fetch of {url}")

    failures = open_failure_log(settings, open_database(settings.resolved_database_url))
    register_task(app, CRAWL_SOURCE, crawl_source, failures, settings)
    register_task(app, FETCH_PAGE, fetch_page, failures, settings)
    return app
