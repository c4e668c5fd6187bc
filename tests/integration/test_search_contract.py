"""The contract every `SearchIndex` implementation keeps: one suite, three backends.

memory (the reference), SQLite FTS5 in a temporary file, and Elasticsearch at
TEST_ELASTICSEARCH_URL under a `test-...` alias that is dropped afterwards. Chinese
matching is checked against a substring oracle computed here, never against lists
written by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hitwatch.search import SearchDocument, SearchIndex, SearchRequest
from hitwatch.search.fts5 import Fts5Index
from hitwatch.search.memory import InMemoryIndex
from hitwatch.text import normalize

BACKENDS = ["memory", "fts5", "elasticsearch"]


@pytest.fixture(params=BACKENDS)
def index(
    request: pytest.FixtureRequest, tmp_path: Path, unique_name: str
) -> Iterator[SearchIndex]:
    backend: SearchIndex
    if request.param == "memory":
        backend = InMemoryIndex()
    elif request.param == "fts5":
        backend = Fts5Index(tmp_path / "search.db")
    else:
        from hitwatch.search.elastic import ElasticsearchIndex

        url = request.getfixturevalue("elasticsearch_url")
        backend = ElasticsearchIndex([url], unique_name)
    backend.ensure()
    try:
        yield backend
    finally:
        backend.drop()
        backend.close()


def doc(doc_id: str, title: str = "", body: str = "", **fields: object) -> SearchDocument:
    values: dict[str, object] = {
        "story_id": f"s-{doc_id}",
        "url": f"https://example.cn/{doc_id}.html",
        "source_id": "nhc",
        "source_name": "国家卫生健康委员会",
    }
    values.update(fields)
    return SearchDocument(doc_id=doc_id, title=title, body=body, **values)  # type: ignore[arg-type]


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
