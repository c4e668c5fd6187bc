"""Contract suites: one suite per pluggable part, run on every implementation.

Search backends: memory and SQLite FTS5 everywhere, Elasticsearch behind its marker
(`requires_elasticsearch`). Stores: SQLite everywhere, PostgreSQL behind
`requires_postgres`. `make test-unit` runs the server-free ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hitwatch.search import SearchIndex
from hitwatch.settings import Settings
from hitwatch.store import Database, open_database

SEARCH_BACKENDS = [
    "memory",
    "fts5",
    pytest.param("elasticsearch", marks=pytest.mark.requires_elasticsearch),
]


def open_backend(request: pytest.FixtureRequest, name: str, tmp_path: Path) -> SearchIndex:
    """A fresh, empty search index of the named backend (Elasticsearch: a `test-` index)."""
    if name == "memory":
        from hitwatch.search.memory import InMemoryIndex

        return InMemoryIndex()
    if name == "fts5":
        from hitwatch.search.fts5 import Fts5Index

        return Fts5Index(tmp_path / "search.db")
    from hitwatch.search.elastic import ElasticsearchIndex

    url = request.getfixturevalue("elasticsearch_url")
    return ElasticsearchIndex([url], request.getfixturevalue("unique_name"))


@pytest.fixture(params=SEARCH_BACKENDS)
def search_index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchIndex]:
    backend = open_backend(request, request.param, tmp_path)
    backend.ensure()
    try:
        yield backend
    finally:
        backend.drop()
        backend.close()


STORES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.requires_postgres)]


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Database]:
    """A migrated, empty store of record: SQLite in a temporary directory, or a fresh
    PostgreSQL database at TEST_DATABASE_URL that is dropped afterwards."""
    if request.param == "sqlite":
        url = settings.resolved_database_url
    else:
        url = request.getfixturevalue("fresh_postgres_url")
    database = open_database(url)
    database.migrate()
    try:
        yield database
    finally:
        database.dispose()
