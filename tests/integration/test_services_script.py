"""scripts/services: the command line the tests and CI rely on (starts no server itself)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "services"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_env_prints_only_export_lines_with_the_configured_ports() -> None:
    result = run(
        "env",
        env={
            "HITWATCH_TEST_REDIS_PORT": "1111",
            "HITWATCH_TEST_PG_PORT": "2222",
            "HITWATCH_TEST_ES_PORT": "3333",
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "export TEST_REDIS_URL=redis://127.0.0.1:1111/0",
        "export TEST_DATABASE_URL=postgresql+psycopg://hitwatch:hitwatch@127.0.0.1:2222/hitwatch_test",
        "export TEST_ELASTICSEARCH_URL=http://127.0.0.1:3333",
    ]


def test_env_defaults() -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HITWATCH_TEST_")}
    result = subprocess.run(
        [str(SCRIPT), "env"], env=clean, capture_output=True, text=True, check=True
    )
    assert "redis://127.0.0.1:56379/0" in result.stdout
    assert "@127.0.0.1:55432/hitwatch_test" in result.stdout
    assert "http://127.0.0.1:59200" in result.stdout


def test_help_lists_the_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    for word in ("up", "down", "status", "env", "HITWATCH_SERVICES_DIR"):
        assert word in result.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"), [((), 2, "usage"), (("frobnicate",), 2, "unknown command")]
)
def test_bad_command_lines_fail_with_usage(args: tuple[str, ...], code: int, message: str) -> None:
    result = run(*args)
    assert result.returncode == code
    assert message in result.stderr


def test_unknown_service_is_refused_before_anything_starts(tmp_path: Path) -> None:
    result = run("up", "mongodb", env={"HITWATCH_SERVICES_DIR": str(tmp_path / "svc")})
    assert result.returncode == 1
    assert "unknown service 'mongodb'" in result.stderr
    assert not (tmp_path / "svc").exists()


def test_down_and_status_on_an_empty_state_dir(tmp_path: Path) -> None:
    env = {"HITWATCH_SERVICES_DIR": str(tmp_path / "svc")}
    down = run("down", env=env)
    assert down.returncode == 0, down.stderr
    assert "nothing to stop" in down.stdout
    status = run("status", env=env)
    assert status.returncode == 3
    assert status.stdout.count("stopped") == 3
