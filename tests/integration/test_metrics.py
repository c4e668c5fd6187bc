"""`/metrics` scraped after items went through real Redis queues and worker processes:
the web app adds up every process of the host (a prefork pool's children included), a
worker serves the same on METRICS_ADDRESS, and the counters moved as the items did."""

from __future__ import annotations

import urllib.request

import pytest
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from hitwatch.alerts.rules import add_rule
from hitwatch.broker import create_celery, send_message
from hitwatch.metrics import METRIC_NAMES
from hitwatch.monitoring import SCRAPED_NAMES
from hitwatch.search import open_search_index
from hitwatch.settings import load_settings
from hitwatch.store import Failure, StoryEvent, open_database
from hitwatch.store.models import AlertDelivery, Source
from hitwatch.tasks import CLASSIFY_ITEM
from tests.accounts import sign_in
from tests.integration.support import wait_for
from tests.integration.test_pipeline import POLICY_PAGE, _item, _news_page
from tests.smtp import free_port
from webapp import create_app

pytestmark = pytest.mark.requires_redis

SECRET = "integration-secret-0123456789abcdef"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _samples(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def _sum(found: Samples, name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(value for (series, got), value in found.items() if series == name and wanted <= got)


def test_metrics_move_as_items_go_through_the_pipeline(
    isolated_redis_url, tmp_path, workers, inbox
) -> None:
    handler, smtp_port = inbox
    folder = tmp_path / "metrics"
    folder.mkdir()
    metrics_port = free_port()
    env = {
        "REDIS_URL": isolated_redis_url,
        "HITWATCH_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": "",
        "ELASTICSEARCH_URL": "",
        "SMTP_PORT": str(smtp_port),
        "TASK_MAX_RETRIES": "1",
        "TASK_RETRY_BACKOFF_MAX": "1",
        "PROMETHEUS_MULTIPROC_DIR": str(folder),
        "SECRET_KEY": SECRET,
    }
    settings = load_settings(
        redis_url=isolated_redis_url,
        data_dir=tmp_path / "data",
        smtp_port=smtp_port,
        prometheus_multiproc_dir=str(folder),
        secret_key=SECRET,
    )
    database = open_database(settings.resolved_database_url)
    database.migrate()
    search = open_search_index(settings)
    search.ensure()
    add_rule(database, "reader@example.org", "电子病历")
    with database.session() as session:
        session.add(Source(id="bjnews", name="新京报", state="broken", last_errors=2))

    group = workers(env)
    # A prefork pool: its forked children count into the folder as well.
    group.start("classify", "--pool", "prefork", "--concurrency", "2")
    group.start("notify")
    # This worker also serves the host's metrics without login.
    workers({**env, "METRICS_ADDRESS": f"127.0.0.1:{metrics_port}"}).start("index")

    app = create_celery(settings, "test-crawler")
    news = "https://www.chinanews.com.cn/sh/2024/07-11/10249871.shtml"
    policy = "https://www.nhsa.gov.cn/art/2024/7/5/art_104_13001.html"
    binary = "https://www.nhc.gov.cn/wjw/c100175/202407/0123456789abcdef0123456789abcdef.shtml"
    send_message(app, CLASSIFY_ITEM, _item(news, _news_page("首页 | 社会"), "chinanews"))
    send_message(app, CLASSIFY_ITEM, _item(policy, POLICY_PAGE, "nhsa"))
    send_message(app, CLASSIFY_ITEM, _item(binary, bytes(range(256)) * 40, "nhc"))

    def rows(model: type) -> list[object]:
        with database.session() as session:
            return list(session.scalars(select(model)).all())

    wait_for(lambda: len(rows(StoryEvent)) == 2, 120, "2 indexed documents", group.logs)
    wait_for(lambda: len(rows(Failure)) == 1, 60, "the binary page's failure", group.logs)
    wait_for(
        lambda: any(d.status == "sent" for d in rows(AlertDelivery)),  # type: ignore[attr-defined]
        60,
        "the alert mail",
        group.logs,
    )

    web = create_app(
        settings,
        database=database,
        search_index=search,
        test_config={"TESTING": True, "RATELIMIT_STORAGE_URI": "memory://"},
    )
    client: FlaskClient = web.test_client()
    sign_in(client, database, "admin")

    def scrape() -> Samples:
        response = client.get("/metrics")
        assert response.status_code == 200
        return _samples(response.get_data(as_text=True))

    # Both notify tasks end (the alert's after the mail), then the counters are final.
    wait_for(
        lambda: _sum(scrape(), "hitwatch_tasks_total", stage="notify", outcome="done") >= 2,
        60,
        "two notify tasks counted",
        group.logs,
    )
    found = scrape()
    assert _sum(found, "hitwatch_tasks_total", stage="classify", outcome="done") == 2
    assert _sum(found, "hitwatch_tasks_total", stage="classify", outcome="failed") == 1
    assert _sum(found, "hitwatch_tasks_total", stage="index", outcome="done") == 2
    assert (
        _value(found, "hitwatch_task_failures_total", stage="classify", kind="ExtractionError") == 1
    )
    assert _value(found, "hitwatch_task_duration_seconds_count", stage="classify") == 3
    assert _value(found, "hitwatch_task_duration_seconds_count", stage="index") == 2
    assert _value(found, "hitwatch_mails_sent_total") >= 1 and len(handler.messages) >= 1
    assert _value(found, "hitwatch_alert_latency_seconds_count") == 1
    assert 0 <= _value(found, "hitwatch_alert_latency_seconds_sum") < 120
    # Read at scrape time from the real Redis and the store.
    assert _value(found, "hitwatch_up", part="redis") == 1
    assert _value(found, "hitwatch_up", part="store") == 1
    for queue in ("crawl", "classify", "index", "notify"):
        assert ("hitwatch_queue_depth", frozenset({("queue", queue)})) in found
        assert _value(found, "hitwatch_queue_depth", queue=queue) == 0
    assert _value(found, "hitwatch_failures_open", task="classifier.classify_item") == 1
    assert _value(found, "hitwatch_source_broken", source="bjnews") == 1
    families = {
        family.name
        for family in text_string_to_metric_families(client.get("/metrics").get_data(as_text=True))
    }
    exported = {name.removesuffix("_total") for name in METRIC_NAMES | SCRAPED_NAMES}
    assert exported <= families, "every metric the ops/ files may name is served"

    # The index worker serves the same sums to a Prometheus without an account.
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as answer:
        served = _samples(answer.read().decode())
    assert _sum(served, "hitwatch_tasks_total", stage="classify", outcome="done") == 2
    assert _value(served, "hitwatch_up", part="redis") == 1
    search.close()
    database.dispose()
