"""`hitwatch bench alerts` prints its figures, and its rules are valid queries."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from hitwatch.bench.alerts import bench_command, random_rules
from hitwatch.bench.search import SEEDS
from hitwatch.search.matching import compile_rule
from tests.conftest import IN_CI


def test_random_rules_parse_and_vary():
    rules = random_rules(["电子病历", "医保", "互联网医院", "数据"], 200)
    assert len(set(rules)) > 50
    for text in rules:
        compile_rule(1, text)


def test_bench_prints_throughput():
    if not any(SEEDS.glob("*.txt")) and not IN_CI:
        pytest.skip(f"no seed pages in {SEEDS}")
    result = CliRunner().invoke(bench_command, ["--rules", "300", "--docs", "20"])
    assert result.exit_code == 0, result.output
    assert "documents per second" in result.output
    assert "rules matched per second" in result.output
