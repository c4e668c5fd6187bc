"""The code stays as STYLE.md asks: ruff-clean and formatted, mypy strict on the source."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
SOURCE = ["hitwatch", "crawler", "classifier", "indexer", "notifier", "webapp"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=REPO, capture_output=True, text=True, check=False)


def test_ruff_finds_nothing():
    result = _run(str(BIN / "ruff"), "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_code_is_formatted():
    result = _run(str(BIN / "ruff"), "format", "--no-cache", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_on_the_source():
    result = _run(str(BIN / "mypy"), *SOURCE)
    assert result.returncode == 0, result.stdout + result.stderr
