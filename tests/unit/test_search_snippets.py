"""Result snippets: where the terms are, marked, escaped, cut on the original text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hitwatch.search.snippets import ELLIPSIS, highlight, highlight_title


def test_marks_every_term_and_escapes_the_rest() -> None:
    text = "<b>国家医保局</b> & 卫健委：推进电子病历"
    assert highlight(text, ["医保", "电子病历"]) == (
        "&lt;b&gt;国家<mark>医保</mark>局&lt;/b&gt; &amp; 卫健委：推进<mark>电子病历</mark>"
    )


def test_terms_are_escaped_too() -> None:
    assert highlight("a <script> b", ["<script>"]) == "a &lt;<mark>script</mark>&gt; b"


def test_matches_on_normalised_text_but_shows_the_original() -> None:
    assert highlight("推进ＤＲＧ付费改革", ["drg付费"]) == "推进<mark>ＤＲＧ付费</mark>改革"
    assert highlight("ＭｅｄＧＰＴ上线", ["MedGPT"]) == "<mark>ＭｅｄＧＰＴ</mark>上线"


def test_matches_like_the_index_does() -> None:
    # Punctuation inside a term is a separator, as in search; words match whole.
    assert highlight("5G 医疗健康", ["5G+医疗健康"]) == "<mark>5G 医疗健康</mark>"
    assert highlight("ChatGPT 与 GPT-4", ["gpt"]) == "ChatGPT 与 <mark>GPT</mark>-4"
    assert highlight("医疗保障", ["医保"]) == "医疗保障"


def test_overlapping_and_adjacent_terms_become_one_mark() -> None:
    assert highlight("电子病历系统", ["电子病历", "病历系统"]) == "<mark>电子病历系统</mark>"
    assert highlight("医保局", ["医保", "局"]) == "<mark>医保局</mark>"


def test_window_holds_the_most_matches() -> None:
    text = (
        "开头" + "甲" * 200 + "医保" + "乙" * 200 + "医保一次" + "丙" * 20 + "医保两次" + "丁" * 200
    )
    snippet = highlight(text, ["医保"], width=60)
    assert snippet.count("<mark>医保</mark>") == 2
    assert snippet.startswith(ELLIPSIS) and snippet.endswith(ELLIPSIS)
    plain = snippet.replace("<mark>", "").replace("</mark>", "").strip(ELLIPSIS)
    assert len(plain) <= 60 and plain in text


def test_without_matches_shows_the_beginning() -> None:
    text = "卫生信息化" * 50
    snippet = highlight(text, ["量子计算"], width=20)
    assert snippet == text[:20] + ELLIPSIS


def test_short_text_is_whole_and_whitespace_collapsed() -> None:
    assert highlight("第一段。\n\n  第二段", ["第二"]) == "第一段。 <mark>第二</mark>段"


def test_never_cuts_a_character_from_its_accent() -> None:
    text = "x" * 10 + "e\u0301" + "医保" + "y" * 40
    snippet = highlight(text, ["医保"], width=8)  # the window would open on the accent
    plain = snippet.replace("<mark>", "").replace("</mark>", "").strip(ELLIPSIS)
    assert not plain.startswith("\u0301")


@pytest.mark.parametrize("text", ["㍿医保", "ﬁ医保", "İ医保"])
def test_characters_that_normalise_to_several_keep_offsets(text: str) -> None:
    assert highlight(text, ["医保"]) == text[0] + "<mark>医保</mark>"


def test_highlight_title_never_cuts() -> None:
    title = "关于印发" + "长" * 150 + "电子病历通知"
    assert (
        highlight_title(title, ["电子病历"])
        == "关于印发" + "长" * 150 + "<mark>电子病历</mark>通知"
    )


# Full-width, capitals, expanding (㎡ ½), astral (𝐀 𠀀), combining and plain characters.
_MIXED = "ＡＢｃＤ医保，。㎡½𝐀𠀀e\u0301 x1Ｚ"


@given(st.text(alphabet=_MIXED, max_size=40))
def test_normalising_for_matches_is_per_character_normal_form(text: str) -> None:
    from hitwatch.search.snippets import _normalized
    from hitwatch.text import normalize

    normalized, origin = _normalized(text)
    assert normalized == "".join(normalize(char) for char in text)
    assert len(origin) == len(normalized)
    for position, source in enumerate(origin):
        assert normalized[position] in normalize(text[source])


def test_window_counts_spans_longer_than_it() -> None:
    long_match = "医保" * 80
    assert highlight(long_match + "。其后", ["医保"], width=20).startswith("<mark>")
