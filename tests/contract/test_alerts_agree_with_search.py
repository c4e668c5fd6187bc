"""A rule fires on a document exactly when the search page returns it, on every backend.

Queries (every field, topics by code, name and part of a name, unknown topics, synonyms,
negation, phrases, OR and brackets, malformed ones) and documents are generated. Nothing
goes through a shared helper: each query is saved as a rule through the web form and
confirmed by the link it mails; each document goes through the indexer's task handler
(store of record and search index); the notifier's task handler matches the events the
indexer sent; the search page is asked the same query. The page must list exactly the
documents the rule was delivered for, and refuse exactly the queries the form refuses.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from hitwatch.search import SHANGHAI, SearchIndex
from hitwatch.settings import Settings
from hitwatch.store import Article, Database, Story, StoryEvent
from hitwatch.store.models import AlertDelivery, AlertRule
from hitwatch.tasks import HANDLE_STORY_INDEXED
from indexer.worker import Indexer
from notifier.alerts import AlertTasks
from notifier.worker import Notifier
from tests.factories import FakeCelery, Outbox, classified_document
from webapp import create_app

TERMS = [
    "医保", "电子病历", "EMR", "人工智能", "AI", "大模型", "LLM", "互联网医院", "网络医院",
    "DRG", "按疾病诊断相关分组", "广告", "医", "支付", "卫健委", "国家卫健委", "平台",
]  # fmt: skip
PHRASES = ["电子病历系统", "医保 支付", "互联网医院", "大模型应用"]
FIELD_VALUES = {
    "source": ["nhc", "nhsa", "国家医保局", "新京报", "bjnews", "医保"],
    "type": ["政策文件", "新闻报道", "政策解读"],
    "topic": [
        "A",
        "a",
        "d",
        "G",
        "医疗大模型与生成式AI",
        "电子病历与医院信息化评级",
        "医保信息化",
        "大模型",
        "AI",
        "区块链金融",
        '"医保信息化与支付改革"',
    ],
    "region": ["广东", "深圳", "广东省深圳市", "北京市", "北京", "东省"],
    "issuer": ["国务院", "办公厅", "国家医疗保障局"],
    "docno": ["国办发[2019]4号", "国办发〔2019〕4号", "医保发〔2024〕1号"],
    "after": ["2024-07-01", "2024-07-15", "2024-13-01"],
    "before": ["2024-07-15", "2024-08-01"],
    "month": ["2024-07", "2024-08", "2024-7x"],
}
MALFORMED = ["(医保", "医保 |", "foo:bar", '"', "-", "source:"]

SOURCES = [("nhc", "国家卫生健康委员会"), ("nhsa", "国家医保局"), ("bjnews", "新京报")]
TYPES = ["政策文件", "新闻报道", ""]
REGIONS = ["广东省深圳市", "北京市", "全国", ""]
POLICIES = [
    None,
    {"issuer": "国务院办公厅", "doc_number": "国办发〔2019〕4号"},
    {"issuer": "国家医疗保障局", "doc_number": "医保发〔2024〕1号"},
]
MOMENTS = [
    None,
    datetime(2024, 6, 30, 23, 59, tzinfo=SHANGHAI),
    datetime(2024, 7, 1, 0, 0, tzinfo=SHANGHAI),
    datetime(2024, 7, 15, 12, 0, tzinfo=SHANGHAI),
    datetime(2024, 8, 1, 0, 0, tzinfo=SHANGHAI),
]

field_strategy = st.sampled_from(sorted(FIELD_VALUES)).flatmap(
    lambda name: st.sampled_from(FIELD_VALUES[name]).map(lambda value: f"{name}:{value}")
)
leaf_strategy = st.one_of(
    st.sampled_from(TERMS),
    st.sampled_from(TERMS + PHRASES).map(lambda text: f'"{text}"'),
    field_strategy,
)


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(st.sampled_from(["-", "NOT "]), children).map(lambda p: f"{p[0]}({p[1]})"),
        st.lists(children, min_size=2, max_size=3).map(lambda parts: f"({' '.join(parts)})"),
        st.lists(children, min_size=2, max_size=3).map(lambda parts: f"({' AND '.join(parts)})"),
        st.lists(children, min_size=2, max_size=3).map(lambda parts: f"({' | '.join(parts)})"),
        st.lists(children, min_size=2, max_size=3).map(lambda parts: f"({' OR '.join(parts)})"),
    )


query_strategy = st.one_of(
    st.recursive(leaf_strategy, _combine, max_leaves=5),
    st.tuples(leaf_strategy, st.sampled_from(TERMS)).map(lambda p: f"-{p[1]} {p[0]}"),
    st.sampled_from(MALFORMED),
)
text_strategy = st.lists(
    st.sampled_from([*TERMS, "，", " ", "推进", "发布", "通知"]), max_size=10
).map("".join)
document_strategy = st.fixed_dictionaries(
    {
        "title": text_strategy,
        "body": text_strategy,
        "source": st.sampled_from(SOURCES),
        "doc_type": st.sampled_from(TYPES),
        "topics": st.lists(st.sampled_from("ADG"), max_size=2, unique=True),
        "region": st.sampled_from(REGIONS),
        "policy": st.sampled_from(POLICIES),
        "published_at": st.sampled_from(MOMENTS),
        "relevant": st.booleans(),
    }
)


class World:
    """The web app, the indexer and the notifier over one store and one search index."""

    def __init__(
        self, settings: Settings, database: Database, index: SearchIndex, app: Flask
    ) -> None:
        self.settings, self.database, self.index, self.app = settings, database, index, app
        self.outbox = Outbox()
        self.client: FlaskClient = app.test_client()
        page = self.client.get("/alerts/new").get_data(as_text=True)
        self.csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        self.doc_ids: list[str] = []

    def reset(self) -> None:
        for doc_id in self.doc_ids:
            self.index.delete(doc_id)
        self.index.refresh()
        self.doc_ids = []
        self.outbox.sent.clear()
        with self.database.session() as session:
            for table in (AlertDelivery, AlertRule, StoryEvent, Article, Story):
                session.execute(delete(table))

    def save_rule(self, email: str, query: str, include_offtopic: bool) -> bool:
        """Through the alert form, then the confirmation link it mailed; False if refused."""
        form = {"csrf_token": self.csrf, "q": query, "email": email}
        if include_offtopic:
            form["include_offtopic"] = "1"
        response = self.client.post("/alerts", data=form)
        if response.status_code == 400:
            return False
        assert response.status_code == 302, response.get_data(as_text=True)
        mail = self.outbox.sent[-1]
        assert mail["To"] == email
        text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        link = re.search(r"http://localhost(/alerts/confirm/\S+)", text).group(1)  # type: ignore[union-attr]
        assert self.client.get(link).status_code == 200
        return True

    def publish(self, documents: list[dict[str, Any]]) -> None:
        """Each document through the indexer's task, then its event through the notifier's."""
        celery = FakeCelery()
        indexer = Indexer(self.database, self.index, celery)  # type: ignore[arg-type]
        for n, fields in enumerate(documents):
            source_id, source_name = fields["source"]
            values = {key: value for key, value in fields.items() if key != "source"}
            doc = classified_document(
                f"g{n}", source_id=source_id, source_name=source_name, **values
            )
            indexer.handle(doc.to_payload())
            self.doc_ids.append(doc.doc_id)
        self.index.refresh()
        tasks = AlertTasks(self.database, self.settings, transport=lambda _settings: self.outbox)
        notifier = Notifier(self.database, tasks)
        for name, args, _options in celery.sent:
            assert name == HANDLE_STORY_INDEXED
            notifier.handle(args[0])

    def fired(self) -> dict[str, set[str]]:
        """Address of each rule -> the documents it was mailed for."""
        with self.database.session() as session:
            rows = session.execute(
                select(AlertRule.email, AlertDelivery.story_id, AlertDelivery.status).join(
                    AlertRule, AlertRule.id == AlertDelivery.rule_id
                )
            ).all()
        assert all(status == "sent" for _, _, status in rows)
        found: dict[str, set[str]] = {}
        for email, story_id, _status in rows:
            found.setdefault(email, set()).add(story_id.removeprefix("s-"))
        return found

    def search_page(self, query: str, include_offtopic: bool) -> set[str] | None:
        """The documents the search page lists for the query; None when it refuses it."""
        args = {"q": query, "all": "1" if include_offtopic else ""}
        response = self.client.get("/search", query_string=args)
        if response.status_code == 400:
            return None
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        return set(re.findall(r'<h2><a href="/items/([^"]+)">', page))


@pytest.fixture
def world(settings: Settings, database: Database, search_index: SearchIndex) -> Iterator[World]:
    app = create_app(
        settings,
        database=database,
        search_index=search_index,
        celery=FakeCelery(),
        # Rate limits are not what this test is about: it saves hundreds of rules.
        test_config={"TESTING": True, "RATELIMIT_ENABLED": False},
    )
    built = World(settings, database, search_index, app)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("webapp.alerts.open_transport", lambda _settings: built.outbox)
        yield built


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    documents=st.lists(document_strategy, min_size=1, max_size=8),
    queries=st.lists(st.tuples(query_strategy, st.booleans()), min_size=1, max_size=8),
)
def test_a_rule_fires_exactly_when_the_search_page_returns_the_document(
    world: World, documents: list[dict[str, Any]], queries: list[tuple[str, bool]]
) -> None:
    world.reset()
    saved = {}
    for n, (query, include_offtopic) in enumerate(queries):
        email = f"r{n}@example.org"
        if world.save_rule(email, query, include_offtopic):
            saved[email] = (query, include_offtopic)
        else:
            event("a query refused by both")
            assert world.search_page(query, include_offtopic) is None, query
    world.publish(documents)
    fired = world.fired()
    for email, (query, include_offtopic) in saved.items():
        listed = world.search_page(query, include_offtopic)
        assert listed is not None, query
        assert fired.get(email, set()) == listed, (query, include_offtopic)
        event("a rule that fired" if listed else "a rule that fired on nothing")


@pytest.mark.parametrize(
    ("query", "wanted"),
    [
        ("topic:医疗大模型与生成式AI", {"llm"}),
        ("topic:a", {"llm"}),
        ("topic:医保信息化", {"pay"}),
        ("AI", {"llm"}),  # synonyms: 人工智能
        ("-topic:A", {"pay"}),
    ],
)
def test_topic_names_and_synonyms_reach_alerts(world: World, query: str, wanted: set[str]) -> None:
    """The examples of the bug report, by hand: a rule with a topic's name fires."""
    world.reset()
    assert world.save_rule("a@example.org", query, include_offtopic=False)
    world.publish(
        [
            {"title": "人工智能大模型进医院", "topics": ["A"], "source": SOURCES[2]},
            {"title": "医保支付改革", "topics": ["G"], "source": SOURCES[1]},
        ]
    )
    fired = {f"g{n}": name for n, name in enumerate(("llm", "pay"))}
    assert {fired[doc] for doc in world.fired().get("a@example.org", set())} == wanted
    assert {fired[doc] for doc in world.search_page(query, False) or ()} == wanted


def test_an_unknown_topic_is_refused_by_the_alert_form_as_by_search(world: World) -> None:
    world.reset()
    assert not world.save_rule("a@example.org", "topic:区块链金融", include_offtopic=False)
    assert world.search_page("topic:区块链金融", False) is None
