"""`hitwatch run` as a user starts it, for e2e tests: fresh data dir, free ports, the
output read in a thread so a test can wait for a line, and a clean Ctrl-C at the end."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.smtp import free_port

HITWATCH = str(Path(sys.executable).with_name("hitwatch"))
PORTS = ("EMBEDDED_REDIS_PORT", "WEB_PORT", "MIRROR_PORT", "SMTP_PORT")


@dataclass
class Run:
    process: subprocess.Popen[str]
    env: dict[str, str]
    ports: dict[str, str]
    lines: queue.Queue[str] = field(default_factory=queue.Queue)
    seen: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.ports['WEB_PORT']}"

    def wait_for(self, text: str, timeout: float = 180) -> str:
        """The first output line (from now on) that holds `text`."""
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


@contextmanager
def hitwatch_run(data_dir: Path, *args: str) -> Iterator[Run]:
    """`hitwatch run ARGS` on embedded defaults; stopped with Ctrl-C, which must work."""
    ports = {name: str(free_port()) for name in PORTS}
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"REDIS_URL", "DATABASE_URL", "ELASTICSEARCH_URL", "CRAWL_MODE"}
    }
    env.update(ports, HITWATCH_DATA_DIR=str(data_dir))
    process = subprocess.Popen(
        [HITWATCH, "run", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    run = Run(process, env, ports)
    assert process.stdout is not None
    stream = process.stdout
    threading.Thread(target=lambda: [run.lines.put(line) for line in stream], daemon=True).start()
    try:
        yield run
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(60)
        run.wait_for("stopped.")
        stream.close()
    assert process.returncode == 0, "".join(run.seen)
