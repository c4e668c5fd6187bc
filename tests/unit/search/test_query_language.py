"""The query language: what parses to what, and how malformed queries are refused."""

from datetime import date

import pytest

from hitwatch.errors import QueryError
from hitwatch.search.prepare import expand_terms, prepare_query, typed_conjuncts
from hitwatch.search.query import (
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_TERMS,
    And,
    DateRange,
    Field,
    MatchAll,
    Not,
    Or,
    Term,
    parse_query,
    query_text,
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
    ("text", "code", "position", "message"),
    [
        ("(医保", "unclosed_paren", 1, "第 1 个字符处：括号没有闭合"),
        ("医保 (DRG OR (a b)", "unclosed_paren", 4, "第 4 个字符处：括号没有闭合"),
        ("医保 |", "dangling_operator", 4, "第 4 个字符处：“|”后面缺少查询词"),
        ("医保 -", "dangling_operator", 4, "“-”后面缺少查询词"),
        ("| DRG", "leading_operator", 1, "“|”前面缺少查询词"),
        ("医保)", "unmatched_paren", 3, "第 3 个字符处：多余的右括号"),
        ("a ()", "empty_parens", 3, "括号中没有内容"),
        ('医保 "电子病历', "unclosed_quote", 4, "第 4 个字符处：引号没有闭合"),
        ('""', "empty_quotes", 1, "引号中没有内容"),
        ("医保 after:2024-13-01", "bad_date", 4, "日期格式应为 2024-07-01，而不是“2024-13-01”"),
        ("month:July", "bad_month", 1, "月份格式应为 2024-07"),
        ("x" * (MAX_LENGTH + 1), "too_long", None, f"超过上限 {MAX_LENGTH} 个字符"),
        (" ".join(f"t{i}" for i in range(60)), "too_many_terms", None, f"超过 {MAX_TERMS} 个"),
        (_nested(6), "too_deep", None, f"嵌套超过 {MAX_DEPTH} 层"),
    ],
)
def test_malformed_queries_say_what_and_where_in_chinese(text, code, position, message):
    with pytest.raises(QueryError) as caught:
        parse_query(text)
    error = caught.value
    assert (error.code, error.position) == (code, position)
    assert message in error.message
    if position is None:
        assert not error.detail
    else:
        assert error.message.startswith(f"第 {position} 个字符处：")


def test_caret_points_at_the_character_counting_chinese_as_two_columns():
    with pytest.raises(QueryError) as caught:
        parse_query("医保 DRG)")
    assert caught.value.position == 7
    query_line, caret_line = caught.value.detail.split("\n")
    assert query_line == "  医保 DRG)"
    # 医保 takes four columns in a monospaced font, then " DRG" four more
    assert caret_line == "  " + " " * 8 + "^"


def test_limits_are_exact():
    parse_query("x" * MAX_LENGTH)
    parse_query(" ".join(f"t{i}" for i in range(MAX_TERMS)))
    with pytest.raises(QueryError):
        parse_query(" ".join(f"t{i}" for i in range(MAX_TERMS + 1)))


def test_synonyms_expand_unquoted_terms_only():
    table = {"ai": ("AI", "人工智能"), "人工智能": ("AI", "人工智能")}
    assert expand_synonyms(parse_query("AI 医疗"), table) == And(
        (Or((Term("AI"), Term("人工智能"))), Term("医疗"))
    )
    assert expand_synonyms(parse_query('"AI"'), table) == Term("AI", phrase=True)


def test_shipped_synonyms_load():
    expanded = expand_synonyms(parse_query("卫健委"))
    assert Term("国家卫生健康委员会") in expanded.children


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("（医保｜DRG）－广告", "(医保 | DRG) -广告"),
        ("（医保 ｜ DRG） －广告", "(医保 | DRG) -广告"),
        ("“互联网医院”", '"互联网医院"'),
        ("source：nhc type：政策文件", "source:nhc type:政策文件"),
        ("docno:国办发（2019）4号", 'docno:"国办发（2019）4号"'),  # inside a word: text
        ("注意：医保", "注意：医保"),  # not a field: one term, split later
        ("国卫－19", "国卫－19"),
    ],
)
def test_full_width_operators_read_as_typed_by_a_chinese_input_method(typed, read):
    assert parse_query(typed) == parse_query(read)


def test_errors_in_full_width_queries_point_into_the_typed_text():
    with pytest.raises(QueryError) as caught:
        parse_query("医保 （DRG")
    assert caught.value.position == 4
    assert caught.value.detail.split("\n")[0] == "  医保 （DRG"


@pytest.mark.parametrize(
    "text",
    [
        '电子病历 "互联网医院" (医保 | DRG) -广告 source:nhc type:政策文件 month:2024-07',
        'a | b c -(d | e) after:2024-07-01 before:2024-08-01 docno:"国办发（2019）4号"',
        'issuer:"国家 医保局" region:广东 topic:G',
    ],
)
def test_query_text_parses_back_to_the_same_tree(text):
    tree = parse_query(text)
    assert parse_query(query_text(tree)) == tree


def test_typed_terms_are_split_before_synonyms():
    table = {
        "ai": ("AI", "人工智能"),
        "人工智能": ("AI", "人工智能"),
        "生成式ai": ("生成式AI", "AIGC"),
        "aigc": ("生成式AI", "AIGC"),
    }
    ai = Or((Term("AI"), Term("人工智能")))
    assert expand_terms(parse_query("医疗AI监管"), table) == And((Term("医疗"), ai, Term("监管")))
    assert expand_terms(parse_query("医疗AI 医疗"), table) == And((Term("医疗"), ai))
    # a whole synonym that splits finds its group and whatever its parts find
    assert expand_terms(parse_query("生成式AI"), table) == Or(
        (Term("生成式AI"), Term("AIGC"), And((Term("生成式"), ai)))
    )
    assert expand_terms(parse_query('"医疗AI"'), table) == Term("医疗AI", phrase=True)
    assert expand_terms(parse_query("-医疗AI"), table) == Not(And((Term("医疗"), ai)))
    assert typed_conjuncts("医疗AI，监管 -广告 source:nhc") == [
        Term("医疗"),
        Term("AI"),
        Term("监管"),
        Not(Term("广告")),
        Field("source", "nhc"),
    ]
    assert typed_conjuncts("") == []


def test_prepared_queries_split_typed_terms():
    assert prepare_query("医保DRG") == prepare_query("医保 DRG")
    assert prepare_query("ＡＩ，２０２４") == And(
        (Or((Term("AI"), Term("人工智能"))), Term("２０２４"))  # synonyms on the normal form
    )
