"""Builders shared by every test tier: messages, searchable documents, stored articles
(written into a store and a search index by `add_documents`), and fakes of the mail
transport and the broker.

Defaults are a plausible news item; each builder takes any field by keyword. The sample
articles imitate real pages (titles and text in the style of the outlets) and are made up
here. Nothing here talks to a server on its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from hitwatch.messages import ClassifiedDocument, PolicyMeta, TopicScore
from hitwatch.search import SearchDocument, SearchIndex, article_document
from hitwatch.store import Article, Database, Story
from hitwatch.topics import topic_names

__all__ = [
    "BIGDATA",
    "FETCHED_AT",
    "FORUM",
    "FORUM_REPRINT",
    "HEALTH_IT_TITLES",
    "HEALTH_TITLES",
    "HOSTILE",
    "LLM",
    "OFF_TOPIC",
    "POLICY",
    "SAMPLE",
    "Doc",
    "FakeCelery",
    "Outbox",
    "add_documents",
    "classified_document",
    "filler",
    "search_document",
    "topic_scores",
]

# Short notice titles of health IT and of health without IT, for the learned model's
# and the evaluation's unit tests.
HEALTH_IT_TITLES = [
    "关于推进云胶片互认共享的通知",
    "关于建设互联网医院平台的意见",
    "关于推广电子健康卡应用的通知",
    "关于开展医保信息平台上线工作的通知",
    "关于智慧医院数据治理的指导意见",
    "关于医疗机构影像云平台建设的通知",
]
HEALTH_TITLES = [
    "关于开展护理质量提升行动的通知",
    "关于做好疫苗接种工作的通知",
    "关于印发基本药物目录的通知",
    "关于开展医师资格考试的通知",
    "关于做好护理人员培训工作的通知",
    "关于调整医疗服务价格的通知",
]

FETCHED_AT = datetime(2024, 7, 31, tzinfo=UTC)


def topic_scores(*codes: str) -> list[TopicScore]:
    """Topics by code, with their names from the taxonomy (as the classifier gives them)."""
    names = topic_names()
    return [TopicScore(code=code, name=names.get(code, code), score=0.9) for code in codes]


def classified_document(doc_id: str = "d1", **fields: Any) -> ClassifiedDocument:
    """A `classified_document/1` message; `topics` may be codes, `policy` a dict."""
    if fields.get("topics") and isinstance(fields["topics"][0], str):
        fields["topics"] = topic_scores(*fields["topics"])
    if isinstance(fields.get("policy"), dict):
        fields["policy"] = PolicyMeta(**fields["policy"])
    values: dict[str, Any] = {
        "doc_id": doc_id,
        "url": f"https://example.org/news/{doc_id}.html",
        "canonical_url": f"https://example.org/news/{doc_id}.html",
        "source_id": "bjnews",
        "source_name": "新京报",
        "title": "某市推进区域全民健康信息平台建设",
        "body": "某市卫生健康委表示，区域全民健康信息平台建设进展顺利。",
        "content_hash": f"hash-{doc_id}",
        "story_id": f"s-{doc_id}",
        "fetched_at": FETCHED_AT,
        **fields,
    }
    return ClassifiedDocument(**values)


def search_document(doc_id: str = "d1", **fields: Any) -> SearchDocument:
    """A searchable document as the indexer would make it."""
    values: dict[str, Any] = {
        "story_id": f"s-{doc_id}",
        "url": f"https://example.org/news/{doc_id}.html",
        "title": "",
        "body": "",
        "source_id": "nhc",
        "source_name": "国家卫生健康委员会",
        **fields,
    }
    return SearchDocument(doc_id=doc_id, **values)


@dataclass
class Outbox:
    """A mail transport that keeps what it is given; `error` makes sending fail."""

    sent: list[EmailMessage] = field(default_factory=list)
    error: Exception | None = None

    def send(self, message: EmailMessage) -> None:
        if self.error is not None:
            raise self.error
        self.sent.append(message)

    @contextmanager
    def batch(self) -> Iterator[None]:
        yield


class BatchingSender:
    """What `send_messages` needs of a Celery app besides `send_task`: a producer whose
    batch sends each message through `send_task` at once."""

    @contextmanager
    def producer_or_acquire(self) -> Iterator[BatchingSender]:
        yield self

    @contextmanager
    def batch(self) -> Iterator[None]:
        yield


@dataclass
class FakeCelery(BatchingSender):
    """Records sent tasks; `error` makes sending fail like an unreachable broker."""

    sent: list[tuple[str, Any, dict[str, Any]]] = field(default_factory=list)
    error: Exception | None = None

    def send_task(self, name: str, args: Any = None, **options: Any) -> None:
        if self.error is not None:
            raise self.error
        self.sent.append((name, args, options))


@dataclass
class Doc:
    doc_id: str
    title: str
    body: str
    source_id: str = "bjnews"
    source_name: str = "新京报"
    published_at: datetime | None = datetime(2024, 7, 3, 2, 30, tzinfo=UTC)
    story_id: str = ""
    url: str = ""
    origin_name: str = ""
    source_kind: str = "media"
    doc_type: str = "新闻报道"
    topics: list[dict[str, Any]] = field(default_factory=list)
    region: str = ""
    entities: dict[str, list[str]] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)
    attachments: list[dict[str, str]] = field(default_factory=list)
    policy: dict[str, str] | None = None
    relevant: bool = True

    def __post_init__(self) -> None:
        self.story_id = self.story_id or f"s-{self.doc_id}"
        self.url = self.url or f"https://example.org/{self.source_id}/{self.doc_id}.html"


def add_documents(database: Database, index: SearchIndex, docs: list[Doc]) -> None:
    """Store the articles (and their stories, with member counts) and index them."""
    with database.session() as session:
        members: dict[str, list[Doc]] = {}
        for doc in docs:
            members.setdefault(doc.story_id, []).append(doc)
        for story_id, group in members.items():
            first = group[0]
            existing = session.get(Story, story_id)
            if existing is not None:
                existing.doc_count += len(group)
                continue
            session.add(
                Story(
                    id=story_id,
                    canonical_doc_id=first.doc_id,
                    title=first.title,
                    source_name=first.source_name,
                    published_at=first.published_at,
                    doc_count=len(group),
                    relevant=first.relevant,
                )
            )
        session.flush()
        articles = [
            Article(
                id=doc.doc_id,
                story_id=doc.story_id,
                url=doc.url,
                canonical_url=doc.url,
                source_id=doc.source_id,
                source_name=doc.source_name,
                source_kind=doc.source_kind,
                origin_name=doc.origin_name,
                title=doc.title,
                published_at=doc.published_at,
                body=doc.body,
                attachments=doc.attachments,
                policy=doc.policy,
                content_hash=f"hash-{doc.story_id}",
                relevant=doc.relevant,
                relevance=0.9 if doc.relevant else 0.1,
                topics=doc.topics,
                doc_type=doc.doc_type,
                region=doc.region,
                entities=doc.entities,
                evidence=doc.evidence,
                fetched_at=datetime(2024, 7, 31, tzinfo=UTC),
            )
            for doc in docs
        ]
        session.add_all(articles)
        # What the indexer indexes is what the store's article maps to.
        searchable = [article_document(article) for article in articles]
    index.index(searchable)
    index.refresh()


POLICY = Doc(
    doc_id="policy-emr",
    title="国家卫生健康委办公厅关于印发电子病历系统应用水平分级评价标准（2024版）的通知",
    body=(
        "各省、自治区、直辖市及新疆生产建设兵团卫生健康委：\n"
        "为进一步推进以电子病历为核心的医疗机构信息化建设，我委组织修订了电子病历系统应用水平分级评价标准。\n"
        "现印发给你们，请遵照执行。\n"
        "国家卫生健康委办公厅\n"
        "2024年7月10日"
    ),
    source_id="nhc",
    source_name="国家卫生健康委员会",
    source_kind="government",
    published_at=datetime(2024, 7, 12, 1, 0, tzinfo=UTC),
    doc_type="政策文件",
    region="全国",
    topics=[
        {"code": "D", "name": "电子病历与医院信息化评级", "score": 0.92},
        {"code": "N", "name": "政策法规与标准", "score": 0.81},
    ],
    entities={"government": ["国家卫生健康委办公厅"]},
    evidence={"D": ["电子病历", "分级评价"], "doc_type": "关于印发…的通知"},
    attachments=[
        {
            "url": "https://example.org/nhc/attach/emr-2024.pdf",
            "title": "电子病历系统应用水平分级评价标准（2024版）.pdf",
            "text": "一、评价对象\n二、评价内容",
        }
    ],
    policy={
        "doc_number": "国卫办医政发〔2024〕12号",
        "issuer": "国家卫生健康委办公厅",
        "index_number": "000013610/2024-00123",
        "topic": "医疗卫生",
        "written_date": "2024-07-10",
        "publish_date": "2024-07-12",
    },
)

LLM = Doc(
    doc_id="bjnews-llm",
    title="腾讯健康张渝：以大模型落地场景为承载，催化医疗产业高质量发展",
    body=(
        "7月3日，在2024中国数字医疗大会上，腾讯健康总裁张渝表示，医疗大模型正在进入落地阶段。\n"
        "他介绍，腾讯医疗大模型已在智能导诊、病历生成、预问诊等场景中应用。\n"
        "（完）"
    ),
    published_at=datetime(2024, 7, 3, 2, 30, tzinfo=UTC),
    topics=[{"code": "A", "name": "医疗大模型与生成式AI", "score": 0.95}],
    entities={"company": ["腾讯"], "product": []},
)

FORUM = Doc(
    doc_id="wenming-forum",
    title="2024中国数字医疗大会暨首届朝阳区数字医疗产业发展论坛召开",
    body=(
        "7月3日，2024中国数字医疗大会暨首届朝阳区数字医疗产业发展论坛召开。\n"
        "论坛聚焦数字医疗产业发展，发布了多项大模型应用成果。\n"
        "（朝阳报）"
    ),
    source_id="bjwmb",
    source_name="首都文明网",
    origin_name="朝阳报",
    story_id="s-forum",
    published_at=datetime(2024, 7, 4, 0, 15, tzinfo=UTC),
    doc_type="会议活动",
    topics=[{"code": "M", "name": "数字医疗产业、投融资与企业动态", "score": 0.88}],
)

FORUM_REPRINT = Doc(
    doc_id="chaoyang-forum",
    title="2024中国数字医疗大会暨首届朝阳区数字医疗产业发展论坛召开",
    body=FORUM.body,
    source_id="bjchy",
    source_name="北京朝阳",
    story_id="s-forum",
    published_at=datetime(2024, 7, 4, 3, 0, tzinfo=UTC),
    doc_type="会议活动",
)

BIGDATA = Doc(
    doc_id="chinanews-bigdata",
    title="用大数据看病，可信吗？",
    body=(
        "中新网北京7月11日电 (记者 李纯)大数据和人工智能正在进入诊室。\n"
        "专家提醒，数据安全和隐私保护不可忽视。\n"
        "(完)"
    ),
    source_id="chinanews",
    source_name="中新网",
    published_at=datetime(2024, 7, 11, 9, 0, tzinfo=UTC),
)

HOSTILE = Doc(
    doc_id="hostile",
    title="<script>alert('x')</script>医保 支付改革",
    body="<img src=x onerror=alert(1)> 医保支付方式改革持续推进。",
    source_id="spam",
    source_name="<b>某网站</b>",
    published_at=datetime(2024, 7, 1, 0, 0, tzinfo=UTC),
)

OFF_TOPIC = Doc(
    doc_id="sports",
    title="城市马拉松周末开跑，医院设置医疗保障点",
    body="本周末城市马拉松开跑，沿线设置医疗保障点。",
    source_id="chinanews",
    source_name="中新网",
    published_at=datetime(2024, 7, 20, 0, 0, tzinfo=UTC),
    relevant=False,
)

SAMPLE = [POLICY, LLM, FORUM, FORUM_REPRINT, BIGDATA, HOSTILE, OFF_TOPIC]


def filler(count: int, start: datetime = datetime(2024, 6, 1, tzinfo=UTC)) -> list[Doc]:
    """`count` short relevant news items one hour apart, for pagination."""
    return [
        Doc(
            doc_id=f"filler-{n:03d}",
            title=f"第{n}条：某市推进区域全民健康信息平台建设",
            body=f"某市卫生健康委表示，区域全民健康信息平台第{n}期工程进展顺利。",
            source_id="local",
            source_name="某市日报",
            published_at=start + timedelta(hours=n),
        )
        for n in range(1, count + 1)
    ]
