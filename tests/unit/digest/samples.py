"""The four items of the July 2024 bulletin: real titles, outlets, dates and links from the
seed; bodies written for these tests (the seed's text is not copied into the repo)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from hitwatch.digest import Digest, DigestItem

SHANGHAI = timezone(timedelta(hours=8))
START, END = date(2024, 7, 1), date(2024, 7, 31)


def at(day: int, hour: int = 9) -> datetime:
    return datetime(2024, 7, day, hour, tzinfo=SHANGHAI)


BULLETIN_ITEMS: tuple[DigestItem, ...] = (
    DigestItem(
        title="腾讯健康张渝:以大模型落地场景为承载，催化医疗产业高质量发展",
        source_name="新京报",
        url="https://www.bjnews.com.cn/detail/171991195531264.html",
        published_at=at(3),
        paragraphs=(
            "在近日举行的一场数据智能主题会议上，腾讯健康副总裁张渝谈到，大模型要真正产生价值，离不开具体的产业场景。",
            "医疗大模型进入医院场景",
            "她介绍，医疗行业大模型已在病历书写、体检报告生成和用药咨询等环节试点应用，医生可以把更多时间留给患者。",
            "张渝表示，下一步将继续与医院、药企合作，降低大模型的使用门槛，推动医疗服务走向个性化和精准化。",
        ),
        doc_type="企业动态",
        topics=("医疗大模型与生成式AI",),
        story_id="s1",
        doc_id="d1",
    ),
    DigestItem(
        title="2024 中国数字医疗大会暨首届朝阳区数字医疗产业发展论坛召开",
        source_name="首都文明网",
        url="http://bj.wenming.cn/chy/wmbb/202407/t20240708_6796293.shtml",
        published_at=at(8),
        paragraphs=(
            "7月5日至6日，2024 中国数字医疗大会暨首届朝阳区数字医疗产业发展论坛在朝阳区举办，"
            "与会嘉宾围绕人工智能与医疗创新展开交流。",
            "论坛现场启动了朝阳区数字医疗概念验证中心，并发布了区域医疗健康大数据平台。（朝阳报）",
        ),
        doc_type="会议活动",
        topics=("数字医疗产业、投融资与企业动态",),
        story_id="s2",
        doc_id="d2",
    ),
    DigestItem(
        title="用大数据看病，可信吗？",
        source_name="中新网",
        url="http://www.chinanews.com.cn/sh/2024/07-11/10249603.shtml",
        published_at=at(11, 20),
        paragraphs=(
            "中新网北京 7月 11 日电 (记者 李纯)大数据能不能帮医生看病？"
            "多位学者在一场健康数据科学研讨会上给出了各自的看法。",
            "受访专家认为，健康医疗大数据正在辅助基层医生更快读片，但独立诊断仍面临诸多问题。",
            "专家同时提醒，数据安全和个人信息保护是健康医疗大数据应用必须守住的底线。(完)",
        ),
        doc_type="新闻报道",
        topics=("健康医疗大数据与数据要素", "数据安全、隐私与AI伦理治理"),
        story_id="s3",
        doc_id="d3",
    ),
    DigestItem(
        title="数字医疗展现广阔应用前景，北京朝阳力争打造产业资源优势聚集地",
        source_name="网易",
        url="https://www.163.com/dy/article/J79RC6NV05199NPP.html",
        published_at=at(17),
        paragraphs=(
            "“数字医疗正在引领医疗健康行业的深刻变革。”一位与会专家在 2024 中国数字医疗大会上说。",
            "北京朝阳力争打造数字医疗产业聚集地",
            "朝阳区有关负责人表示，朝阳区将用三年时间打造具有全国引领性的数字医疗产业资源优势集聚地。",
        ),
        doc_type="新闻报道",
        topics=("数字医疗产业、投融资与企业动态",),
        story_id="s4",
        doc_id="d4",
    ),
)


def bulletin_digest(**changes: object) -> Digest:
    """The July 2024 issue with the bulletin's own wording (周报 for a month, no masthead)."""
    fields: dict[str, object] = {
        "start": START,
        "end": END,
        "items": BULLETIN_ITEMS,
        "period_word": "周报",
        "topic_scope": "卫生信息化相关信息",
        "monitoring_scope": "全国主流媒体及政府网站等",
        **changes,
    }
    return Digest(**fields)  # type: ignore[arg-type]


def store_bulletin(session, items=BULLETIN_ITEMS) -> None:  # type: ignore[no-untyped-def]
    """Put the items in the store as stories with canonical articles, plus distractors:
    a reprint copy of item 3, an irrelevant story and one from August."""
    from hitwatch.store.models import Article, Story

    def add(item: DigestItem, *, relevant: bool = True, copy_of: str = "") -> None:
        story_id = copy_of or item.story_id
        if not copy_of:
            session.add(
                Story(
                    id=story_id,
                    canonical_doc_id=item.doc_id,
                    title=item.title,
                    source_name=item.source_name,
                    published_at=item.published_at,
                    relevant=relevant,
                )
            )
            session.flush()
        session.add(
            Article(
                id=item.doc_id,
                story_id=story_id,
                url=item.url,
                canonical_url=item.url,
                source_id=item.source_name,
                source_name=item.source_name,
                title=item.title,
                published_at=item.published_at,
                body="\n".join(item.paragraphs),
                content_hash=item.doc_id,
                relevant=relevant,
                topics=[{"code": "I", "name": t, "score": 1.0} for t in item.topics],
                doc_type=item.doc_type,
                fetched_at=item.published_at,
            )
        )

    for item in items:
        add(item)
    copy = items[2]
    add(
        DigestItem(
            title=copy.title,
            source_name="某转载网站",
            url="https://example.org/reprint/1.html",
            published_at=copy.published_at + timedelta(hours=5),
            paragraphs=copy.paragraphs,
            doc_id="d3-copy",
        ),
        copy_of=copy.story_id,
    )
    add(
        DigestItem(
            title="某明星出席体育赛事",
            source_name="网易",
            url="https://www.163.com/ent/1.html",
            published_at=at(20),
            paragraphs=("与卫生信息化无关的报道。",),
            story_id="off-topic",
            doc_id="d-off",
        ),
        relevant=False,
    )
    add(
        DigestItem(
            title="八月的报道",
            source_name="新京报",
            url="https://www.bjnews.com.cn/detail/2.html",
            # 2024-08-01 00:30 in Shanghai is still 2024-07-31 in UTC: must stay out.
            published_at=datetime(2024, 8, 1, 0, 30, tzinfo=SHANGHAI),
            paragraphs=("八月一日的报道。",),
            story_id="august",
            doc_id="d-aug",
        )
    )
    session.flush()
