"""`hitwatch backup` and `hitwatch restore` round trips on both stores of record, with the
FTS5 index and a real Redis (queues with messages, keys with a time to live)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from hitwatch.backup import BackupError, backup_installation, restore_installation
from hitwatch.cli import main
from hitwatch.search import SearchRequest, open_search_index
from hitwatch.search.query import parse_query
from hitwatch.settings import Settings, load_settings
from hitwatch.store import Article, open_database
from tests.factories import SAMPLE, add_documents


@pytest.fixture
def second_redis_url(isolated_redis_url: str) -> Iterator[str]:
    """Another empty database on the same server, for the restored installation."""
    url = isolated_redis_url.rsplit("/", 1)[0] + "/10"
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


def _install(settings: Settings) -> None:
    database = open_database(settings.resolved_database_url)
    database.migrate()
    index = open_search_index(settings)
    index.ensure()
    add_documents(database, index, SAMPLE)
    index.close()
    database.dispose()
    client = redis.Redis.from_url(settings.resolved_redis_url)
    client.rpush("classify", b'{"body": "queued message 1"}', b'{"body": "\\xe5\\x8c\\xbb"}')
    client.hset("hitwatch:story:abc", mapping={"doc": "a1", "size": 2})
    client.set("crawler:seen:https://example.org/x", 1, ex=3600)
    client.close()


def _state(settings: Settings) -> dict[str, object]:
    database = open_database(settings.resolved_database_url)
    with database.session() as session:
        titles = sorted(session.scalars(text("SELECT title FROM articles")))
        articles = session.query(Article).count()
    database.dispose()
    client = redis.Redis.from_url(settings.resolved_redis_url)
    state: dict[str, object] = {
        "articles": articles,
        "titles": titles,
        "queue": client.lrange("classify", 0, -1),
        "story": client.hgetall("hitwatch:story:abc"),
        "ttl_kept": 3500 < client.ttl("crawler:seen:https://example.org/x") <= 3600,
    }
    client.close()
    if not settings.elasticsearch_url:
        index = open_search_index(settings)
        found = index.search(SearchRequest(query=parse_query("电子病历")))
        state["search"] = sorted(hit.doc_id for hit in found.hits)
        index.close()
    return state


def test_round_trip_on_sqlite_fts5_and_redis(
    tmp_path: Path, isolated_redis_url, second_redis_url
) -> None:
    source = load_settings(data_dir=tmp_path / "source", redis_url=isolated_redis_url)
    _install(source)
    before = _state(source)
    assert before["articles"] == len(SAMPLE) and before["search"] and before["ttl_kept"]

    folder = tmp_path / "backup"
    steps: list[str] = []
    manifest = backup_installation(source, folder, lambda step, _done, _total: steps.append(step))
    assert manifest.store == "sqlite" and manifest.redis_keys == 3
    assert {"store", "search", "redis"} <= set(steps)
    with pytest.raises(BackupError, match="not empty"):
        backup_installation(source, folder)

    target = load_settings(data_dir=tmp_path / "target", redis_url=second_redis_url)
    restore_installation(target, folder)
    assert _state(target) == before
    with pytest.raises(BackupError, match="already hold data"):
        restore_installation(target, folder)
    restore_installation(target, folder, force=True)
    assert _state(target) == before


def test_round_trip_on_postgresql_through_the_commands(
    tmp_path: Path,
    postgres_url: str,
    unique_name: str,
    isolated_redis_url,
    second_redis_url,
    monkeypatch,
) -> None:
    from sqlalchemy.engine import make_url

    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    names = [f"{unique_name}_{side}".replace("-", "_") for side in ("source", "target")]
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    urls = [
        make_url(postgres_url).set(database=n).render_as_string(hide_password=False) for n in names
    ]
    try:
        source = load_settings(
            data_dir=tmp_path / "source", redis_url=isolated_redis_url, database_url=urls[0]
        )
        _install(source)
        before = _state(source)
        runner = CliRunner()
        for name, value in (("DATABASE_URL", urls[0]), ("REDIS_URL", isolated_redis_url)):
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("HITWATCH_DATA_DIR", str(tmp_path / "source"))
        made = runner.invoke(main, ["backup", "--to", str(tmp_path / "backup")])
        assert made.exit_code == 0, made.output
        assert f"backed up {len(SAMPLE)} articles (postgresql)" in made.output

        for name, value in (("DATABASE_URL", urls[1]), ("REDIS_URL", second_redis_url)):
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("HITWATCH_DATA_DIR", str(tmp_path / "target"))
        restored = runner.invoke(main, ["restore", str(tmp_path / "backup")])
        assert restored.exit_code == 0, restored.output
        target = load_settings(
            data_dir=tmp_path / "target", redis_url=second_redis_url, database_url=urls[1]
        )
        after = _state(target)
        assert after == before
    finally:
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
