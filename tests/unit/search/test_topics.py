"""Topic codes and names from the taxonomy file, and `topic:` values resolved to codes."""

import pytest

from hitwatch.errors import QueryError
from hitwatch.search.prepare import prepare_query, resolve_topics
from hitwatch.search.query import And, Field, Or, Term, parse_query
from hitwatch.topics import topic_codes, topic_names

NAMES = {
    "A": "医疗大模型与生成式AI",
    "B": "医学影像AI与辅助诊断",
    "F": '互联网医疗与"互联网+医疗健康"',
}


def test_names_come_from_the_taxonomy_file():
    names = topic_names()
    assert len(names) >= 10
    assert all(code.isupper() and name for code, name in names.items())


@pytest.mark.parametrize(
    ("value", "codes"),
    [
        ("A", ("A",)),
        ("a", ("A",)),
        ("医疗大模型与生成式AI", ("A",)),
        ("医疗大模型与生成式ai", ("A",)),  # normalised like every match
        ("互联网医疗与互联网+医疗健康", ("F",)),  # the quotes cannot be typed in a value
        ("影像", ("B",)),
        ("AI", ("A", "B")),
        ("区块链", ()),
    ],
)
def test_topic_codes(value, codes):
    assert topic_codes(value, NAMES) == codes


def test_resolve_topics_rewrites_fields_only():
    tree = parse_query("大模型 topic:AI -topic:影像")
    assert resolve_topics(tree, NAMES) == And(
        (
            Term("大模型"),
            Or((Field("topic", "A"), Field("topic", "B"))),
            resolve_topics(parse_query("-topic:B"), NAMES),
        )
    )


def test_prepare_query_refuses_an_unknown_topic():
    with pytest.raises(QueryError) as caught:
        prepare_query("topic:区块链金融")
    assert caught.value.code == "unknown_topic"
