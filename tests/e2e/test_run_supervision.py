"""`hitwatch run` keeps the product up: a killed worker is started again, and so is a
killed embedded Redis, each said in the progress output; Ctrl-C still stops it all."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from tests.smtp import free_port

HITWATCH = str(Path(sys.executable).with_name("hitwatch"))


def _children(pid: int) -> dict[int, str]:
    """Direct children of a process and their command lines (Linux /proc)."""
    found = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
            found[int(child)] = cmdline.decode()
    return found


class Output:
    """The launcher's output, read in a thread so the test can wait for a line."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        assert process.stdout is not None
        stream = process.stdout
        threading.Thread(
            target=lambda: [self.lines.put(line) for line in stream], daemon=True
        ).start()

    def wait_for(self, text: str, timeout: float = 180) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                continue
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"no line with {text!r} within {timeout} s:\n{''.join(self.seen)}")


def _redis_seen_by_web_app(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/api/v1/health", timeout=10) as response:
            return bool(json.load(response)["checks"]["redis"]["status"] == "ok")
    except OSError:  # the web app is still starting
        return False


def test_a_killed_worker_and_a_killed_redis_come_back(tmp_path) -> None:
    names = ("EMBEDDED_REDIS_PORT", "WEB_PORT", "MIRROR_PORT", "SMTP_PORT")
    ports = {name: str(free_port()) for name in names}
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"REDIS_URL", "DATABASE_URL", "ELASTICSEARCH_URL", "CRAWL_MODE"}
    }
    env.update(ports, HITWATCH_DATA_DIR=str(tmp_path / "data"))
    process = subprocess.Popen(
        [HITWATCH, "run", "--no-crawl"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output = Output(process)
    try:
        output.wait_for("web app:")
        base = f"http://127.0.0.1:{ports['WEB_PORT']}"
        children = _children(process.pid)
        (worker,) = [pid for pid, cmd in children.items() if "worker classify" in cmd]
        (server,) = [pid for pid, cmd in children.items() if "redis-server" in cmd]

        os.killpg(worker, signal.SIGKILL)  # the worker and its pool processes
        output.wait_for("worker-classify stopped (exit -9); restarted")
        restarted = [pid for pid, cmd in _children(process.pid).items() if "worker classify" in cmd]
        assert restarted and restarted != [worker]

        os.kill(server, signal.SIGKILL)
        output.wait_for("embedded Redis stopped")
        output.wait_for("embedded Redis is back")
        deadline = time.monotonic() + 90  # a loaded CI machine
        while not _redis_seen_by_web_app(base):
            assert time.monotonic() < deadline, "the web app never saw Redis again"
            time.sleep(1)
        output.wait_for("| queued:")  # progress goes on
        assert process.poll() is None, "".join(output.seen)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(60)
        output.wait_for("stopped.")
        assert process.stdout is not None
        process.stdout.close()
    assert process.returncode == 0, "".join(output.seen)
