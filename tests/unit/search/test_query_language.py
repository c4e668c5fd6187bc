"""The query language: what parses to what, and how malformed queries are refused."""

from datetime import date

import pytest

from hitwatch.errors import QueryError
from hitwatch.search.query import (
    MAX_LENGTH,
    And,
    DateRange,
    Field,
    MatchAll,
    Not,
    Or,
    Term,
    parse_query,
)
from hitwatch.search.synonyms import expand_synonyms


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("", MatchAll()),
        ("电子病历", Term("电子病历")),
        ('"互联网 医院"', Term("互联网 医院", phrase=True)),
        ("医保 DRG", And((Term("医保"), Term("DRG")))),
        ("医保 AND DRG", And((Term("医保"), Term("DRG")))),
        ("医保 | DRG", Or((Term("医保"), Term("DRG")))),
        ("医保 OR DRG", Or((Term("医保"), Term("DRG")))),
        ("-广告", Not(Term("广告"))),
        ("NOT 广告", Not(Term("广告"))),
        ("a OR b c", Or((Term("a"), And((Term("b"), Term("c")))))),
        ("(a OR b) c", And((Or((Term("a"), Term("b"))), Term("c")))),
        ("5G+医疗健康", Term("5G+医疗健康")),
        ("Med-PaLM2", Term("Med-PaLM2")),
        ("ORACLE", Term("ORACLE")),
        ("source:nhc", Field("source", "nhc")),
        ('docno:"国办发〔2019〕4号"', Field("docno", "国办发〔2019〕4号")),
        ("after:2024-07-01", DateRange(start=date(2024, 7, 1))),
        ("before:2024-08-01", DateRange(end=date(2024, 8, 1))),
        ("month:2024-12", DateRange(date(2024, 12, 1), date(2025, 1, 1))),
    ],
)
def test_parses(text, tree):
    assert parse_query(text) == tree


def _nested(levels: int) -> str:
    query = "a"
    for level in range(levels):
        query = f"(x{level} | (y{level} {query}))"
    return query


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("(医保", "ends too early"),
        ("医保 |", "ends too early"),
        ("医保)", r"unexpected '\)' at position 3"),
        ('"电子病历', "unclosed quote"),
        ("after:2024-13-01", "expects a date"),
        ("month:July", "expects a month"),
        ("x" * (MAX_LENGTH + 1), "limit is"),
        (" ".join(f"t{i}" for i in range(60)), "more than"),
        (_nested(6), "deeper"),
    ],
)
def test_malformed_queries_say_what_and_where(text, message):
    with pytest.raises(QueryError, match=message):
        parse_query(text)


def test_synonyms_expand_unquoted_terms_only():
    table = {"ai": ("AI", "人工智能"), "人工智能": ("AI", "人工智能")}
    assert expand_synonyms(parse_query("AI 医疗"), table) == And(
        (Or((Term("AI"), Term("人工智能"))), Term("医疗"))
    )
    assert expand_synonyms(parse_query('"AI"'), table) == Term("AI", phrase=True)


def test_shipped_synonyms_load():
    expanded = expand_synonyms(parse_query("卫健委"))
    assert Term("国家卫生健康委员会") in expanded.children
