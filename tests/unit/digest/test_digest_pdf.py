"""The digest PDF: Chinese text with an embedded CJK font, a title page, 目录 with page
numbers, and the download route. Needs Pango (skipped locally without it, a failure under
CI=true, where scripts/browser installs it)."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime
from io import BytesIO
from typing import NoReturn

import pytest
from pypdf import PdfReader

from hitwatch.digest.build import Digest
from hitwatch.digest.pdf import PdfUnavailableError, render_pdf
from hitwatch.digest.workflow import build_draft
from tests.accounts import sign_in
from tests.conftest import IN_CI
from tests.unit.digest.samples import BULLETIN_ITEMS, END, START, bulletin_digest, store_bulletin
from tests.unit.digest.webapp_stub import digest_app


def _missing(reason: str) -> NoReturn:
    if IN_CI:
        pytest.fail(f"CI=true: {reason}")
    pytest.skip(reason)


def _has_noto_cjk() -> bool:
    if shutil.which("fc-list") is None:
        return False
    listing = subprocess.run(
        ["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False
    )
    return "Noto Serif CJK SC" in listing.stdout and "Noto Sans CJK SC" in listing.stdout


def _pdf(digest: Digest) -> bytes:
    if not _has_noto_cjk():
        _missing("the Noto CJK fonts are missing: apt-get install fonts-noto-cjk (scripts/browser)")
    try:
        return render_pdf(digest)
    except PdfUnavailableError as error:
        _missing(str(error))


def _published() -> Digest:
    return bulletin_digest(
        publisher="卫生信息化监测中心",
        period_word="月报",
        number=7,
        published_at=datetime(2024, 8, 2, tzinfo=UTC),
        editor_note="本期关注数字医疗产业。",
    )


@pytest.fixture(scope="module")
def reader() -> PdfReader:
    return PdfReader(BytesIO(_pdf(_published())))


def _text(reader: PdfReader) -> list[str]:
    # Text extraction may split CJK runs with spaces or line breaks; compare without them.
    return [re.sub(r"\s+", "", page.extract_text()) for page in reader.pages]


def test_pdf_is_a_pdf_of_several_pages() -> None:
    data = _pdf(_published())
    assert data.startswith(b"%PDF-")
    reader = PdfReader(BytesIO(data))
    assert len(reader.pages) > 1


def test_pdf_embeds_a_noto_cjk_font(reader: PdfReader) -> None:
    embedded: set[str] = set()
    for page in reader.pages:
        fonts = page["/Resources"].get_object().get("/Font", {})
        for ref in fonts.values():
            font = ref.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.get_object().get("/FontDescriptor")
                if descriptor is None:
                    continue
                descriptor = descriptor.get_object()
                if any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")):
                    embedded.add(str(descriptor["/FontName"]))
    assert any("CJK" in name for name in embedded), embedded


def test_pdf_has_title_page_toc_with_page_numbers_and_every_item(reader: PdfReader) -> None:
    pages = _text(reader)
    cover = pages[0]
    assert "卫生信息化监测中心" in cover and "月报" in cover and "第7期" in cover
    assert "2024年7月1日至2024年7月31日" in cover
    toc_page = next(number for number, text in enumerate(pages) if "一、信息目录" in text)
    # Lines kept: the page number ends the 目录 line, the next line starts with a number.
    toc = re.sub(r"[ \t]+", "", reader.pages[toc_page].extract_text())
    assert "本期导语" in pages[toc_page] and "编者按：本期关注数字医疗产业。" in pages[toc_page]
    body = "".join(pages[toc_page + 1 :])
    for number, item in enumerate(BULLETIN_ITEMS, start=1):
        title = re.sub(r"\s+", "", item.title)
        # 目录 line: number, title, outlet, leader dots, then the page the item starts on.
        line = rf"^{number}\.{re.escape(title)}（{item.source_name}）\.+(\d+)$"
        match = re.search(line, toc, re.MULTILINE)
        assert match, f"目录 lacks item {number}"
        start_page = int(match.group(1))
        assert toc_page < start_page <= len(pages), (
            f"目录 gives page {start_page} for item {number}"
        )
        assert title in pages[start_page - 1], f"item {number} is not on page {start_page}"
        assert title in body
    assert "二、具体内容" in body


def test_pdf_footer_numbers_pages_after_the_title_page(reader: PdfReader) -> None:
    pages = [page.extract_text() for page in reader.pages]
    assert "— 1 —" not in pages[0]
    for number, text in enumerate(pages[1:], start=2):
        assert f"— {number} —" in text


def test_draft_pdf_says_draft() -> None:
    reader = PdfReader(BytesIO(_pdf(bulletin_digest(draft=True))))
    assert "草稿（未发布）" in re.sub(r"\s+", "", reader.pages[0].extract_text())


def test_issue_page_links_the_pdf_download(settings, database) -> None:  # type: ignore[no-untyped-def]
    with database.session() as session:
        store_bulletin(session)
        issue_id = build_draft(session, settings, START, END).id
    client = digest_app(settings, database).test_client()
    sign_in(client, database, "editor")  # the issue is a draft
    assert f"/digests/{issue_id}.pdf" in client.get(f"/digests/{issue_id}").get_data(as_text=True)
    response = client.get(f"/digests/{issue_id}.pdf")
    if response.status_code == 503 and not IN_CI:
        pytest.skip(response.get_data(as_text=True))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    assert "attachment" in response.headers["Content-Disposition"]
