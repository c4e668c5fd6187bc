"""`hitwatch web` as the launcher starts it: waitress, the SQLite store, the FTS5 index."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from hitwatch.search import open_search_index
from hitwatch.settings import load_settings
from hitwatch.store import open_database
from tests.factories import LLM, SAMPLE, add_documents
from tests.smtp import free_port

HITWATCH = str(Path(sys.executable).with_name("hitwatch"))


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")


def test_web_command_serves_pages_and_health(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    settings = load_settings(data_dir=data_dir)
    database = open_database(settings.resolved_database_url)
    database.migrate()
    index = open_search_index(settings)
    index.ensure()
    add_documents(database, index, SAMPLE)
    index.close()
    database.dispose()

    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "ELASTICSEARCH_URL", "REDIS_URL"}
    }
    env.update(
        HITWATCH_DATA_DIR=str(data_dir),
        WEB_PORT=str(port),
        REDIS_URL="redis://127.0.0.1:9/0",
        SECRET_KEY="integration-test-secret-0123456789abcdef",
    )
    process = subprocess.Popen(
        [HITWATCH, "web"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        status = 0
        while time.monotonic() < deadline and process.poll() is None:
            try:
                status, body = _get(f"{base}/api/v1/health")
                break
            except OSError:
                time.sleep(0.2)
        assert status == 200, f"hitwatch web did not answer: {process.poll()}"
        health = json.loads(body)
        assert health["checks"]["database"]["articles"] == len(SAMPLE)
        assert health["checks"]["search"]["documents"] == len(SAMPLE)

        status, page = _get(f"{base}/search?q=%E5%A4%A7%E6%A8%A1%E5%9E%8B")  # 大模型
        assert status == 200
        assert "<mark>大模型</mark>" in page and f"/items/{LLM.doc_id}" in page
        status, page = _get(f"{base}/items/{LLM.doc_id}")
        assert status == 200 and LLM.title in page
    finally:
        process.terminate()
        output = process.communicate(timeout=15)[0].decode("utf-8", "replace")
    assert "web app: http://" in output
