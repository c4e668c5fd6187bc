"""`hitwatch reindex` from the shell, on the embedded FTS5 index and on a real
Elasticsearch: the index becomes what the store holds, behind the same name."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from elasticsearch import Elasticsearch

from hitwatch.cli import main
from hitwatch.search import SearchRequest, open_search_index
from hitwatch.settings import load_settings
from hitwatch.store import open_database
from tests.factories import add_documents, filler, search_document


@pytest.fixture(
    params=["fts5", pytest.param("elasticsearch", marks=pytest.mark.requires_elasticsearch)]
)
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("HITWATCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:9/0")  # not used by reindex
    monkeypatch.setenv("SECRET_KEY", "integration-secret-0123456789abcdef")
    url = ""
    if request.param == "elasticsearch":
        url = request.getfixturevalue("elasticsearch_url")
        monkeypatch.setenv("ELASTICSEARCH_URL", url)
        monkeypatch.setenv("ELASTICSEARCH_INDEX", request.getfixturevalue("unique_name"))
    else:
        monkeypatch.setenv("ELASTICSEARCH_URL", "")
    settings = load_settings()
    index = open_search_index(settings)
    index.ensure()
    yield settings, index, url
    index.drop()
    index.close()


def test_reindex_command_rebuilds_behind_the_same_name(backend) -> None:
    settings, index, url = backend
    database = open_database(settings.resolved_database_url)
    database.migrate()
    docs = filler(25)
    add_documents(database, index, docs)
    index.index([search_document("ghost", title="信息平台（不在库中）")])
    index.refresh()
    assert index.count(SearchRequest(text="信息平台")) == 26

    runner = CliRunner()
    for run in (1, 2):  # and again: safe to repeat
        result = runner.invoke(main, ["reindex", "--batch", "10"])
        assert result.exit_code == 0, result.output
        assert "reindexed 25 articles" in result.output
        assert "reindex (" in result.output  # the progress bar's label
        index.refresh()
        assert index.count(SearchRequest(text="信息平台")) == 25, f"run {run}"
    if url:
        client = Elasticsearch([url])
        behind = sorted(client.indices.get_alias(name=settings.elasticsearch_index))
        assert behind == [f"{settings.elasticsearch_index}-v3"], "v1, then v2, then v3"
        assert not client.indices.exists(index=f"{settings.elasticsearch_index}-v1")
        assert not client.indices.exists(index=f"{settings.elasticsearch_index}-v2")
        client.close()
    database.dispose()
