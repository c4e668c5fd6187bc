"""`hitwatch run` keeps the product up: a killed worker is started again, and so is a
killed embedded Redis, each said in the progress output; Ctrl-C still stops it all."""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.request
from pathlib import Path

from tests.e2e.launch import hitwatch_run


def _children(pid: int) -> dict[int, str]:
    """Direct children of a process and their command lines (Linux /proc)."""
    found = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
            found[int(child)] = cmdline.decode()
    return found


def _redis_seen_by_web_app(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/api/v1/health", timeout=10) as response:
            return bool(json.load(response)["checks"]["redis"]["status"] == "ok")
    except OSError:  # the web app is still starting
        return False


def test_a_killed_worker_and_a_killed_redis_come_back(tmp_path) -> None:
    with hitwatch_run(tmp_path / "data", "--no-crawl") as run:
        run.wait_for("web app:")
        pid = run.process.pid
        children = _children(pid)
        (worker,) = [child for child, cmd in children.items() if "worker classify" in cmd]
        (server,) = [child for child, cmd in children.items() if "redis-server" in cmd]

        os.killpg(worker, signal.SIGKILL)  # the worker and its pool processes
        run.wait_for("worker-classify stopped (exit -9); restarted")
        restarted = [child for child, cmd in _children(pid).items() if "worker classify" in cmd]
        assert restarted and restarted != [worker]

        os.kill(server, signal.SIGKILL)
        run.wait_for("embedded Redis stopped")
        run.wait_for("embedded Redis is back")
        deadline = time.monotonic() + 90  # a loaded CI machine
        while not _redis_seen_by_web_app(run.base):
            assert time.monotonic() < deadline, "the web app never saw Redis again"
            time.sleep(1)
        run.wait_for("| queued:")  # progress goes on
        assert run.process.poll() is None, "".join(run.seen)
