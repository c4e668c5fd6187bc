"""The digest's text is the bulletin's, line for line, and keeps its six invariants."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime
from pathlib import Path
from xml.etree import ElementTree

import pytest

from hitwatch.digest import (
    Section,
    check_invariants,
    render_atom,
    render_email_html,
    render_html,
    render_markdown,
    render_text,
)
from hitwatch.digest.build import order_items
from hitwatch.digest.render import render_html_fragment
from tests.unit.digest.samples import BULLETIN_ITEMS, bulletin_digest

GOLDEN = Path(__file__).with_name("golden")
SEED = Path(__file__).resolve().parents[4] / "shared" / "seeds" / "004_2986571d7d220ece.txt"


def test_text_matches_the_golden_bulletin_line_by_line():
    expected = (GOLDEN / "bulletin_2024_07.txt").read_text("utf-8").splitlines()
    produced = render_text(bulletin_digest(), with_masthead=False).splitlines()
    for number, (want, got) in enumerate(zip(expected, produced, strict=False), start=1):
        assert got == want, f"line {number}"
    assert len(produced) == len(expected)


def test_golden_bulletin_keeps_every_invariant():
    text = render_text(bulletin_digest(), with_masthead=False)
    assert check_invariants(text) == []
    assert check_invariants((GOLDEN / "bulletin_2024_07.txt").read_text("utf-8")) == []


def test_lead_spacing_and_wording_follow_the_settings():
    digest = bulletin_digest(
        period_word="月报", start=date(2024, 9, 1), end=date(2024, 9, 30), items=()
    )
    lead = render_text(digest, with_masthead=False).splitlines()[1]
    assert lead == (
        "本期月报共收集 0篇卫生信息化相关信息，时间从 2024 年 09 月 1日至 2024年 09月30日，"
        "监测范围包括全国主流媒体及政府网站等。"
    )


def test_masthead_names_publisher_number_revision_and_correction():
    digest = bulletin_digest(
        publisher="卫生信息化监测",
        number=7,
        revision=2,
        published_at=datetime(2024, 8, 1, 2, tzinfo=UTC),
        correction_note="第3条链接有误，已更正。",
        editor_note="本月两篇报道涉及同一会议，均予保留。",
    )
    lines = render_text(digest).splitlines()
    assert lines[:5] == [
        "卫生信息化监测周报",
        "第7期 第2版",
        "发布日期：2024-08-01",
        "更正说明：第3条链接有误，已更正。",
        "本期导语：",
    ]
    assert lines[6] == "编者按：本月两篇报道涉及同一会议，均予保留。"
    assert check_invariants("\n".join(lines)) == []
    assert "草稿（未发布）" in render_text(bulletin_digest(publisher="X", draft=True))


def _break(text: str, old: str, new: str) -> list[str]:
    assert old in text
    return check_invariants(text.replace(old, new, 1))


@pytest.fixture
def text() -> str:
    return render_text(bulletin_digest(), with_masthead=False)


def test_invariant_1_count(text):
    assert any(p.startswith("invariant 1") for p in _break(text, "共收集 4篇", "共收集 5篇"))


def test_invariant_2_numbering(text):
    problems = _break(text, "3.标题：", "5.标题：")
    assert any(p.startswith("invariant 2") for p in problems)


def test_invariant_3_dates_inside_and_ascending(text):
    outside = _break(text, "2024-07-17 来源：网易", "2024-08-02 来源：网易")
    assert any("outside" in p for p in outside)
    backwards = _break(text, "2024-07-11 来源：中新网", "2024-07-05 来源：中新网")
    assert any("dated before" in p for p in backwards)
    assert (
        check_invariants(
            text.replace("2024-07-11 来源：中新网", "2024-07-05 来源：中新网"), date_order=False
        )
        == []
    )


def test_invariant_4_titles_and_sources_agree(text):
    assert any("TOC" in p for p in _break(text, "3. 用大数据看病，可信吗？", "3. 用大数据看病"))
    assert any("source" in p for p in _break(text, "来源：中新网\n链接", "来源：中国新闻网\n链接"))


def test_invariant_5_links_absolute_and_unbroken(text):
    url = "http://www.chinanews.com.cn/sh/2024/07-11/10249603.shtml"
    assert any(p.startswith("invariant 5") for p in _break(text, url, "/sh/2024/07-11/1.shtml"))
    assert any(p.startswith("invariant") for p in _break(text, url, url[:40] + "\n" + url[40:]))


def test_invariant_6_whole_paragraphs_no_html_no_empty_items(text):
    paragraph = BULLETIN_ITEMS[0].paragraphs[0]
    # As the PDF extraction did: a long paragraph cut every 35 characters.
    long_text = paragraph * 2
    wrapped = "\n".join(long_text[i : i + 35] for i in range(0, len(long_text), 35))
    assert any("hard-wrapped" in p for p in _break(text, paragraph, wrapped))
    # Sub-headings (short, unpunctuated) between whole paragraphs are not wraps.
    assert check_invariants(text) == []
    assert any("HTML" in p for p in _break(text, paragraph, "<p>" + paragraph + "</p>"))
    empty = render_text(
        bulletin_digest(items=(dataclasses.replace(BULLETIN_ITEMS[0], paragraphs=()),)),
        with_masthead=False,
    )
    assert any(p.startswith("invariant 6") for p in check_invariants(empty))


def test_sections_group_policy_first_and_keep_numbering():
    policy = dataclasses.replace(
        BULLETIN_ITEMS[3], title="关于印发某某规划的通知", doc_type="政策文件", story_id="s5"
    )
    sections = (Section("政策动态", ("政策文件", "政策解读")), Section("行业动态", ("*",)))
    items = order_items([*BULLETIN_ITEMS, policy], sections)
    assert [item.section for item in items] == ["政策动态"] + ["行业动态"] * 4
    text = render_text(bulletin_digest(items=tuple(items)), with_masthead=False)
    lines = text.splitlines()
    assert lines[3:5] == ["（一）政策动态", "1. 关于印发某某规划的通知（网易）"]
    assert lines[5] == "（二）行业动态"
    assert check_invariants(text) == []


def test_markdown_and_html_carry_every_item():
    digest = bulletin_digest(publisher="卫生信息化监测", number=1)
    markdown = render_markdown(digest)
    html = render_html(digest)
    mail = render_email_html(digest, web_url="https://w/digests/1", unsubscribe_url="https://w/u")
    for item in BULLETIN_ITEMS:
        assert f"<{item.url}>" in markdown
        assert f'href="{item.url}"' in html and f'href="{item.url}"' in mail
        assert item.paragraphs[-1] in html
    assert markdown.startswith("# 卫生信息化监测周报 第1期")
    assert "<table" not in mail and "<style" not in mail and 'href="https://w/u"' in mail


def test_html_escapes_text():
    item = dataclasses.replace(BULLETIN_ITEMS[0], title="A<script>x</script>")
    html = render_html(bulletin_digest(items=(item,)))
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_atom_feed_is_valid_xml_with_one_entry_per_issue():
    digest = bulletin_digest(number=1, published_at=datetime(2024, 8, 1, tzinfo=UTC))
    feed = render_atom(
        [(digest, "https://w/digests/1", str(render_html_fragment(digest)))],
        feed_url="https://w/digests.atom",
        site_url="https://w/digests",
        title="月报",
    )
    root = ElementTree.fromstring(feed.encode("utf-8"))
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = root.findall("a:entry", ns)
    assert len(entries) == 1
    assert entries[0].find("a:updated", ns).text == "2024-08-01T00:00:00+00:00"


def _unwrap_seed_toc(seed: str) -> list[tuple[str, str]]:
    """The seed's item titles and sources from its (intact) content section.

    The PDF extraction damaged the TOC, so the reference is the content section's
    `N.标题：` / `来源：` pairs, with the hard wraps joined.
    """
    lines = [line.strip() for line in seed.splitlines() if line.strip()]
    found = []
    for at, line in enumerate(lines):
        match = re.match(r"^\d+\.标题：(.*)$", line)
        if not match:
            continue
        title, following = match.group(1), at + 1
        while not lines[following].startswith("来源："):
            title += lines[following]
            following += 1
        found.append((title, lines[following].removeprefix("来源：")))
    return found


def test_titles_and_sources_equal_the_real_bulletin():
    if not SEED.is_file():
        pytest.skip(f"real bulletin not found at {SEED}; it needs ../shared beside the checkout")
    seed = SEED.read_text("utf-8")
    # PDF text extraction puts a space where a line broke inside a Latin/digit run.
    expected = _unwrap_seed_toc(seed)
    ours = [
        (m.group(1), m.group(2))
        for line in render_text(bulletin_digest(), with_masthead=False).splitlines()
        if (m := re.match(r"^\d+\. (.*)（([^（）]+)）$", line))
    ]
    assert ours == expected
    for number, (title, _) in enumerate(ours, start=1):
        assert f"{number}.标题：" in seed
        assert title[:12] in seed.replace("\n", "")


def test_docx_has_the_bulletin_headings_items_and_a_toc_field():
    from io import BytesIO

    from docx import Document

    from hitwatch.digest.document import render_docx

    data = render_docx(bulletin_digest(publisher="卫生信息化监测", number=1))
    document = Document(BytesIO(data))
    texts = [p.text for p in document.paragraphs]
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings[:3] == ["一、信息目录", "二、具体内容", f"1.标题：{BULLETIN_ITEMS[0].title}"]
    assert "本期周报共收集 4篇卫生信息化相关信息" in texts[texts.index("本期导语：") + 1]
    for item in BULLETIN_ITEMS:
        assert f"链接：{item.url}" in texts and item.paragraphs[-1] in texts
    xml = document.element.xml
    assert 'w:instr="TOC' in xml
    assert "w:updateFields" in document.settings.element.xml
