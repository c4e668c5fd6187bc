"""The crawler's commands and the crawl task's child process."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.cli import crawl_command, sources_command
from crawler.health import SourceRun, record_runs, upsert_sources
from crawler.run import CrawlError, run_crawl
from crawler.worker import crawl_args
from hitwatch.sources import load_sources


@pytest.fixture
def env(settings, database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HITWATCH_DATA_DIR", str(settings.data_dir))


def test_sources_lists_every_definition_with_its_health(env, database) -> None:
    from datetime import UTC, datetime

    upsert_sources(database, load_sources())
    record_runs(
        database, [SourceRun("nhc", links_found=7, errors=1)], datetime(2024, 7, 31, 8, tzinfo=UTC)
    )
    record_runs(
        database,
        [SourceRun("miit", links_found=2, problems=["文件公示: items without title"])],
        datetime(2024, 7, 31, 8, tzinfo=UTC),
    )
    result = CliRunner().invoke(sources_command)
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()[1:] if line.strip()}
    assert "国家卫生健康委" in lines["nhc"]
    assert "2024-07-31 16:00" in lines["nhc"]  # 08:00 UTC, shown in Beijing time
    assert "times are Beijing time (UTC+8)" in result.output
    assert lines["nhc"].split()[-5:] == ["7", "1", "1", "fetch", "error(s)"]
    assert "broken" in lines["miit"]
    assert "never" in lines["bjnews"]
    assert "1 source(s) broken" in result.output


def test_crawl_rejects_an_unknown_source(env) -> None:
    result = CliRunner().invoke(crawl_command, ["--once", "--demo", "--source", "nope"])
    assert result.exit_code == 2
    assert "unknown source(s) nope" in result.output


def test_demo_crawl_without_mirror_says_how_to_start_it(settings) -> None:
    closed = settings.model_copy(update={"mirror_port": 9})  # discard port: nothing listens
    with pytest.raises(CrawlError, match="hitwatch mirror"):
        run_crawl(closed, list(load_sources())[:1], demo=True, mirror_wait=0)


def test_crawl_task_runs_one_source_in_the_settings_mode(settings) -> None:
    args = crawl_args(settings.model_copy(update={"crawl_mode": "live"}), "nhc")
    assert Path(args[0]).name == "hitwatch"
    assert args[1:] == ["crawl", "--once", "--live", "--source=nhc"]
    again = crawl_args(settings, "nhc", "http://www.nhc.gov.cn/a.shtml")
    assert again[2:] == ["--once", "--demo", "--source=nhc", "--url=http://www.nhc.gov.cn/a.shtml"]


def test_url_needs_exactly_one_source(env) -> None:
    result = CliRunner().invoke(crawl_command, ["--demo", "--url", "https://www.gov.cn/a.htm"])
    assert result.exit_code == 2
    assert "--url needs exactly one --source" in result.output
