"""Web app fixtures: the app over a migrated SQLite store and an in-memory search index."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hitwatch.search.memory import InMemoryIndex
from hitwatch.settings import Settings, load_settings
from hitwatch.store import Database
from tests.factories import Doc, FakeCelery, add_documents
from webapp import create_app


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # Nothing listens on port 9 (discard): the health check sees Redis as unavailable.
    # A Redis URL makes this a deployment, which brings its own key.
    return load_settings(
        data_dir=tmp_path / "data",
        redis_url="redis://127.0.0.1:9/0",
        secret_key="unit-test-secret-key-0123456789abcdef",
    )


@pytest.fixture
def index() -> InMemoryIndex:
    search_index = InMemoryIndex()
    search_index.ensure()
    return search_index


@pytest.fixture
def celery() -> FakeCelery:
    return FakeCelery()


@pytest.fixture
def app(settings: Settings, database: Database, index: InMemoryIndex, celery: FakeCelery) -> Flask:
    return create_app(
        settings,
        database=database,
        search_index=index,
        celery=celery,
        test_config={"TESTING": True, "RATELIMIT_STORAGE_URI": "memory://"},
    )


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def seed(database: Database, index: InMemoryIndex) -> Callable[[list[Doc]], None]:
    def _seed(docs: list[Doc]) -> None:
        add_documents(database, index, docs)

    return _seed
