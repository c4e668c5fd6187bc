"""SQLite opens a file it cannot write read-only instead of failing, and such a connection
stayed read-only in the pool after the file was writable again: every later write of that
worker failed (found by the store-unwritable fault test, which then saw no alert sent)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import text

from hitwatch.store.db import open_database

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("chattr") is None,
    reason="needs root and chattr to make a file unwritable for root (CI runs as root)",
)


def test_a_connection_opened_while_the_file_was_unwritable_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    database = open_database(f"sqlite:///{path}")
    with database.engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    database.engine.dispose()
    subprocess.run(["chattr", "+i", str(path)], check=True)
    try:
        with (
            pytest.raises(Exception, match="readonly database"),
            database.engine.begin() as connection,
        ):
            connection.execute(text("INSERT INTO t VALUES (1)"))
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)
    with database.engine.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES (2)"))
    with database.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 1
    database.dispose()
