"""Behaviour of extract_page beyond the golden pages: encodings, errors, cleanup, policy."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
import yaml

import classifier.extraction.blocks
from classifier.extraction import attach_pdf_text, extract_page
from classifier.extraction.blocks import (
    clean_paragraphs,
    collapse,
    element_paragraphs,
    vocabulary,
)
from classifier.extraction.dates import BEIJING
from classifier.extraction.encoding import decode_page
from classifier.extraction.policy import find_doc_number, policy_from_body
from hitwatch.errors import ExtractionError
from hitwatch.messages import Attachment
from hitwatch.sources import DetailRules, SourceDefinition

NOW = datetime(2024, 7, 15, tzinfo=BEIJING)
PROSE = "为持续推进以电子病历为核心的医疗机构信息化建设，现印发给你们，请遵照执行。"


def page(body: str, *, charset: str = "utf-8", head: str = "") -> str:
    return (
        f'<html><head><meta charset="{charset}"><title>测试标题_某网站</title>{head}</head>'
        f"<body><h1>测试标题</h1>{body}</body></html>"
    )


def definition(**detail: object) -> SourceDefinition:
    return SourceDefinition(
        id="example",
        name="示例网",
        kind="media",
        homepage="https://news.example.cn/",
        domains=["news.example.cn"],
        detail=DetailRules.model_validate(detail),
    )


def test_utf8_bytes_win_over_a_gb2312_declaration() -> None:
    raw = page(f"<p>{PROSE}</p>", charset="gb2312").encode("utf-8")
    assert decode_page(raw).encoding == "utf-8"


def test_gb2312_declaration_over_gbk_bytes_reads_as_gb18030() -> None:
    # 镕 is in GBK but not in GB2312: a strict GB2312 decoder would fail on it.
    raw = page("<p>朱镕基同志在会上讲话，强调医疗卫生信息化。</p>", charset="gb2312").encode("gbk")
    decoded = decode_page(raw)
    assert decoded.encoding == "gb18030"
    assert "朱镕基" in decoded.text


def test_forced_encoding_from_the_source_definition_wins() -> None:
    raw = page(f"<p>{PROSE}</p>").encode("gbk")
    assert decode_page(raw, forced="gbk").encoding == "gbk"


def test_undeclared_gbk_page_is_detected() -> None:
    raw = ("<html><body><p>" + PROSE * 5 + "</p></body></html>").encode("gbk")
    decoded = decode_page(raw)
    assert PROSE in decoded.text


def test_mostly_undecodable_bytes_raise_with_a_reason() -> None:
    raw = (
        b"<html><meta charset='gb2312'><body>" + bytes(range(0x80, 0x100)) * 40 + b"</body></html>"
    )
    with pytest.raises(ExtractionError, match="do not decode"):
        decode_page(raw)


@pytest.mark.parametrize(
    ("raw", "content_type", "reason"),
    [
        (b"", "", "empty"),
        (b"   \n", "text/html", "empty"),
        (b"%PDF-1.7 ...", "", "PDF"),
        (b"PK\x03\x04rest", "", "ZIP"),
        (b"<html></html>", "application/pdf", "content type"),
        (b"\x00\x01\x02binary" * 10, "", "binary"),
    ],
)
def test_non_pages_raise_extraction_error(raw: bytes, content_type: str, reason: str) -> None:
    with pytest.raises(ExtractionError, match=reason):
        extract_page(raw, "https://news.example.cn/a.html", content_type=content_type, sources=())


def test_a_page_without_article_text_raises_instead_of_returning_an_empty_article() -> None:
    raw = page('<div class="nav"><a href="/">首页</a></div>').encode("utf-8")
    with pytest.raises(ExtractionError, match="no article text"):
        extract_page(raw, "https://news.example.cn/a.html", sources=())


def test_site_rules_are_used_and_furniture_dropped() -> None:
    body = (
        '<div class="share">分享到：微信</div><div id="art">'
        f"<p>{PROSE}</p><p>责任编辑：张三</p><p>扫一扫在手机打开当前页</p><p>（完）</p></div>"
    )
    source = definition(body=["#art"], drop=[".share"])
    result = extract_page(
        page(body).encode(), "https://news.example.cn/a.html", source=source, now=NOW
    )
    assert result.method == "site"
    assert result.paragraphs == [PROSE, "（完）"]
    assert result.source_name == "示例网"


def test_missing_body_selector_falls_back_to_generic_extraction() -> None:
    body = f"<div><p>{PROSE}</p><p>{PROSE[::-1]}</p></div>"
    source = definition(body=["#gone"])
    result = extract_page(
        page(body).encode(), "https://news.example.cn/a.html", source=source, now=NOW
    )
    assert result.method == "fallback"
    assert PROSE in result.body


def test_date_printed_under_the_title_and_year_from_url() -> None:
    info = '<div class="info">07-03 10:21 来源：人民日报</div>'
    body = f"{info}<div><p>{PROSE}</p><p>{PROSE}。</p></div>"
    result = extract_page(
        page(body).encode(), "https://news.example.cn/2023/0703/a.html", sources=(), now=NOW
    )
    assert result.published_at == datetime(2023, 7, 3, 10, 21, tzinfo=BEIJING)
    assert result.origin_name == "人民日报"


def test_unknown_host_is_named_from_the_vocabulary_or_the_host() -> None:
    body = f"<div><p>{PROSE}</p><p>{PROSE}。</p></div>"
    assert (
        extract_page(page(body).encode(), "https://news.sina.com.cn/a.html", sources=()).source_name
        == "新浪"
    )
    assert (
        extract_page(page(body).encode(), "https://www.unknown.org/a.html", sources=()).source_name
        == "unknown.org"
    )


def test_collapse_keeps_latin_spaces_and_removes_line_wraps_between_cjk() -> None:
    assert collapse("  国家 卫生\n健康委  发布 WiNGPT 2.0  ") == "国家卫生健康委发布 WiNGPT 2.0"


def test_paragraphs_follow_block_elements_and_br() -> None:
    import lxml.html

    root = lxml.html.fromstring(
        "<div>第一段<br>第二\n  段<p>第三段<b>加粗</b>文字</p><script>x()</script></div>"
    )
    assert element_paragraphs(root) == ["第一段", "第二段", "第三段加粗文字"]


def test_clean_paragraphs_keeps_typos_and_datelines() -> None:
    lines = [
        "中新网北京7月11日电(记者 李四)",
        "医疗机购信息化",
        "分享到：",
        "【编辑:王五】",
        "医疗机购信息化",
    ]
    assert clean_paragraphs(lines) == ["中新网北京7月11日电(记者 李四)", "医疗机购信息化"]


def test_furniture_patterns_anchored_at_the_start_hold_there_only() -> None:
    # is_furniture tries a pattern beginning with ^ at the line's start alone: the whole
    # pattern must be anchored (no top-level alternative that could match further on).
    from re import _parser  # type: ignore[attr-defined]

    data = yaml.safe_load(
        (Path(classifier.extraction.blocks.__file__).with_name("vocabulary.yaml")).read_text()
    )
    anchored = [p for p in data["furniture_lines"] if p.startswith("^")]
    assert anchored
    for pattern in anchored:
        assert _parser.parse(pattern)[0] == (_parser.AT, _parser.AT_BEGINNING), pattern
    voc = vocabulary()
    everything = re.compile("|".join(f"(?:{p})" for p in data["furniture_lines"]))
    lines = [
        "分享到：",
        "扫一扫在手机打开当前页",
        "网友评论仅供其表达个人看法",
        "【编辑:王五】",
        "版权所有",
        "正文里提到责任编辑：某某",
        "打印",
        "本页打印",
        "医疗机购信息化",
    ]
    for line in lines:
        assert voc.is_furniture(line) == bool(everything.search(line)), line
    assert not voc.is_furniture("正文里提到责任编辑：某某")
    assert voc.is_furniture("请扫一扫关注")


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["国办发〔2019〕4号", "各省："], "国办发〔2019〕4号"),
        (["国卫规划发[2024]12号"], "国卫规划发[2024]12号"),
        (["中华人民共和国国务院令 第707号"], "中华人民共和国国务院令第707号"),
        (["根据国办发〔2019〕4号文件精神，各地应当加快推进三级公立医院绩效考核工作。"], ""),
    ],
)
def test_doc_number_near_the_top(lines: list[str], expected: str) -> None:
    assert find_doc_number(lines) == expected


def test_policy_from_body_needs_a_doc_number_outside_government_sites() -> None:
    lines = [PROSE, "国家卫生健康委办公厅", "2024年7月1日"]
    assert policy_from_body("标题", lines, None, official=False) is None
    meta = policy_from_body("标题", lines, NOW, official=True)
    assert meta is not None
    assert (meta.issuer, meta.written_date, meta.publish_date) == (
        "国家卫生健康委办公厅",
        "2024-07-01",
        "2024-07-15",
    )


def test_attach_pdf_text_rejects_non_pdf_bytes() -> None:
    with pytest.raises(ExtractionError, match="not a PDF"):
        attach_pdf_text(Attachment(url="https://x.cn/a.pdf"), b"<html>")


def test_attach_pdf_text_reads_a_pdf() -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    import io

    buffer = io.BytesIO()
    writer.write(buffer)
    attached = attach_pdf_text(
        Attachment(url="https://x.cn/a.pdf", title="附件"), buffer.getvalue()
    )
    assert attached.title == "附件"
    assert attached.text == ""  # a blank page has no text, but the PDF was read


@pytest.mark.parametrize(
    ("text", "origin"),
    [
        ("来源：办公室2024-07-30", "办公室"),
        ("来源：规划财务和法规司 2024-07-26 10:00", "规划财务和法规司"),
        ("来源：2024-07-17", ""),
        ("来源：朝阳报", "朝阳报"),
        ("来源：中新网", ""),  # the outlet itself is no reprint source
    ],
)
def test_origin_keeps_the_name_and_drops_dates(text, origin):
    from classifier.extraction.page import _normalise_origin

    assert _normalise_origin(text, "中新网") == origin


def test_policy_labels_are_compared_without_any_whitespace_or_colon() -> None:
    from classifier.extraction.policy import _compact

    noise = re.compile(r"[\s:：\u3000\u00a0]+")
    for text in [
        "发文 机关：",
        "发\u3000文\u00a0字号:",
        "成文\t日期\n",
        "主题\x1c分类\u2028",
        "索引号 : 123",
    ]:
        assert _compact(text) == noise.sub("", text)


def test_a_policy_table_needs_two_fields_and_finds_labels_inside_longer_ones() -> None:
    import lxml.html

    from classifier.extraction.policy import policy_from_table

    def table(cells: str) -> str:
        return f"<html><body><table><tr>{cells}</tr></table><p>正文</p></body></html>"

    one = lxml.html.document_fromstring(
        table("<td>标题:</td><td>某文件</td><td>文号：</td><td>x</td>")
    )
    assert policy_from_table(one) is None
    two = lxml.html.document_fromstring(
        table(
            "<td>发文字号：</td><td>国卫办发〔2024〕1号</td><td>成文 日期</td><td>2024年1月2日</td>"
        )
    )
    fields = policy_from_table(two)
    assert fields is not None
    assert fields.meta.doc_number == "国卫办发〔2024〕1号"
    assert fields.meta.written_date == "2024-01-02"
