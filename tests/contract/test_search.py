"""The contract every `SearchIndex` implementation keeps: one suite, three backends.

memory (the reference), SQLite FTS5 in a temporary file, and Elasticsearch at
TEST_ELASTICSEARCH_URL under a `test-...` alias that is dropped afterwards (behind the
`requires_elasticsearch` marker). Chinese matching, and the evaluation of parsed query
trees, is checked against oracles computed here, never against lists written by hand.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hitwatch.search import SearchDocument, SearchIndex, SearchRequest
from hitwatch.search.query import And, DateRange, Field, Node, Not, Or, Term, parse_query
from hitwatch.search.terms import SHANGHAI
from hitwatch.text import normalize
from tests.factories import search_document


@pytest.fixture
def index(search_index: SearchIndex) -> SearchIndex:
    """Every backend of `tests/contract/conftest.py` (Elasticsearch behind its marker)."""
    return search_index


def doc(doc_id: str, title: str = "", body: str = "", **fields: object) -> SearchDocument:
    return search_document(doc_id, title=title, body=body, **fields)


def load(index: SearchIndex, *documents: SearchDocument) -> None:
    index.index(documents)
    index.refresh()


def ids(index: SearchIndex, request: SearchRequest) -> list[str]:
    return [hit.doc_id for hit in index.search(request).hits]


def found(index: SearchIndex, text: str, **options: object) -> set[str]:
    request = SearchRequest(text=text, limit=1000, **options)  # type: ignore[arg-type]
    page = index.search(request)
    assert page.total == len(page.hits) == index.count(request)
    return {hit.doc_id for hit in page.hits}


def found_query(index: SearchIndex, query: str) -> set[str]:
    return {hit.doc_id for hit in index.search(SearchRequest(query=parse_query(query))).hits}


def day(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


# --- writes -------------------------------------------------------------------------


def test_index_search_count_delete(index: SearchIndex) -> None:
    load(
        index,
        doc("a", "国家医保局发布通知", "推进医保信息化建设"),
        doc("b", "卫健委召开会议", "部署电子病历评级"),
        doc("c", "医院信息化", "互联网医院建设"),
    )
    assert found(index, "医保") == {"a"}
    assert index.count(SearchRequest()) == 3
    index.delete("a")
    index.delete("no-such-document")
    index.refresh()
    assert found(index, "医保") == set()
    assert index.count(SearchRequest()) == 2


def test_same_id_twice_is_one_document(index: SearchIndex) -> None:
    load(index, doc("a", "旧标题：远程医疗", "正文"))
    load(index, doc("a", "新标题：智慧医院", "正文"))
    load(index, doc("b", "other"), doc("b", "另一篇：远程医疗"))
    assert index.count(SearchRequest()) == 2
    assert found(index, "远程医疗") == {"b"}
    assert found(index, "智慧医院") == {"a"}


def test_documents_come_back_whole(index: SearchIndex) -> None:
    original = doc(
        "a",
        "关于推进“互联网+医疗健康”的通知",
        "第一段。\n\n第二段，含 <b> 与 & 符号。",
        published_at=datetime(2024, 7, 1, 9, 30, tzinfo=timezone(timedelta(hours=8))),
        doc_type="政策文件",
        topics=("G", "H"),
        region="北京",
        relevant=False,
    )
    load(index, original)
    (hit,) = index.search(SearchRequest(text="互联网")).hits
    assert hit.document == replace(original, published_at=day("2024-07-01T01:30:00"))
    assert hit.document.published_at is not None
    assert hit.document.published_at.utcoffset() == timedelta(0)


def test_drop_removes_everything(index: SearchIndex) -> None:
    load(index, doc("a", "医保"))
    index.drop()
    index.ensure()
    index.ensure()  # safe to call again
    assert index.count(SearchRequest()) == 0


# --- filters, sorting, paging ---------------------------------------------------------


def test_source_filter(index: SearchIndex) -> None:
    load(
        index,
        doc("a", "医保", source_id="nhc"),
        doc("b", "医保", source_id="nhsa"),
        doc("c", "医保", source_id="bjnews"),
    )
    assert found(index, "医保", source_ids=("nhsa", "bjnews")) == {"b", "c"}
    assert found(index, "", source_ids=("nhc",)) == {"a"}


def test_date_range_includes_start_excludes_end(index: SearchIndex) -> None:
    load(
        index,
        doc("before", "医保", published_at=day("2024-06-30T23:59:59")),
        doc("start", "医保", published_at=day("2024-07-01T00:00:00")),
        # the same instant as the start, written in Beijing time
        doc(
            "start-cst",
            "医保",
            published_at=datetime(2024, 7, 1, 8, tzinfo=timezone(timedelta(hours=8))),
        ),
        doc("last", "医保", published_at=day("2024-07-10T23:59:59")),
        doc("end", "医保", published_at=day("2024-07-11T00:00:00")),
        doc("undated", "医保"),
    )
    window = {"published_from": day("2024-07-01"), "published_before": day("2024-07-11")}
    assert found(index, "医保", **window) == {"start", "start-cst", "last"}
    assert found(index, "", published_from=day("2024-07-10")) == {"last", "end"}
    assert found(index, "", published_before=day("2024-07-01")) == {"before"}


def test_relevant_only(index: SearchIndex) -> None:
    load(index, doc("a", "医保", relevant=True), doc("b", "医保", relevant=False))
    assert found(index, "医保", relevant_only=True) == {"a"}
    assert found(index, "医保") == {"a", "b"}


def test_sort_by_date_newest_first_undated_last(index: SearchIndex) -> None:
    load(
        index,
        doc("old", "医保", published_at=day("2023-01-01")),
        doc("undated", "医保 医保 医保"),
        doc("new", "医保", published_at=day("2024-07-01")),
        doc("mid", "医保", published_at=day("2024-01-01")),
    )
    for text in ("医保", ""):
        assert ids(index, SearchRequest(text=text, sort="date")) == ["new", "mid", "old", "undated"]


def test_relevance_prefers_title_matches(index: SearchIndex) -> None:
    filler = "各地推进卫生信息化建设，完善数据标准。" * 5
    load(
        index,
        doc("body", "卫生信息化工作要点", filler + "电子病历" + filler),
        doc("title", "电子病历应用水平分级评价", filler),
    )
    page = index.search(SearchRequest(text="电子病历"))
    assert [hit.doc_id for hit in page.hits] == ["title", "body"]
    assert page.hits[0].score > page.hits[1].score


def test_pages_cover_every_match_once(index: SearchIndex) -> None:
    load(
        index,
        *(
            doc(f"d{n:02}", f"医保第{n}号", published_at=day("2024-07-01") + timedelta(hours=n))
            for n in range(25)
        ),
        doc("other", "卫健委"),
    )
    seen: list[str] = []
    for offset in (0, 10, 20, 30):
        page = index.search(SearchRequest(text="医保", sort="date", offset=offset, limit=10))
        assert page.total == 25
        seen += [hit.doc_id for hit in page.hits]
    assert seen == [f"d{n:02}" for n in reversed(range(25))]


def test_empty_and_punctuation_queries_match_everything(index: SearchIndex) -> None:
    load(index, doc("a", "医保"), doc("b", "卫健委"))
    assert found(index, "") == {"a", "b"}
    assert found(index, "  ——  ") == {"a", "b"}
    assert found(index, "医保 +") == {"a"}


# --- Chinese exactness ----------------------------------------------------------------

CORPUS = {
    "nhsa": ("国家医保局：推进DRG付费改革", "医保信息平台已在全国上线。"),
    "security": ("完善医疗保障制度", "各地医疗保障部门推进信息化，保障群众权益。"),
    "fullwidth": ("ＤＲＧ付费三年行动计划", "按病组（ＤＲＧ）付费，ＭｅｄＧＰＴ辅助编码。"),
    "drg-apart": ("DRG与DIP支付方式改革", "DRG分组方案公布，按病种付费在各地推开。"),
    "emr": ("医院上线电子病历系统", "电子病历应用水平分级评价标准发布。"),
    "record-only": ("病历质控", "规范病历书写，推广电子签名。"),
    "emr-split": ("电子 病历", "电子、病历两词分开出现。"),
    "nhc-short": ("省卫健委印发通知", "卫健委要求加快全民健康信息平台建设。"),
    "nhc-long": ("卫生健康委员会印发通知", "卫健，委员会另行通知。"),
    "5g": ("5G+医疗健康应用试点项目", "第二批5G+医疗健康试点名单公布。"),
    "5g-apart": ("5G网络建设", "推进5G基站覆盖。" + "会议强调。" * 10 + "提升医疗健康服务水平。"),
    "medgpt": ("MedGPT大模型发布", "医疗大模型MedGPT进入临床试用。"),
    "med-gpt": ("Med GPT 讨论", "有人把它写作 Med GPT。"),
    "medgpt4": ("medgpt4 评测", "对比多个医疗大模型。"),
}
QUERIES = [
    "医保",
    "卫健委",
    "电子病历",
    "DRG付费",
    "5G+医疗健康",
    "MedGPT",
    "病历",
    "医",
    "付费 DRG",
]


def substring_oracle(documents: dict[str, tuple[str, str]], text: str) -> set[str]:
    """Documents whose normalised title or body contains every term as a substring."""
    terms = [normalize(term) for term in text.split()]
    return {
        doc_id
        for doc_id, fields in documents.items()
        if all(any(term in normalize(field) for field in fields) for term in terms)
    }


@pytest.mark.parametrize("text", QUERIES)
def test_chinese_terms_match_exactly_as_substrings(index: SearchIndex, text: str) -> None:
    load(index, *(doc(doc_id, title, body) for doc_id, (title, body) in CORPUS.items()))
    expected = substring_oracle(CORPUS, text)
    assert expected, f"the corpus should contain {text!r} somewhere"
    assert found(index, text) == expected


def test_corpus_has_the_tricky_negatives() -> None:
    # Guard the corpus itself: each trap must stay a near miss.
    assert substring_oracle(CORPUS, "医疗保障") - substring_oracle(CORPUS, "医保")
    assert substring_oracle(CORPUS, "病历") - substring_oracle(CORPUS, "电子病历")
    assert substring_oracle(CORPUS, "drg") - substring_oracle(CORPUS, "drg付费")
    assert substring_oracle(CORPUS, "5g 医疗健康") - substring_oracle(CORPUS, "5g+医疗健康")
    assert substring_oracle(CORPUS, "卫健") - substring_oracle(CORPUS, "卫健委")


def test_punctuation_inside_a_term_separates_tokens(index: SearchIndex) -> None:
    # By design a term is its token runs: the + in 5G+医疗健康 is a separator like a space.
    load(index, doc("plus", "5G+医疗健康"), doc("space", "5G 医疗健康"), doc("none", "5G医疗健康"))
    assert found(index, "5G+医疗健康") == {"plus", "space", "none"}
    assert found(index, "5G医疗健康") == {"plus", "space", "none"}


def test_latin_words_match_whole(index: SearchIndex) -> None:
    load(index, doc("a", "MedGPT"), doc("b", "GPT-4"), doc("c", "ChatGPT"))
    assert found(index, "gpt") == {"b"}
    assert found(index, "GPT4") == {"b"}


# --- every backend equals the substring oracle ------------------------------------------

CHARS = "医保局电子病历"
WORDS = ["drg", "his", "ai", "medgpt", "5g"]  # none inside another: words match whole
SEPARATORS = (" ", "，")
piece = st.one_of(st.sampled_from(CHARS), st.sampled_from(WORDS))


def render(pieces: list[str]) -> str:
    """Join pieces into text whose token matches are exactly its substring matches.

    A separator is kept only between two Chinese characters (next to a word it would be
    ignored by the tokeniser but not by substring search); adjacent words get a space so
    they stay two words.
    """
    out: list[str] = []
    for position, part in enumerate(pieces):
        if part in SEPARATORS:
            before, after = pieces[position - 1 : position], pieces[position + 1 : position + 2]
            if before and after and before[0] in CHARS and after[0] in CHARS:
                out.append(part)
            continue
        if out and part not in CHARS and out[-1] not in CHARS and out[-1] not in SEPARATORS:
            out.append(" ")
        out.append(part)
    return "".join(out)


text_strategy = st.lists(st.one_of(piece, st.sampled_from(SEPARATORS)), max_size=12).map(render)
term_strategy = st.lists(piece, min_size=1, max_size=3).map(render)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    texts=st.lists(st.tuples(text_strategy, text_strategy), min_size=1, max_size=6),
    queries=st.lists(st.lists(term_strategy, min_size=1, max_size=2), min_size=1, max_size=4),
)
def test_every_backend_equals_the_substring_oracle(
    index: SearchIndex, texts: list[tuple[str, str]], queries: list[list[str]]
) -> None:
    documents = {f"h{n}": fields for n, fields in enumerate(texts)}
    load(index, *(doc(doc_id, title, body) for doc_id, (title, body) in documents.items()))
    try:
        for terms in queries:
            text = " ".join(terms)
            assert found(index, text) == substring_oracle(documents, text), text
    finally:
        for doc_id in documents:
            index.delete(doc_id)
        index.refresh()


# --- the query language: parsed trees ---------------------------------------------------


def hits(index: SearchIndex, query: str, **options: object) -> set[str]:
    request = SearchRequest(query=parse_query(query), limit=1000, **options)  # type: ignore[arg-type]
    page = index.search(request)
    assert page.total == len(page.hits) == index.count(request)
    return {hit.doc_id for hit in page.hits}


POLICY_DOCS = (
    doc(
        "circular",
        "国务院办公厅关于推进电子病历的通知",
        "各地推进互联网医院和医保信息化。",
        source_id="gov",
        source_name="中国政府网",
        doc_type="政策文件",
        topics=("G", "C"),
        region="全国",
        issuer="国务院办公厅",
        doc_number="国办发〔2019〕4号",
        published_at=datetime(2024, 7, 1, 0, 30, tzinfo=SHANGHAI),
    ),
    doc(
        "notice",
        "卫健委：DRG付费试点",
        "医保部门推进 DRG 付费，并发布广告。",
        source_id="nhc",
        doc_type="政策解读",
        topics=("G",),
        region="北京",
        issuer="国家卫生健康委员会办公厅",
        doc_number="国卫办规划函［2024］12号",
        published_at=datetime(2024, 7, 31, 23, 59, tzinfo=SHANGHAI),
    ),
    doc(
        "news",
        "互联网 医院建设观察",
        "电子病历广告",
        source_id="bjnews",
        source_name="新京报",
        doc_type="新闻报道",
        region="北京",
        published_at=datetime(2024, 8, 1, 0, 0, tzinfo=SHANGHAI),
    ),
    doc("undated", "医保信息平台", "无日期的页面", source_id="blog", source_name="某博客"),
)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("电子病历", {"circular", "news"}),
        ("电子病历 -广告", {"circular"}),
        ("NOT 广告", {"circular", "undated"}),
        ("-广告 -医保", set()),
        ("医保 | DRG", {"circular", "notice", "undated"}),
        ("(医保 OR 电子病历) AND NOT DRG", {"circular", "news", "undated"}),
        ('"互联网医院"', {"circular"}),
        ('"互联网 医院"', {"news"}),
        ("互联网医院", {"circular"}),
        ("source:nhc", {"notice"}),
        ("source:中国政府网", {"circular"}),
        ("source:中国", set()),
        ("type:政策文件 | type:政策解读", {"circular", "notice"}),
        ("topic:G -topic:C", {"notice"}),
        ("region:北京 电子病历", {"news"}),
        ("issuer:办公厅", {"circular", "notice"}),
        ("issuer:卫生健康", {"notice"}),
        ("docno:国办发[2019]4号", {"circular"}),
        ("docno:国办发（2019）4号", {"circular"}),
        ("docno:国卫办规划函〔2024〕12号", {"notice"}),
        ("docno:国办发", set()),
        ("month:2024-07", {"circular", "notice"}),
        ("after:2024-07-01 before:2024-08-01", {"circular", "notice"}),
        ("after:2024-08-01", {"news"}),
        ("before:2024-07-01", set()),
        ("-month:2024-07", {"news", "undated"}),
        (
            '电子病历 "互联网医院" (医保 | DRG) -广告 source:gov type:政策文件 month:2024-07',
            {"circular"},
        ),
    ],
)
def test_query_trees(index: SearchIndex, query: str, expected: set[str]) -> None:
    load(index, *POLICY_DOCS)
    assert hits(index, query) == expected


@pytest.mark.parametrize("sort", ["relevance", "date"])
def test_collapse_gives_one_hit_per_story_across_pages(index: SearchIndex, sort: str) -> None:
    day = datetime(2024, 7, 1, tzinfo=SHANGHAI)
    load(
        index,
        doc("a1", "医保医保医保", "正文", story_id="A", published_at=day),
        doc("a2", "医保", "正文", story_id="A", published_at=day + timedelta(days=3)),
        doc("a3", "医保", "正文", story_id="A", published_at=day + timedelta(days=1)),
        doc("b1", "医保医保", "正文", story_id="B", published_at=day + timedelta(days=2)),
        doc("c1", "医保", "正文", story_id="C"),
        doc("c2", "信息化", "正文", story_id="C"),
        doc("d1", "新闻", "医保", story_id="D", published_at=day),
    )
    request = SearchRequest(query=parse_query("医保"), collapse=True, sort=sort, limit=2)  # type: ignore[arg-type]
    pages = [index.search(replace(request, offset=offset)) for offset in (0, 2, 4)]
    assert [page.total for page in pages] == [4, 4, 4]
    assert all(page.total_exact for page in pages)
    order = [hit.doc_id for page in pages for hit in page.hits]
    if sort == "date":  # each story placed by its newest matching copy; undated last
        assert order == ["a2", "b1", "d1", "c1"]
    else:  # each story by its best copy (a1 has the most title matches of story A)
        assert sorted(order) == ["a1", "b1", "c1", "d1"]
    flat = index.search(replace(request, collapse=False, limit=100))
    assert flat.total == index.count(request) == 6  # count and facets ignore collapsing
    assert index.facets(request, ("source_name",)) == {"source_name": [("国家卫生健康委员会", 6)]}


@pytest.mark.parametrize("sort", ["relevance", "date"])
def test_collapse_reaches_stories_behind_many_copies_of_one(index: SearchIndex, sort: str) -> None:
    # More best-placed copies of one story than a backend may fetch before collapsing.
    start = datetime(2024, 7, 1, tzinfo=SHANGHAI)
    copies = [
        doc(
            f"a{n:02}", "医保医保医保", "正文", story_id="A", published_at=start + timedelta(days=9)
        )
        for n in range(60)
    ]
    others = [
        doc("b", "医保", "正文", story_id="B", published_at=start + timedelta(days=2)),
        doc("c", "医保", "正文", story_id="C", published_at=start + timedelta(days=1)),
        doc("d", "医保", "正文", story_id="D", published_at=start),
    ]
    load(index, *copies, *others)
    request = SearchRequest(query=parse_query("医保"), collapse=True, sort=sort, limit=2)  # type: ignore[arg-type]
    pages = [index.search(replace(request, offset=offset)) for offset in (0, 2)]
    assert [(page.total, page.total_exact) for page in pages] == [(4, True), (4, True)]
    order = [hit.doc_id for page in pages for hit in page.hits]
    assert order[0].startswith("a") and len(order) == 4
    if sort == "date":
        assert order[1:] == ["b", "c", "d"]
    else:
        assert sorted(order[1:]) == ["b", "c", "d"]


def test_region_is_a_prefix(index: SearchIndex) -> None:
    load(
        index,
        doc("shenzhen", "深圳医保", "正文", region="广东省深圳市"),
        doc("guangzhou", "广州医保", "正文", region="广东省广州市"),
        doc("beijing", "北京医保", "正文", region="北京市"),
        doc("nowhere", "医保", "正文"),
    )
    assert hits(index, "region:广东") == {"shenzhen", "guangzhou"}
    assert hits(index, "region:广东省深圳") == {"shenzhen"}
    assert hits(index, "region:广东省深圳市") == {"shenzhen"}
    assert hits(index, "region:北京") == {"beijing"}
    assert hits(index, "医保 -region:广东") == {"beijing", "nowhere"}
    assert hits(index, "region:深圳") == {"shenzhen"}  # the city part's start
    assert hits(index, "region:深圳市") == {"shenzhen"}
    assert hits(index, "region:东省") == set()  # a start, not any substring
    assert hits(index, "region:京市") == set()


def test_query_replaces_text_and_keeps_the_filters(index: SearchIndex) -> None:
    load(index, *POLICY_DOCS)
    query = parse_query("电子病历 | 信息平台")
    assert found(index, "DRG", query=query) == {"circular", "news", "undated"}
    assert hits(index, "医保 | 电子病历", source_ids=("nhc", "bjnews")) == {"notice", "news"}
    assert hits(index, "-广告", published_from=day("2024-06-01")) == {"circular"}


def test_query_ranks_by_positive_terms_only(index: SearchIndex) -> None:
    load(index, *POLICY_DOCS)
    page = index.search(SearchRequest(query=parse_query("电子病历 -DRG")))
    assert [hit.doc_id for hit in page.hits] == ["circular", "news"]  # title match first
    by_date = index.search(SearchRequest(query=parse_query("-DRG"), sort="date"))
    assert [hit.doc_id for hit in by_date.hits] == ["news", "circular", "undated"]


def test_policy_fields_come_back(index: SearchIndex) -> None:
    load(index, *POLICY_DOCS)
    (hit,) = index.search(SearchRequest(query=parse_query("docno:国办发〔2019〕4号"))).hits
    assert (hit.document.issuer, hit.document.doc_number) == ("国务院办公厅", "国办发〔2019〕4号")


def test_status_filters_policies_and_comes_back(index: SearchIndex) -> None:
    load(
        index,
        doc("old", "电子病历管理办法", doc_type="政策文件", status="已废止"),
        doc("new", "电子病历管理规定", doc_type="政策文件", status="现行有效"),
        doc("news", "电子病历新规解读"),
    )
    assert found_query(index, "电子病历 status:现行有效") == {"new"}
    assert found_query(index, "status:已废止") == {"old"}
    assert found_query(index, "电子病历 -status:现行有效") == {"old", "news"}
    (hit,) = index.search(SearchRequest(query=parse_query("status:已废止"))).hits
    assert hit.document.status == "已废止"


def test_links_to_policies_filter_and_come_back(index: SearchIndex) -> None:
    load(
        index,
        doc("gd", "广东实施方案", links=("cites:nat", "implements:nat")),
        doc("jd", "意见解读", links=("cites:nat", "interprets:nat")),
        doc("news", "意见印发", links=("cites:nat",)),
        doc("other", "其他新闻"),
    )
    assert found_query(index, "implements:nat") == {"gd"}
    assert found_query(index, "interprets:nat") == {"jd"}
    assert found_query(index, "cites:nat") == {"gd", "jd", "news"}
    assert found_query(index, "cites:nat -implements:nat") == {"jd", "news"}
    (hit,) = index.search(SearchRequest(query=parse_query("implements:nat"))).hits
    assert hit.document.links == ("cites:nat", "implements:nat")


# --- facets ---------------------------------------------------------------------------


def test_facets_count_every_match(index: SearchIndex) -> None:
    load(index, *POLICY_DOCS)
    facets = index.facets(SearchRequest())
    assert facets == {
        "source_name": sorted(
            [("中国政府网", 1), ("国家卫生健康委员会", 1), ("新京报", 1), ("某博客", 1)]
        ),
        "doc_type": sorted([("政策文件", 1), ("政策解读", 1), ("新闻报道", 1)]),
        "topics": [("G", 2), ("C", 1)],
        "region": [("北京", 2), ("全国", 1)],
        # 2024-07-01 00:30 in Beijing is still June in UTC; months are China's
        "month": [("2024-08", 1), ("2024-07", 2)],
    }


def test_facets_follow_the_query_and_filters(index: SearchIndex) -> None:
    load(index, *POLICY_DOCS)
    request = SearchRequest(query=parse_query("-广告"), offset=5, limit=1)
    assert index.facets(request, ("topics", "month")) == {
        "topics": [("C", 1), ("G", 1)],
        "month": [("2024-07", 1)],
    }
    assert index.facets(SearchRequest(query=parse_query("region:北京")), ("region",)) == {
        "region": [("北京", 2)]
    }
    assert index.facets(SearchRequest(text="不存在的词"), ("source_name",)) == {"source_name": []}
    assert index.facets(SearchRequest(source_ids=("nhc",)), ("doc_type",)) == {
        "doc_type": [("政策解读", 1)]
    }


def test_facets_keep_the_most_frequent(index: SearchIndex) -> None:
    load(index, *POLICY_DOCS)
    assert index.facets(SearchRequest(), ("region", "month"), size=1) == {
        "region": [("北京", 2)],
        "month": [("2024-08", 1)],
    }
    assert index.facets(SearchRequest(), ()) == {}


# --- random trees: every backend equals an oracle written here ---------------------------

SOURCES = [("nhc", "国家卫健委"), ("nhsa", "国家医保局"), ("gov", "中国政府网")]
TYPES = ["政策文件", "新闻报道", ""]
REGIONS = ["北京", "北京市", "广东省深圳市", "广东省广州市", "上海", ""]
ISSUERS = ["国务院办公厅", "国家医疗保障局", "国家卫生健康委员会办公厅", ""]
DOCNOS = ["国办发〔2019〕4号", "医保发〔2024〕1号", ""]
DOCNO_QUERIES = ["国办发[2019]4号", "国办发（2019）4号", "医保发〔2024〕1号", "医保发"]
STATUSES = ["现行有效", "已修订", "已废止", ""]
LINKS = [(), ("cites:p1",), ("cites:p1", "implements:p1"), ("cites:p2", "interprets:p2")]
MOMENTS = [
    None,
    datetime(2024, 6, 30, 23, 59, tzinfo=SHANGHAI),
    datetime(2024, 7, 1, 0, 0, tzinfo=SHANGHAI),
    datetime(2024, 7, 15, 12, 0, tzinfo=SHANGHAI),
    datetime(2024, 8, 1, 0, 0, tzinfo=SHANGHAI),
]
DAYS = [date(2024, 7, 1), date(2024, 7, 15), date(2024, 8, 1)]

document_strategy = st.builds(
    lambda title, body, source, doc_type, topics, region, issuer, docno, moment, status, links: {
        "title": title,
        "body": body,
        "source_id": source[0],
        "source_name": source[1],
        "doc_type": doc_type,
        "topics": tuple(sorted(topics)),
        "region": region,
        "issuer": issuer,
        "doc_number": docno,
        "published_at": moment,
        "status": status,
        "links": links,
    },
    text_strategy,
    text_strategy,
    st.sampled_from(SOURCES),
    st.sampled_from(TYPES),
    st.sets(st.sampled_from("GHC"), max_size=2),
    st.sampled_from(REGIONS),
    st.sampled_from(ISSUERS),
    st.sampled_from(DOCNOS),
    st.sampled_from(MOMENTS),
    st.sampled_from(STATUSES),
    st.sampled_from(LINKS),
)

field_strategy = st.one_of(
    st.builds(Field, st.just("source"), st.sampled_from(["nhc", "nhsa", "国家医保局", "国家"])),
    st.builds(Field, st.just("type"), st.sampled_from(["政策文件", "新闻报道"])),
    st.builds(Field, st.just("topic"), st.sampled_from("GHC")),
    st.builds(
        Field,
        st.just("region"),
        st.sampled_from(["北京", "北京市", "广东", "广东省深圳市", "上海"]),
    ),
    st.builds(Field, st.just("issuer"), st.sampled_from(["办公厅", "国务院", "医疗保障", "卫生"])),
    st.builds(Field, st.just("docno"), st.sampled_from(DOCNO_QUERIES)),
    st.builds(Field, st.just("status"), st.sampled_from(["现行有效", "已废止"])),
    st.builds(
        Field, st.sampled_from(["implements", "interprets", "cites"]), st.sampled_from(["p1", "p2"])
    ),
)
date_strategy = st.builds(
    DateRange, st.none() | st.sampled_from(DAYS), st.none() | st.sampled_from(DAYS)
).filter(lambda node: node.start is not None or node.end is not None)
leaf_strategy = st.one_of(
    st.builds(Term, term_strategy),
    st.builds(Term, term_strategy, st.just(True)),
    field_strategy,
    date_strategy,
)
tree_strategy = st.recursive(
    leaf_strategy,
    lambda children: st.one_of(
        st.builds(Not, children),
        st.lists(children, min_size=2, max_size=3).map(lambda nodes: And(tuple(nodes))),
        st.lists(children, min_size=2, max_size=3).map(lambda nodes: Or(tuple(nodes))),
    ),
    max_leaves=6,
)


def _bracketed(value: str) -> str:
    for left in "[［(（":
        value = value.replace(left, "〔")
    for right in "]］)）":
        value = value.replace(right, "〕")
    return value


def tree_oracle(node: Node, document: dict[str, Any]) -> bool:
    """Whether a document matches, by substring search and plain comparisons."""
    if isinstance(node, Term):
        text = normalize(node.text)
        return any(text in normalize(document[name]) for name in ("title", "body"))
    if isinstance(node, And):
        return all(tree_oracle(child, document) for child in node.children)
    if isinstance(node, Or):
        return any(tree_oracle(child, document) for child in node.children)
    if isinstance(node, Not):
        return not tree_oracle(node.child, document)
    if isinstance(node, DateRange):
        moment = document["published_at"]
        if moment is None:
            return False
        day_ = moment.astimezone(SHANGHAI).date()
        return (node.start is None or day_ >= node.start) and (node.end is None or day_ < node.end)
    assert isinstance(node, Field)
    if node.name == "source":
        return node.value in (document["source_id"], document["source_name"])
    if node.name == "topic":
        return node.value in document["topics"]
    if node.name == "issuer":
        return node.value in document["issuer"]
    if node.name == "docno":
        return document["doc_number"] != "" and _bracketed(node.value) == document["doc_number"]
    if node.name == "region":
        return bool(document["region"].startswith(node.value))  # a prefix: 广东 -> 广东省深圳市
    if node.name == "status":
        return bool(document["status"] == node.value)
    if node.name in ("implements", "interprets", "cites"):
        return f"{node.name}:{node.value}" in document["links"]
    return bool(document["doc_type"] == node.value)


def facet_oracle(documents: list[dict[str, Any]]) -> dict[str, list[tuple[str, int]]]:
    """Facet counts by plain counting: months in China, most frequent first, ties by name."""
    counters: dict[str, Counter[str]] = {
        "source_name": Counter(document["source_name"] for document in documents),
        "doc_type": Counter(document["doc_type"] for document in documents),
        "topics": Counter(topic for document in documents for topic in document["topics"]),
        "region": Counter(document["region"] for document in documents),
    }
    result = {
        name: sorted(
            ((value, n) for value, n in counter.items() if value), key=lambda p: (-p[1], p[0])
        )
        for name, counter in counters.items()
    }
    months = Counter(
        document["published_at"].astimezone(SHANGHAI).strftime("%Y-%m")
        for document in documents
        if document["published_at"] is not None
    )
    result["month"] = sorted(months.items(), reverse=True)
    return result


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    documents=st.lists(document_strategy, min_size=1, max_size=6),
    trees=st.lists(tree_strategy, min_size=1, max_size=4),
)
def test_every_backend_evaluates_trees_like_the_oracle(
    index: SearchIndex, documents: list[dict[str, Any]], trees: list[Node]
) -> None:
    by_id = {f"t{n}": fields for n, fields in enumerate(documents)}
    load(index, *(doc(doc_id, **fields) for doc_id, fields in by_id.items()))
    try:
        for tree in trees:
            expected = {doc_id for doc_id, fields in by_id.items() if tree_oracle(tree, fields)}
            request = SearchRequest(query=tree, limit=1000)
            page = index.search(request)
            assert {hit.doc_id for hit in page.hits} == expected, tree
            assert page.total == index.count(request) == len(expected), tree
            matching = [by_id[doc_id] for doc_id in expected]
            assert index.facets(request, size=100) == facet_oracle(matching), tree
    finally:
        for doc_id in by_id:
            index.delete(doc_id)
        index.refresh()
