"""The classify task reads a short notice together with the document it attaches."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from classifier.classify import Classifier
from classifier.dedupe import StoryAssignment
from classifier.worker import ClassifyPipeline
from crawler.mirror.documents import document_bytes
from hitwatch.messages import AttachmentFile, CrawledItem


class _OneStoryEach:
    """Stands in for the Redis story registry: every document is its own new story."""

    def assign(self, *, doc_id: str, **_: Any) -> StoryAssignment:
        return StoryAssignment(story_id=f"s-{doc_id}", content_hash=doc_id, new_story=True)

    def assign_many(self, documents: list[Any]) -> list[StoryAssignment]:
        return [self.assign(doc_id=document.doc_id) for document in documents]


PAGE = """<html><head><title>{title}</title></head><body><h1>{title}</h1>
<div class="article"><p>某卫健发〔2024〕7号</p><p>各区卫生健康委，各有关单位：</p>
<p>现将《便民就医服务改革工作方案》印发给你们，请结合实际认真贯彻执行。</p>
<p>附件：<a href="/files/plan.docx">便民就医服务改革工作方案</a></p>
<p>某市卫生健康委员会</p><p>2024年5月6日</p></div></body></html>"""
TITLE = "某市卫生健康委员会关于印发便民就医服务改革工作方案的通知"
LINES = (
    "一、二级以上医院全面开通互联网医院在线复诊。",
    "二、推广电子健康卡和医保电子凭证，实现移动支付。",
    "三、建设全市预约诊疗信息平台，检查检验结果互联互通。",
)


def _item(with_file: bool) -> CrawledItem:
    files = []
    if with_file:
        data = document_bytes("docx", "便民就医服务改革工作方案", LINES)
        files = [
            AttachmentFile(
                url="https://wjw.example.cn/files/plan.docx", data_z64=CrawledItem.pack_body(data)
            )
        ]
    return CrawledItem(
        item_id="x",
        url="https://wjw.example.cn/a/1.html",
        final_url="https://wjw.example.cn/a/1.html",
        source_id="nhc",
        fetched_at=datetime(2024, 5, 7, tzinfo=UTC),
        content_type="text/html; charset=utf-8",
        body_z64=CrawledItem.pack_body(PAGE.format(title=TITLE).encode("utf-8")),
        attachments=files,
    )


def test_a_short_notice_is_judged_with_its_attachment() -> None:
    pipeline = ClassifyPipeline(Classifier.load(), _OneStoryEach(), {})  # type: ignore[arg-type]
    with_file = pipeline.process(_item(with_file=True))
    without = pipeline.process(_item(with_file=False))
    assert "互联网医院" in with_file.attachments[0].text
    assert with_file.relevant and not without.relevant
    assert with_file.evidence["relevance"]["attachments"] == 1
