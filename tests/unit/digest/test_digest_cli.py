"""`hitwatch digest` build, list, show, publish and correct through the real command."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from hitwatch.cli import main
from hitwatch.digest import check_invariants
from tests.unit.digest.samples import store_bulletin


@pytest.fixture
def run(settings, database, monkeypatch):
    monkeypatch.setenv("HITWATCH_DATA_DIR", str(settings.data_dir))
    with database.session() as session:
        store_bulletin(session)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, ["digest", *args], catch_exceptions=False)

    return invoke


def test_build_show_publish_correct(run):
    built = run("build", "--month", "2024-07")
    assert built.exit_code == 0 and "4 of 4 items included" in built.output
    issue_id = built.output.split()[1].rstrip(":")
    assert run("build", "--month", "2024-07").output.split()[1].rstrip(":") == issue_id

    draft = run("show", issue_id)
    assert "草稿（未发布）" in draft.output and check_invariants(draft.output) == []
    assert run("show", issue_id, "--format", "md").output.startswith("# 卫生信息化监测月报")

    published = run("publish", issue_id)
    assert "published as number 1" in published.output
    shown = run("show", issue_id).output
    assert shown.startswith("卫生信息化监测月报\n第1期\n") and check_invariants(shown) == []

    again = run("publish", issue_id)
    assert again.exit_code == 1 and "已经发布，不能再修改" in again.output
    assert f"hitwatch digest correct {issue_id}" in again.output
    corrected = run("correct", issue_id, "--note", "更正第2条来源。")
    assert "revision 2" in corrected.output
    assert "rev 2" in run("list").output


def test_period_options_are_checked(run):
    assert "exactly one of" in run("build").output
    assert "请写成 年-月，例如 2024-07" in run("build", "--month", "July").output
    weekly = run("build", "--week", "2024-W27")
    assert "weekly draft 2024-07-01..2024-07-07, 1 of 1" in weekly.output
    custom = run("build", "--from", "2024-07-10", "--to", "2024-07-12")
    assert "custom draft" in custom.output
    assert "没有编号 99 的简报：运行 hitwatch digest list" in run("show", "99").output
