"""The monitoring files in `ops/`: the Prometheus alert rules and the Grafana dashboard
parse, name only metrics hitwatch exports, and the rules fire when they should."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from prometheus_client import REGISTRY

from hitwatch.metrics import METRIC_NAMES
from hitwatch.monitoring import SCRAPED_NAMES
from tests.conftest import IN_CI, REPO

OPS = REPO / "ops"
RULES = OPS / "prometheus-rules.yml"
RULE_TESTS = OPS / "prometheus-rules.test.yml"
DASHBOARD = OPS / "grafana-dashboard.json"
EXPORTED = METRIC_NAMES | SCRAPED_NAMES
# Series a histogram is exposed as, each named by its base name plus one of these.
HISTOGRAM_PARTS = ("_bucket", "_count", "_sum")
_NAME = re.compile(r"\b(hitwatch_[a-z_]+)")


def _rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"]]


def _dashboard_exprs() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def _metric(series: str) -> str:
    """The exported metric a series name belongs to (a histogram's base name)."""
    for part in HISTOGRAM_PARTS:
        base = series.removesuffix(part)
        if base != series and base in EXPORTED:
            return base
    return series


def _referenced(exprs: list[str]) -> set[str]:
    return {_metric(name) for expr in exprs for name in _NAME.findall(expr)}


def test_every_rule_is_complete_and_parses() -> None:
    rules = _rules()
    assert len(rules) >= 4
    names = {rule["alert"] for rule in rules}
    # What the operator must hear about: a source broken, a backlog, failures, workers down.
    assert {
        "HitwatchSourceBroken",
        "HitwatchQueueBacklog",
        "HitwatchFailuresRising",
        "HitwatchWorkersDown",
    } <= names
    for rule in rules:
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
        assert re.fullmatch(r"\d+[smh]", rule["for"]), rule["alert"]
        promql_parser.parse(rule["expr"])  # raises on a syntax error


def test_every_dashboard_query_parses() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dashboard["uid"] == "hitwatch" and dashboard["panels"]
    for panel in dashboard["panels"]:
        assert panel["title"] and panel["targets"], panel
        for target in panel["targets"]:
            promql_parser.parse(target["expr"])


def test_a_broken_expression_is_caught() -> None:
    with pytest.raises(ValueError):
        promql_parser.parse("sum by (queue (hitwatch_queue_depth)")


def test_rules_and_dashboard_name_only_exported_metrics() -> None:
    for where, exprs in (
        ("rules", [r["expr"] for r in _rules()]),
        ("dashboard", _dashboard_exprs()),
    ):
        unknown = _referenced(exprs) - EXPORTED
        assert not unknown, f"{where} name metrics hitwatch does not export: {sorted(unknown)}"


def test_the_dashboard_shows_every_exported_metric() -> None:
    missing = EXPORTED - _referenced(_dashboard_exprs())
    assert not missing, f"add a panel for {sorted(missing)}"


def test_the_names_listed_are_the_process_metrics_registered() -> None:
    registered = {
        family.name + ("_total" if family.type == "counter" else "")
        for family in REGISTRY.collect()
        if family.name.startswith("hitwatch_")
    }
    assert registered == METRIC_NAMES


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        reason = "promtool not installed (scripts/browser installs Debian's prometheus package)"
        if IN_CI:
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)
    return found


def _run(*args: str | Path) -> str:
    result = subprocess.run(
        [_promtool(), *map(str, args)], capture_output=True, text=True, timeout=120, cwd=OPS
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_promtool_accepts_the_rules() -> None:
    assert f"SUCCESS: {len(_rules())} rules found" in _run("check", "rules", RULES)


def test_the_rules_fire_on_made_up_series(tmp_path: Path) -> None:
    """Source broken, workers down, failures rising and a backlog fire; quiet series don't."""
    assert "SUCCESS" in _run("test", "rules", RULE_TESTS)
    # The checks can fail: a rule that never fires fails its test.
    broken = tmp_path / "prometheus-rules.yml"
    broken.write_text(
        RULES.read_text(encoding="utf-8").replace(
            "max by (source) (hitwatch_source_broken) == 1",
            "max by (source) (hitwatch_source_broken) == 2",
        ),
        encoding="utf-8",
    )
    shutil.copy(RULE_TESTS, tmp_path)
    result = subprocess.run(
        [_promtool(), "test", "rules", "prometheus-rules.test.yml"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode != 0 and "HitwatchSourceBroken" in result.stdout + result.stderr
