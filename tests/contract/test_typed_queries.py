"""Queries as people type them, on every backend: Chinese against Latin letters and digits
without spaces, full-width letters and digits, any case, words separated by ，、；.

Properties (hypothesis), for memory, SQLite FTS5 and Elasticsearch alike:

- documents and queries are normalised the same way: a stretch of a document, typed
  back in any width and case and with any separator where the text had one, finds it;
- `AB` (Chinese and Latin typed together) never finds less than `A B` found before this
  change, whose tree is rebuilt here the old way (parse, then synonyms, nothing split).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hitwatch.search import SearchIndex, SearchRequest, prepare_query, query_hint
from hitwatch.search.query import Node, parse_query
from hitwatch.search.synonyms import expand_synonyms
from tests.factories import search_document

CJK = "医保局电子病历疗监管智能人工"
WORDS = ["ai", "drg", "his", "gpt"]  # ai and drg have synonyms (人工智能, 按疾病诊断相关分组)
NUMBERS = ["2024", "5", "19"]
SEPARATORS = [" ", "，", "、", "；", "。", ","]


@dataclass(frozen=True)
class Piece:
    text: str
    kind: str  # "cjk", "word" or "number"


cjk_piece = st.text(alphabet=CJK, min_size=1, max_size=3).map(lambda t: Piece(t, "cjk"))
word_piece = st.sampled_from(WORDS).map(lambda t: Piece(t, "word"))
number_piece = st.sampled_from(NUMBERS).map(lambda t: Piece(t, "number"))
piece = st.one_of(cjk_piece, word_piece, number_piece)


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@st.composite
def typed(draw: st.DrawFn, part: Piece) -> str:
    """The piece as someone might type it: any case, half- or full-width."""
    text = part.text
    if part.kind == "word":
        text = "".join(draw(st.sampled_from([c.lower(), c.upper()])) for c in text)
    if part.kind != "cjk" and draw(st.booleans()):
        text = full_width(text)
    return text


def needs_separator(left: Piece, right: Piece) -> bool:
    """Two words or two numbers typed together would be one word or number."""
    return left.kind == right.kind != "cjk"


@st.composite
def joined(draw: st.DrawFn, parts: list[Piece], apart: list[bool] | None = None) -> str:
    """The pieces typed in a row; `apart[i]`: a separator must follow piece i (else one may)."""
    out = [draw(typed(parts[0]))]
    for position in range(1, len(parts)):
        must = needs_separator(parts[position - 1], parts[position]) or bool(
            apart and apart[position - 1]
        )
        choices = SEPARATORS if must else ["", *SEPARATORS]
        out.append(draw(st.sampled_from(choices)))
        out.append(draw(typed(parts[position])))
    return "".join(out)


@st.composite
def document_and_stretch(draw: st.DrawFn) -> tuple[str, str]:
    """A document text and a stretch of it typed again, perhaps differently."""
    parts = draw(st.lists(piece, min_size=1, max_size=8))
    apart = [needs_separator(left, right) or draw(st.booleans()) for left, right in pairwise(parts)]
    pieces = [draw(typed(parts[0]))]
    for position in range(1, len(parts)):
        separator = draw(st.sampled_from(SEPARATORS)) if apart[position - 1] else ""
        pieces.append(separator + draw(typed(parts[position])))
    start = draw(st.integers(0, len(parts) - 1))
    end = draw(st.integers(start + 1, len(parts)))
    stretch = draw(joined(parts[start:end], apart[start : end - 1]))
    return "".join(pieces), stretch


def load(index: SearchIndex, texts: list[str]) -> list[str]:
    ids = [f"p{n}" for n in range(len(texts))]
    index.index(
        [search_document(i, title="标题", body=text) for i, text in zip(ids, texts, strict=True)]
    )
    index.refresh()
    return ids


def unload(index: SearchIndex, ids: list[str]) -> None:
    for doc_id in ids:
        index.delete(doc_id)
    index.refresh()


def hits(index: SearchIndex, query: Node) -> set[str]:
    page = index.search(SearchRequest(query=query, limit=1000))
    return {hit.doc_id for hit in page.hits}


PROPERTY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTY_SETTINGS
@given(cases=st.lists(document_and_stretch(), min_size=1, max_size=4))
def test_a_stretch_of_a_document_typed_any_way_finds_it(
    search_index: SearchIndex, cases: list[tuple[str, str]]
) -> None:
    ids = load(search_index, [text for text, _ in cases])
    try:
        for doc_id, (text, stretch) in zip(ids, cases, strict=True):
            assert doc_id in hits(search_index, prepare_query(stretch)), (text, stretch)
    finally:
        unload(search_index, ids)


def before(text: str) -> Node:
    """What `text` meant before typed terms were split: parsed, synonyms expanded."""
    return expand_synonyms(parse_query(text))


@PROPERTY_SETTINGS
@given(
    texts=st.lists(st.lists(piece, min_size=1, max_size=6).flatmap(joined), min_size=1, max_size=8),
    chinese=st.text(alphabet=CJK, min_size=1, max_size=3),
    latin=st.one_of(word_piece, number_piece).flatmap(typed),
    latin_first=st.booleans(),
)
def test_typed_together_never_finds_less_than_typed_apart(
    search_index: SearchIndex, texts: list[str], chinese: str, latin: str, latin_first: bool
) -> None:
    ids = load(search_index, texts)
    try:
        a, b = (latin, chinese) if latin_first else (chinese, latin)
        together = hits(search_index, prepare_query(a + b))
        assert together >= hits(search_index, before(f"{a} {b}")), (a + b, texts)
        assert together == hits(search_index, prepare_query(f"{a} {b}")), (a + b, texts)
    finally:
        unload(search_index, ids)


def test_the_examples_of_the_issue(search_index: SearchIndex) -> None:
    ids = load(
        search_index,
        [
            "医疗 AI 监管办法征求意见",
            "医疗领域人工智能应用的监管要求",
            "医保 DRG 付费改革全面推开",
            "ＡＩ辅助诊断２０２４年纳入医保",
        ],
    )
    try:
        assert hits(search_index, prepare_query("医疗AI 监管")) == {"p0", "p1"}
        assert hits(search_index, prepare_query("医保DRG")) == {"p2"}
        assert hits(search_index, prepare_query("AI，2024、医保")) == {"p3"}
        assert hits(search_index, prepare_query("ai诊断")) == {"p3"}
        assert hits(search_index, prepare_query('"医疗AI"')) == {"p0"}  # a phrase stays whole
    finally:
        unload(search_index, ids)


def test_the_hint_counts_each_condition_and_finds_a_query_that_finds(
    search_index: SearchIndex,
) -> None:
    ids = load(search_index, ["医保 DRG 付费", "医保信息平台", "DRG 分组方案"])
    try:
        request = SearchRequest(relevant_only=True)
        hint = query_hint(search_index, request, "医保DRG 量子")
        assert [(term.q, term.count) for term in hint.terms] == [
            ("医保", 2),
            ("DRG", 2),
            ("量子", 0),
        ]
        assert hint.suggestion is not None
        assert (hint.suggestion.q, hint.suggestion.count) == ("医保 DRG", 1)
        assert hits(search_index, prepare_query(hint.suggestion.q)) == {"p0"}
        filtered = query_hint(search_index, SearchRequest(source_ids=("nowhere",)), "医保")
        assert filtered.terms == [] and filtered.suggestion is not None
        assert filtered.suggestion.without_filters and filtered.suggestion.count == 2
        nothing = query_hint(search_index, request, "量子 -医保")
        assert nothing.suggestion is None  # the negation is not counted alone
        assert [(term.q, term.count) for term in nothing.terms] == [("量子", 0)]
    finally:
        unload(search_index, ids)


@pytest.mark.parametrize("typed_query", ["医保DRG", "医保，DRG", "医保、ＤＲＧ", "ｄｒｇ；医保"])
def test_separators_and_widths_are_spaces(search_index: SearchIndex, typed_query: str) -> None:
    ids = load(search_index, ["医保 DRG 付费", "DRG 与医保", "医保信息平台"])
    try:
        assert hits(search_index, prepare_query(typed_query)) == {"p0", "p1"}
    finally:
        unload(search_index, ids)
