"""A time limit on one piece of work in a worker, so a pathological page cannot hold the
queue behind it: past the limit the work stops with an error that becomes a failure
record. Uses SIGALRM, so it applies in a process's main thread (Celery's prefork and
solo pools run tasks there); elsewhere the work runs without a limit."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["deadline"]


@contextmanager
def deadline(seconds: float, error: Exception) -> Iterator[None]:
    """Raise `error` inside the block once `seconds` have passed (0: no limit)."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(_signum: int, _frame: FrameType | None) -> None:
        raise error

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
