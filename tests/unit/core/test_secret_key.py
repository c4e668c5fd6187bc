"""The SECRET_KEY rule: the demo makes and keeps one; deployments must bring their own."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from hitwatch.cli import main
from hitwatch.errors import SettingsError
from hitwatch.secret_key import MAKE_ONE, require_secret_key, secret_key_problem
from hitwatch.settings import load_settings

GOOD = "0123456789abcdef0123456789abcdef"


def test_the_embedded_demo_makes_a_key_once_and_every_process_reads_the_same(
    tmp_path: Path,
) -> None:
    first = load_settings(data_dir=tmp_path)
    key = first.secret_key.get_secret_value()
    assert len(key) == 64 and secret_key_problem(key) is None
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    assert load_settings(data_dir=tmp_path).secret_key.get_secret_value() == key
    assert load_settings(data_dir=tmp_path / "other").secret_key.get_secret_value() != key
    require_secret_key(first)


def test_a_deployment_gets_no_generated_key(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, redis_url="redis://redis:6379/0")
    assert settings.secret_key.get_secret_value() == ""
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("", "is not set"),
        ("dev-only-change-me", "published default"),
        ("x" * 31, "31 characters, fewer than 32"),
    ],
)
@pytest.mark.parametrize(
    "where", [{"redis_url": "redis://r:6379/0"}, {"database_url": "postgresql+psycopg://u:p@db/x"}]
)
def test_a_deployment_refuses_a_missing_short_or_default_key(
    tmp_path: Path, key: str, problem: str, where: dict[str, str]
) -> None:
    settings = load_settings(data_dir=tmp_path, secret_key=key, **where)
    with pytest.raises(SettingsError) as refused:
        require_secret_key(settings)
    assert problem in str(refused.value) and MAKE_ONE in str(refused.value)
    require_secret_key(load_settings(data_dir=tmp_path, secret_key=GOOD, **where))


@pytest.mark.parametrize("command", [["web"], ["worker", "index"], ["run", "--no-crawl"]])
def test_web_worker_and_run_refuse_to_start_without_a_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setenv("HITWATCH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:9/0")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 1, result.output
    assert "SECRET_KEY is not set" in result.output and "secrets.token_hex(32)" in result.output
