"""PROMETHEUS_MULTIPROC_DIR naming a folder that is not there: a clear error, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HITWATCH = str(Path(sys.executable).with_name("hitwatch"))


def test_a_missing_metrics_folder_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder"
    result = subprocess.run(
        [HITWATCH, "settings"],
        env=dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(missing)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert (
        f"the metrics folder {missing} (PROMETHEUS_MULTIPROC_DIR) does not exist" in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_an_existing_metrics_folder_gets_the_process_files(tmp_path: Path) -> None:
    result = subprocess.run(
        [HITWATCH, "settings"],
        env=dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert str(tmp_path) in result.stdout
    assert list(tmp_path.glob("counter_*.db")), "the process counted into the folder"
