"""`/metrics`: who may read it, what it reports, and the host's processes added up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from hitwatch.accounts import create_api_token
from hitwatch.monitoring import unacked_by_queue
from hitwatch.search.memory import InMemoryIndex
from hitwatch.settings import Settings
from hitwatch.store import Database
from hitwatch.store.models import Failure, Source, User
from tests.accounts import make_user, sign_in
from tests.factories import FakeCelery
from webapp import create_app


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a scrape by (name, labels), parsed as Prometheus would."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _token(database: Database, role: str) -> str:
    email = make_user(database, role, f"{role}-token@example.org")
    with database.session() as session:
        user = session.query(User).filter_by(email=email).one()
        return create_api_token(session, user, "prometheus")[1]


def test_only_admins_and_admin_tokens_read_metrics(app: Flask, database: Database) -> None:
    anonymous = app.test_client()
    assert anonymous.get("/metrics").status_code == 401
    reader = app.test_client()
    sign_in(reader, database, "reader")
    assert reader.get("/metrics").status_code == 403
    assert (
        app.test_client()
        .get("/metrics", headers={"Authorization": f"Bearer {_token(database, 'editor')}"})
        .status_code
        == 403
    )
    response = app.test_client().get(
        "/metrics", headers={"Authorization": f"Bearer {_token(database, 'admin')}"}
    )
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=")
    admin = app.test_client()
    sign_in(admin, database, "admin")
    assert admin.get("/metrics").status_code == 200


def test_metrics_report_source_health_open_failures_and_a_redis_outage(
    app: Flask, database: Database
) -> None:
    last = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    with database.session() as session:
        session.add_all(
            [
                Source(id="nhc", name="国家卫健委", state="ok", last_success_at=last, last_items=7),
                Source(id="bjnews", name="新京报", state="broken", last_errors=3),
                Source(id="old", name="停用", state="broken", enabled=False),
            ]
        )
        for _ in range(2):
            session.add(
                Failure(
                    task_name="indexer.index_document",
                    payload={},
                    error_type="OperationalError",
                    error_message="database is locked",
                )
            )
        session.add(
            Failure(
                task_name="classifier.classify_item",
                payload={},
                error_type="ExtractionError",
                error_message="no body",
                resolved=True,
            )
        )
    client = app.test_client()
    sign_in(client, database, "admin")
    found = samples(client.get("/metrics").get_data(as_text=True))

    def value(name: str, **labels: str) -> float | None:
        return found.get((name, frozenset(labels.items())))

    # The unit settings point Redis at port 9, where nothing listens.
    assert value("hitwatch_up", part="redis") == 0
    assert value("hitwatch_queue_depth", queue="classify") is None
    assert value("hitwatch_up", part="store") == 1
    assert value("hitwatch_source_broken", source="bjnews") == 1
    assert value("hitwatch_source_broken", source="nhc") == 0
    assert value("hitwatch_source_broken", source="old") is None  # disabled: not watched
    assert value("hitwatch_source_last_success_timestamp_seconds", source="nhc") == last.timestamp()
    assert value("hitwatch_source_last_success_timestamp_seconds", source="bjnews") is None
    assert value("hitwatch_source_last_run_items", source="nhc") == 7
    assert value("hitwatch_source_last_run_errors", source="bjnews") == 3
    assert value("hitwatch_failures_open", task="indexer.index_document") == 2
    assert value("hitwatch_failures_open", task="classifier.classify_item") is None


def test_unacked_messages_are_counted_per_queue() -> None:
    values = [
        json.dumps([{"body": "..."}, "", "classify"]).encode(),
        json.dumps([{"body": "..."}, "", "classify"]).encode(),
        json.dumps([{"body": "..."}, "", "notify"]).encode(),
        b"not json",
    ]
    assert unacked_by_queue(values) == {"classify": 2, "notify": 1, "other": 1}


_WORKER = """
import sys
from hitwatch.metrics import TASKS, TASK_DURATION, MAILS_SENT
for _ in range(int(sys.argv[1])):
    TASKS.labels("indexer.index_document", "index", "done").inc()
    TASK_DURATION.labels("index").observe(0.2)
MAILS_SENT.inc()
"""


def test_metrics_add_up_every_process_of_the_host(
    settings: Settings, database: Database, tmp_path: Path
) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(folder))
    for count in (3, 4):  # two worker processes, as a prefork pool has
        subprocess.run([sys.executable, "-c", _WORKER, str(count)], env=env, check=True)
    index = InMemoryIndex()
    index.ensure()
    app = create_app(
        settings.model_copy(update={"prometheus_multiproc_dir": str(folder)}),
        database=database,
        search_index=index,
        celery=FakeCelery(),
        test_config={"TESTING": True, "RATELIMIT_STORAGE_URI": "memory://"},
    )
    client = app.test_client()
    sign_in(client, database, "admin")
    found = samples(client.get("/metrics").get_data(as_text=True))
    done = frozenset(
        {"task": "indexer.index_document", "stage": "index", "outcome": "done"}.items()
    )
    assert found[("hitwatch_tasks_total", done)] == 7
    assert (
        found[("hitwatch_task_duration_seconds_count", frozenset({"stage": "index"}.items()))] == 7
    )
    assert found[("hitwatch_mails_sent_total", frozenset())] == 2
    assert found[("hitwatch_up", frozenset({"part": "store"}.items()))] == 1
