"""Fixtures for integration tests: real worker processes, cleaned up after each test."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.support import Workers


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[[dict[str, str]], Workers]]:
    made: list[Workers] = []

    def make(env: dict[str, str]) -> Workers:
        group = Workers({**os.environ, **env}, tmp_path)
        made.append(group)
        return group

    yield make
    for group in made:
        group.stop_all()
