"""`hitwatch alerts` list, add, remove and test through the real command."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from hitwatch.cli import main
from hitwatch.search.memory import InMemoryIndex
from tests.factories import Doc, add_documents


@pytest.fixture
def run(settings, database, monkeypatch):
    monkeypatch.setenv("HITWATCH_DATA_DIR", str(settings.data_dir))
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, ["alerts", *args], catch_exceptions=False)

    return invoke


def test_add_list_remove(run):
    added = run(
        "add", "Reader@example.org", "电子病历 type:政策文件", "--name", "病历政策", "--confirmed"
    )
    assert added.exit_code == 0 and "is active for reader@example.org" in added.output
    rule_id = added.output.split()[1]
    listed = run("list").output
    assert "active" in listed and "病历政策" in listed and "[电子病历 type:政策文件]" in listed
    assert "sent 0 " in listed
    assert "0 rule(s)" in run("list", "--email", "other@example.org").output
    bad = run("add", "reader@example.org", "(电子病历", "--confirmed")
    assert bad.exit_code == 1 and "bad query" in bad.output
    assert "removed" in run("remove", rule_id).output
    assert "0 rule(s)" in run("list").output
    assert run("remove", rule_id).exit_code == 1


def test_add_without_confirmed_mails_the_opt_in(run, monkeypatch):
    sent = []
    monkeypatch.setattr(
        "hitwatch.mail.open_transport",
        lambda _settings: type("T", (), {"send": lambda self, m: sent.append(m)})(),
    )
    result = run("add", "reader@example.org", "医保")
    assert "pending" in result.output and len(sent) == 1
    assert "pending" in run("list").output


def test_test_shows_which_recent_stories_match(run, database):
    add_documents(
        database,
        InMemoryIndex(),
        [
            Doc("t1", "电子病历评级启动", "正文", published_at=datetime(2024, 7, 2, tzinfo=UTC)),
            Doc("t2", "医保支付改革", "DRG", published_at=datetime(2024, 7, 3, tzinfo=UTC)),
            Doc("t3", "电子病历广告", "", relevant=False),
        ],
    )
    result = run("test", "电子病历 | DRG")
    lines = result.output.splitlines()
    assert lines[0].startswith("2024-07-03") and "医保支付改革" in lines[0]
    assert "电子病历评级启动" in lines[1]
    assert "2 of the 3 newest stories match" in result.output
    assert "3 of the 3" in run("test", "电子病历 | DRG", "--include-offtopic").output
    assert run("test", "电子病历 (").exit_code == 1
