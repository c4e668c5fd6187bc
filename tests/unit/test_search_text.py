"""The shared tokeniser: what an index stores and what a query term looks for."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hitwatch.text import (
    QueryTokens,
    index_tokens,
    is_cjk,
    normalize,
    query_tokens,
    split_term,
    token_runs,
)


def test_normalize_folds_width_and_case() -> None:
    assert normalize("ＤＲＧ付费，ＭｅｄＧＰＴ") == "drg付费,medgpt"


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("医保局", "医保 保局 局"),
        ("医", "医"),
        ("国家医保局：DRG付费", "国家 家医 医保 保局 局 drg 付费 费"),
        ("MedGPT4o", "medgpt 4 o"),
        ("5G+医疗", "5 g 医疗 疗"),
        ("ＤＲＧ", "drg"),
        ("——，。!", ""),
        ("𠀀𠀁字", "𠀀𠀁 𠀁字 字"),  # CJK extension B, outside the basic plane
        ("電子病歷", "電子 子病 病歷 歷"),  # traditional characters are kept as they are
    ],
)
def test_index_tokens(text: str, tokens: str) -> None:
    assert index_tokens(text) == tokens


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("电子病历", QueryTokens(("电子", "子病", "病历"))),
        ("医", QueryTokens(("医",), prefix=True)),
        ("DRG付费", QueryTokens(("drg", "付费"))),
        ("付费DRG", QueryTokens(("付费", "费", "drg"))),
        ("医drg", QueryTokens(("医", "drg"))),
        ("drg医", QueryTokens(("drg", "医"), prefix=True)),
        ("5G+医疗健康", QueryTokens(("5", "g", "医疗", "疗健", "健康"))),
        ("+", QueryTokens(())),
    ],
)
def test_query_tokens(term: str, expected: QueryTokens) -> None:
    assert query_tokens(term) == expected
    assert query_tokens(term).empty == (not expected.tokens)


def test_token_runs_give_offsets_in_the_normalised_text() -> None:
    text = normalize("国家医保局：DRG付费")
    runs = token_runs(text)
    assert runs == [(0, "国家医保局"), (6, "drg"), (9, "付费")]
    assert all(text[start : start + len(run)] == run for start, run in runs)
    assert [is_cjk(run) for _, run in runs] == [True, False, True]


def _in_row(tokens: list[str], wanted: QueryTokens) -> bool:
    size = len(wanted.tokens)
    for start in range(len(tokens) - size + 1):
        window = tokens[start : start + size]
        if window[:-1] == list(wanted.tokens[:-1]) and (
            window[-1] == wanted.tokens[-1]
            or (wanted.prefix and window[-1].startswith(wanted.tokens[-1]))
        ):
            return True
    return False


@given(st.text(alphabet="医保局电子病历", min_size=1, max_size=30), st.data())
def test_every_chinese_substring_is_found_by_its_tokens(text: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    assert _in_row(index_tokens(text).split(), query_tokens(text[start:end]))


@given(
    st.text(alphabet="医保局电子", max_size=20),
    st.text(alphabet="医保局电子", min_size=1, max_size=4),
)
def test_chinese_tokens_match_only_substrings(text: str, term: str) -> None:
    assert _in_row(index_tokens(text).split(), query_tokens(term)) == (term in text)


def test_normalize_folds_case_beyond_lowercase() -> None:
    assert normalize("Straße ＭＥＤ") == "strasse med"
    assert index_tokens("STRASSE") == index_tokens("Straße")


def test_normalizing_twice_changes_nothing_for_any_character() -> None:
    changed = [
        code
        for code in range(0x110000)
        if not 0xD800 <= code < 0xE000 and normalize(normalize(chr(code))) != normalize(chr(code))
    ]
    assert changed == []


def _nfkc_folded(text: str) -> str:
    """The definition `normalize` implements faster."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def test_normalize_is_nfkc_then_folding_for_any_character() -> None:
    differ = [
        code
        for code in range(0x110000)
        if not 0xD800 <= code < 0xE000 and normalize(chr(code)) != _nfkc_folded(chr(code))
    ]
    assert differ == []


_MIXED = st.text(
    st.sampled_from(
        "医保局ＡＢＣａｂｃ１２３，。（）\u3000 a1,ÅÅ\u0301\u0308\u30ab\uff76\uff9e①㎡ﬁ"
    )
)


@given(_MIXED)
def test_normalize_is_nfkc_then_folding_for_mixed_text(text: str) -> None:
    # Full-width forms next to combining marks and compatibility characters.
    assert normalize(text) == _nfkc_folded(text)


@pytest.mark.parametrize(
    ("term", "parts"),
    [
        ("医疗AI", ["医疗", "AI"]),
        ("医保DRG", ["医保", "DRG"]),
        ("ＡＩ监管", ["ＡＩ", "监管"]),
        ("2024年", ["2024", "年"]),
        ("医保，DRG、DIP；电子病历。", ["医保", "DRG", "DIP", "电子病历"]),
        ("医保,改革", ["医保", "改革"]),
        ("注意：医保", ["注意", "医保"]),
        ("5G+医疗健康", ["5G+", "医疗健康"]),
        ("COVID-19疫情", ["COVID-19", "疫情"]),
        ("MedGPT4", ["MedGPT4"]),  # letters against digits stay one term (a phrase)
        ("《电子病历》", ["电子病历"]),
        ("AI医疗AI", ["AI", "医疗"]),
        ("电子病历", ["电子病历"]),
        ("+", ["+"]),
        ("——", ["——"]),
    ],
)
def test_split_term(term: str, parts: list[str]) -> None:
    assert split_term(term) == parts


@given(st.text(alphabet="医保ａAb1２，、； +", min_size=1, max_size=12))
def test_split_parts_hold_every_token_of_the_term(term: str) -> None:
    parts = split_term(term)
    assert parts == [term] or all(not query_tokens(part).empty for part in parts)
    tokens = {token for part in parts for token in index_tokens(part).split()}
    runs = {run for _, run in token_runs(normalize(term))}
    assert {run for run in runs if not is_cjk(run)} <= tokens
    assert all(any(run in part for part in map(normalize, parts)) for run in runs)
