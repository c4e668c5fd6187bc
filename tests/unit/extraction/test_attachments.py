"""Attachment text: PDF, DOCX, XLSX, XLS read from files the project generates; .doc via antiword."""

from __future__ import annotations

import shutil

import pytest

from classifier.extraction import attach_documents, document_text
from classifier.extraction.attachments import document_kind
from crawler.mirror.documents import document_bytes
from hitwatch.errors import ExtractionError
from hitwatch.messages import Attachment, AttachmentFile, CrawledItem
from tests.conftest import IN_CI

TITLE = "医保移动支付试点医疗机构名单"
LINES = ("北京市第一示范医院，三级甲等。", "上海市示范中心医院，三级乙等。")


@pytest.mark.parametrize("kind", ["pdf", "docx", "xlsx", "xls"])
def test_generated_documents_read_back(kind: str) -> None:
    data = document_bytes(kind, TITLE, LINES)
    assert document_kind(data, f"https://x.cn/files/a.{kind}") == kind
    text = document_text(data, f"https://x.cn/files/a.{kind}")
    assert TITLE in text
    for line in LINES:
        assert line in text
    if kind in ("xlsx", "xls"):
        assert "1.0" not in text.split("\n")[2]  # row numbers read as the sheet shows them


def test_kind_comes_from_the_bytes_not_the_name() -> None:
    data = document_bytes("docx", TITLE, LINES)
    assert document_kind(data, "https://x.cn/files/a.doc") == "docx"
    xls = document_bytes("xls", TITLE, LINES)
    assert document_kind(xls, "https://x.cn/download?id=3") == "xls"  # no extension: probed


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"<html>not a file</html>", "not supported"),
        (b"PK\x03\x04broken", "damaged ZIP"),
    ],
)
def test_unreadable_attachments_say_why(data: bytes, message: str) -> None:
    with pytest.raises(ExtractionError, match=message):
        document_text(data, "a.docx")


def test_legacy_doc_without_antiword_is_refused_with_the_reason(monkeypatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    with pytest.raises(ExtractionError, match="antiword"):
        document_text(ole, "https://x.cn/files/a.doc")


def test_antiword_rejects_a_file_that_is_no_word_document() -> None:
    if shutil.which("antiword") is None:
        reason = "antiword not installed (scripts/browser installs it)"
        if IN_CI:
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    with pytest.raises(ExtractionError, match="antiword"):
        document_text(ole, "https://x.cn/files/a.doc")


def _file(url: str, data: bytes) -> AttachmentFile:
    return AttachmentFile(url=url, data_z64=CrawledItem.pack_body(data))


def test_fetched_files_fill_the_text_of_their_links() -> None:
    listed = [
        Attachment(url="https://x.cn/files/a.xlsx", title="名单.xlsx"),
        Attachment(url="https://x.cn/files/b.pdf", title="未取到.pdf"),
    ]
    files = [
        _file("https://x.cn/files/a.xlsx", document_bytes("xlsx", TITLE, LINES)),
        _file("https://x.cn/other/c.docx", document_bytes("docx", "其他附件", LINES)),
        _file("https://x.cn/files/d.xls", b"garbage"),
    ]
    result, problems = attach_documents(listed, files)
    assert [a.url for a in result] == [
        "https://x.cn/files/a.xlsx",
        "https://x.cn/files/b.pdf",
        "https://x.cn/other/c.docx",
        "https://x.cn/files/d.xls",
    ]
    assert TITLE in result[0].text
    assert result[1].text == ""  # not fetched: listed without text
    assert result[2].title == "c.docx" and "其他附件" in result[2].text
    assert result[3].text == "" and len(problems) == 1 and "d.xls" in problems[0]


def test_script_links_are_no_attachments_however_they_are_spelt() -> None:
    from classifier.extraction import extract_page

    links = (
        '<a href="JavaScript:top.x=1//a.pdf">一.pdf</a><a href=" java&#9;script:top.y=1//b.pdf">二</a>'
        '<a href="data:application/pdf;base64,AA//c.pdf">三</a><a href="#d.pdf">四</a>'
        '<a href="/files/e.pdf">五</a>'
    )
    page = (
        "<html><body><h1>电子病历评级新规</h1><div id='contentStr'><p>国家卫生健康委发布电子病历"
        f"系统应用水平分级评价标准，要求各地推进电子病历建设。</p><p>附件：{links}</p></div></body></html>"
    )
    found = extract_page(page.encode(), "https://www.bjnews.com.cn/detail/1.html")
    assert [a.url for a in found.attachments] == ["https://www.bjnews.com.cn/files/e.pdf"]


def test_attachment_links_are_resolved_against_the_pages_base_href() -> None:
    from classifier.extraction import extract_page

    page = (
        "<html><head><base href='https://files.nhc.gov.cn/xxs/'></head><body>"
        "<h1>电子病历评级新规</h1><div id='contentStr'><p>国家卫生健康委发布电子病历"
        "系统应用水平分级评价标准，要求各地推进电子病历建设。</p><p>附件："
        "<a href='2024/a.pdf'>一</a><a href='../b.docx'>二</a>"
        "<a href='https://www.nhc.gov.cn/c.xls'>三</a><a href='other.html'>四</a></p></div>"
        "</body></html>"
    )
    found = extract_page(page.encode(), "https://www.bjnews.com.cn/detail/1.html")
    assert [a.url for a in found.attachments] == [
        "https://files.nhc.gov.cn/xxs/2024/a.pdf",
        "https://files.nhc.gov.cn/b.docx",
        "https://www.nhc.gov.cn/c.xls",
    ]
