"""The alert matcher means exactly what the in-memory search matcher means, only faster."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hitwatch.errors import QueryError
from hitwatch.search.base import SearchDocument
from hitwatch.search.matching import CompiledRule, RuleMatcher, anchors, compile_rule
from hitwatch.search.memory import evaluate, tokenize_document
from hitwatch.search.query import parse_query
from hitwatch.text import query_tokens
from tests.contract.test_search import document_strategy, tree_strategy


def document(title: str, body: str = "", **fields) -> SearchDocument:
    values = {
        "doc_id": "d1",
        "story_id": "s1",
        "url": "https://example.org/1",
        "title": title,
        "body": body,
        "source_id": "nhc",
        "source_name": "国家卫健委",
        "published_at": datetime(2024, 7, 3, tzinfo=UTC),
        **fields,
    }
    return SearchDocument(**values)


def rule(rule_id: int, text: str, include_offtopic: bool = False) -> CompiledRule:
    return compile_rule(rule_id, text, include_offtopic=include_offtopic)


def test_terms_filters_negation_and_synonyms():
    matcher = RuleMatcher(
        [
            rule(1, "电子病历"),
            rule(2, "医保 -广告"),
            rule(3, "type:政策文件"),
            rule(4, '"互联网医院" source:nhsa'),
            rule(5, "AI"),  # synonyms: 人工智能
            rule(6, "DRG | 病案"),
            rule(7, "医"),  # a lone character is a prefix
            rule(8, "month:2024-08"),
        ]
    )
    doc = document(
        "国家卫健委推进电子病历系统应用水平分级评价",
        "各地医保局配合，推动人工智能辅助病案质控，广告",
        doc_type="政策文件",
    )
    assert matcher.match(doc) == [1, 3, 5, 6, 7]


def test_off_topic_documents_only_for_rules_that_take_them():
    matcher = RuleMatcher([rule(1, "电子病历"), rule(2, "电子病历", include_offtopic=True)])
    assert matcher.match(document("电子病历", relevant=False)) == [2]
    assert matcher.match(document("电子病历")) == [1, 2]


def test_anchors_are_terms_every_match_holds():
    assert anchors(parse_query("电子病历 source:nhc")) == {query_tokens("电子病历")}
    assert anchors(parse_query("医保 | DRG")) == {query_tokens("医保"), query_tokens("drg")}
    assert anchors(parse_query("医保 | type:政策文件")) is None
    assert anchors(parse_query("-广告")) is None
    # an AND keeps its smallest anchor set
    assert anchors(parse_query("(医保 | DRG) 病案")) == {query_tokens("病案")}


def test_topics_by_name_code_or_part_as_in_search():
    matcher = RuleMatcher(
        [
            rule(1, "topic:医疗大模型与生成式AI"),
            rule(2, "topic:a"),
            rule(3, "topic:大模型"),
            rule(4, "topic:医保信息化与支付改革"),
        ]
    )
    assert matcher.match(document("腾讯医疗大模型", topics=("A",))) == [1, 2, 3]
    assert matcher.match(document("医保支付", topics=("G",))) == [4]


def test_unknown_topics_are_refused_as_in_search():
    with pytest.raises(QueryError) as refused:
        compile_rule(1, "topic:区块链金融")
    assert refused.value.code == "unknown_topic"


def test_empty_or_malformed_queries_are_refused():
    with pytest.raises(QueryError):
        compile_rule(1, "")
    with pytest.raises(QueryError):
        compile_rule(1, "(医保")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fields=st.lists(document_strategy, min_size=1, max_size=4),
    trees=st.lists(tree_strategy, min_size=1, max_size=8),
)
def test_matcher_equals_the_in_memory_evaluator(fields, trees):
    matcher = RuleMatcher(CompiledRule(n, tree) for n, tree in enumerate(trees))
    for number, values in enumerate(fields):
        doc = document(**{**values, "doc_id": f"d{number}"})
        tokenized = tokenize_document(doc)
        expected = [n for n, tree in enumerate(trees) if evaluate(tree, tokenized) is not None]
        assert matcher.match(doc) == expected
