"""`hitwatch reclassify` against real Redis and PostgreSQL with real classify, index and
notify workers: stored items change classification, keep their text and version, and
nobody is alerted."""

from __future__ import annotations

from datetime import UTC, datetime

from click.testing import CliRunner
from sqlalchemy import func, select

from classifier.cli import reclassify_command
from hitwatch.alerts.rules import add_rule
from hitwatch.messages import ClassifiedDocument, TopicScore
from hitwatch.store import open_database
from hitwatch.store.models import AlertDelivery, Article, Story
from indexer.store import save_document

NOTICE = (
    "国卫办医函〔2018〕1079号\n各省、自治区、直辖市卫生健康委：\n"
    "现将《电子病历系统应用水平分级评价管理办法（试行）》印发给你们，请认真贯彻执行。"
)
NURSING = "各地要合理配置护士人力，落实责任制整体护理，加强护理质量管理和护士培训。" * 3


def _old(doc_id: str, title: str, body: str, relevant: bool) -> ClassifiedDocument:
    return ClassifiedDocument(
        doc_id=doc_id,
        url=f"https://example.gov.cn/{doc_id}.html",
        canonical_url=f"https://example.gov.cn/{doc_id}.html",
        source_id="nhc",
        source_name="国家卫生健康委",
        source_kind="government",
        title=title,
        published_at=datetime(2024, 7, 1, tzinfo=UTC),
        body=body,
        content_hash=f"h-{doc_id}",
        story_id=f"s-{doc_id}",
        relevant=relevant,
        relevance=0.9 if relevant else 0.1,
        topics=[TopicScore(code="N", name="政策法规与标准", score=1.0)],
        doc_type="政策文件",
        fetched_at=datetime(2024, 7, 1, tzinfo=UTC),
    )


def test_reclassify_runs_through_the_queues_and_alerts_nobody(
    isolated_redis_url, fresh_postgres_url, tmp_path, workers
):
    env = {
        "REDIS_URL": isolated_redis_url,
        "DATABASE_URL": fresh_postgres_url,
        "ELASTICSEARCH_URL": "",
        "HITWATCH_DATA_DIR": str(tmp_path / "data"),
        "TASK_MAX_RETRIES": "1",
        "TASK_RETRY_BACKOFF_MAX": "1",
    }
    database = open_database(fresh_postgres_url)
    database.migrate()
    with database.session() as session:
        save_document(
            session, _old("r1", "关于印发电子病历系统应用水平分级评价管理办法的通知", NOTICE, False)
        )
        save_document(session, _old("r2", "关于加强护理工作的通知", NURSING, True))
    add_rule(database, "a@example.org", "电子病历", include_offtopic=True)
    add_rule(database, "b@example.org", "护理", include_offtopic=True)
    group = workers(env)
    for queue in ("classify", "index", "notify"):
        group.start(queue)
    try:
        result = CliRunner().invoke(reclassify_command, ["--all"], env=env)
        assert result.exit_code == 0, result.output + group.logs()
        assert "reclassified 2 documents: 1 became relevant, 1 became off-topic" in result.output
        again = CliRunner().invoke(reclassify_command, ["--all"], env=env)  # resumes: done
        assert "reclassified 2 documents" in again.output, again.output
    finally:
        group.stop_all()
    try:
        with database.session() as session:
            r1, r2 = session.get(Article, "r1"), session.get(Article, "r2")
            assert r1 is not None and r2 is not None
            assert r1.relevant and not r2.relevant
            assert (r1.version, r1.body) == (1, NOTICE)
            assert session.get(Story, "s-r1").relevant
            assert not session.get(Story, "s-r2").relevant
            assert session.scalar(select(func.count()).select_from(AlertDelivery)) == 0
    finally:
        database.dispose()
