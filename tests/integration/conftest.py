"""Fixtures for integration tests: real worker processes, cleaned up after each test."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hitwatch.secret_key import embedded_secret_key
from tests.integration.support import Workers


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[[dict[str, str]], Workers]]:
    made: list[Workers] = []

    def make(env: dict[str, str]) -> Workers:
        env = {**os.environ, **env}
        if not env.get("SECRET_KEY"):
            # As `hitwatch run` does: workers on a Redis server are a deployment and need a
            # key; the demo's key of their data dir is the one in-process test code signs with.
            data_dir = Path(env.get("HITWATCH_DATA_DIR") or tmp_path / "data").resolve()
            env["SECRET_KEY"] = embedded_secret_key(data_dir)
        group = Workers(env, tmp_path)
        made.append(group)
        return group

    yield make
    for group in made:
        group.stop_all()
