"""`hitwatch bench classify` on a real Redis, at small sizes, so it cannot break unseen."""

from __future__ import annotations

import pytest
import redis
from click.testing import CliRunner

from classifier.bench import bench_classify
from classifier.cli import bench_classify_command

pytestmark = pytest.mark.requires_redis


def test_bench_reports_per_core_figures_and_cleans_up(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    results = bench_classify(40, [300, 1200], redis_url=redis_url)
    assert results["docs"] == 40
    assert results["classify_cpu_docs_per_s"] > 0
    rows = results["dedupe"]
    assert [row["stored_stories"] for row in rows] == [300, 1200]
    for row in rows:
        assert row["dedupe_cpu_docs_per_s"] > 0
        assert row["both_cpu_docs_per_s"] <= results["classify_cpu_docs_per_s"]
        assert row["both_with_redis_cpu_docs_per_s"] <= row["both_cpu_docs_per_s"]
        assert row["lookup_ms_mean"] > 0 and row["lookup_ms_p99"] > 0
        # Stored stories take memory: a story, its document, its hash and 21 buckets.
        assert row["redis_mb_per_100k_stories"] > 10
        # Past the window the buckets and signatures go; the exact-copy entries stay.
        assert row["swept_stories"] >= row["stored_stories"]
        assert 0 < row["kept_mb_per_100k_stories"] < row["redis_mb_per_100k_stories"] / 2
    assert not list(client.scan_iter(match="bench-*"))
    client.close()


def test_bench_command_prints_the_table(redis_url: str) -> None:
    result = CliRunner().invoke(
        bench_classify_command,
        ["--docs", "20", "--stories", "200", "--redis-url", redis_url, "--corpus", "/nonexistent"],
    )
    assert result.exit_code == 0, result.output
    assert "docs/s per core (CPU time)" in result.output
    rows = [line for line in result.output.splitlines() if line.strip().startswith("200 ")]
    assert [len(row.split()) for row in rows] == [10, 6]  # speed, then memory
    assert "Steady state after 365 days of 50,000 items a day" in result.output
    assert "near-duplicate window (4,500,000 stories)" in result.output  # 90 days by default


def test_bench_command_starts_a_private_redis_when_given_none() -> None:
    result = CliRunner().invoke(
        bench_classify_command, ["--docs", "10", "--stories", "100", "--corpus", "/nonexistent"]
    )
    assert result.exit_code == 0, result.output
    assert any(line.strip().startswith("100 ") for line in result.output.splitlines())
