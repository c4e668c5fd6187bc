"""Backend details the contract suite cannot see: query translation, errors, concurrency."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from hitwatch.errors import SearchBackendError
from hitwatch.search import SearchDocument, SearchRequest, fts5
from hitwatch.search.elastic import ElasticsearchIndex, build_query, tree_query
from hitwatch.search.fts5 import Fts5Index, fts_expression
from hitwatch.search.query import parse_query


def test_fts5_turns_a_query_into_one_match_expression() -> None:
    text = "{title_tokens body_tokens}"
    query = parse_query('电子病历 (医 | "DRG 付费") -广告')
    assert fts_expression(query) == (
        f'(({text} : "电子 子病 病历") AND ((({text} : "医" *) OR ({text} : "drg 付费")))'
        f' AND ((keys : kall NOT ({text} : "广告"))))'
    )
    region = fts5.document_keys(
        SearchDocument("d", "s", "u", "t", "b", "nhc", "国家卫健委", region="广东省深圳市")
    ).split()
    filters = fts_expression(parse_query("region:广东"))
    assert filters is not None and filters.split(" : ")[1] in region  # a prefix's token
    assert fts_expression(parse_query("issuer:医保局 医保")) is None  # issuer stays SQL


def test_elasticsearch_query_translation() -> None:
    query = build_query(SearchRequest(text="医保局 医", source_ids=("nhc",), relevant_only=True))
    (tree,) = query["bool"]["must"]
    must = tree["bool"]["must"]
    assert must[0]["bool"]["should"][1] == {
        "match_phrase": {"body_tokens": {"query": "医保 保局", "boost": 1.0}}
    }
    assert must[1]["bool"]["should"][0] == {
        "prefix": {"title_tokens": {"value": "医", "boost": 3.0}}
    }
    assert query["bool"]["filter"] == [
        {"terms": {"source_id": ["nhc"]}},
        {"term": {"relevant": True}},
    ]
    assert build_query(SearchRequest(text=" —— "))["bool"]["must"] == [{"match_all": {}}]


def test_elasticsearch_tree_translation() -> None:
    query = parse_query("-广告 issuer:卫健*委 docno:国办发[2019]4号 month:2024-07")
    assert tree_query(query) == {
        "bool": {
            "must": [
                {"bool": {"must_not": [tree_query(parse_query("广告"))]}},
                {"bool": {"filter": [{"wildcard": {"issuer_key": {"value": "*卫健\\*委*"}}}]}},
                {"bool": {"filter": [{"term": {"doc_number_key": "国办发〔2019〕4号"}}]}},
                {
                    "bool": {
                        "filter": [
                            {
                                "range": {
                                    "published_at": {
                                        "gte": "2024-06-30T16:00:00+00:00",
                                        "lt": "2024-07-31T16:00:00+00:00",
                                    }
                                }
                            }
                        ]
                    }
                },
            ]
        }
    }


def test_fts5_ensure_upgrades_an_index_without_the_filter_columns(tmp_path: Path) -> None:
    path = tmp_path / "search.db"
    with sqlite3.connect(path) as old:
        old.execute(
            "CREATE TABLE documents (id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL UNIQUE,"
            " story_id TEXT NOT NULL, url TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL,"
            " source_id TEXT NOT NULL, source_name TEXT NOT NULL, published_at TEXT,"
            " doc_type TEXT NOT NULL, topics TEXT NOT NULL, region TEXT NOT NULL,"
            " relevant INTEGER NOT NULL)"
        )
    old.close()
    index = Fts5Index(path)
    index.ensure()
    index.index([SearchDocument("a", "s", "u", "通知", "", "nhc", "卫健委", issuer="国务院办公厅")])
    (hit,) = index.search(SearchRequest(query=parse_query("issuer:国务院"))).hits
    assert hit.document.issuer == "国务院办公厅"
    index.close()


def test_unreachable_elasticsearch_says_what_to_do() -> None:
    # Nothing listens on port 9 (discard).
    index = ElasticsearchIndex(["http://127.0.0.1:9"], "hitwatch")
    with pytest.raises(SearchBackendError) as error:
        index.search(SearchRequest(text="医保"))
    message = str(error.value)
    assert "http://127.0.0.1:9" in message
    assert "scripts/services up elasticsearch" in message
    index.close()


def test_fts5_without_ensure_says_so(tmp_path: Path) -> None:
    index = Fts5Index(tmp_path / "search.db")
    with pytest.raises(SearchBackendError, match="ensure"):
        index.count(SearchRequest())
    index.close()


WRITER = """
import sys
from pathlib import Path
from hitwatch.search import SearchDocument
from hitwatch.search.fts5 import Fts5Index

index = Fts5Index(Path(sys.argv[1]))
for batch in range(40):
    index.index([
        SearchDocument(f"d{batch}-{n}", "s", "u", "医保第%d批" % batch, "正文" * 200, "nhc", "国家卫健委")
        for n in range(25)
    ])
index.close()
"""


def test_fts5_reads_while_another_process_writes(tmp_path: Path) -> None:
    path = tmp_path / "search.db"
    reader = Fts5Index(path)
    reader.ensure()
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)])
    counts = []
    while writer.poll() is None:
        counts.append(reader.count(SearchRequest(text="医保")))
        page = reader.search(SearchRequest(text="医保", limit=5))
        assert page.total >= len(page.hits)
        time.sleep(0.005)
    assert writer.returncode == 0
    assert counts == sorted(counts)  # each read sees a committed state, never a torn one
    assert reader.count(SearchRequest(text="医保")) == 1000
    reader.close()


def test_fts5_index_is_shared_between_threads(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    index = Fts5Index(tmp_path / "search.db")
    index.ensure()

    def write(n: int) -> int:
        index.index([SearchDocument(f"t{n}", "s", "u", f"医保{n}", "", "nhc", "卫健委")])
        return index.count(SearchRequest(text="医保"))

    with ThreadPoolExecutor(8) as pool:
        assert max(pool.map(write, range(50))) == 50
    index.close()


def _numbered(count: int) -> list[SearchDocument]:
    return [
        SearchDocument(
            doc_id=f"n{n:02d}",
            story_id=f"s{n}",
            url=f"https://example.cn/{n}",
            title="医保" * (1 + n % 4),  # scores differ, so rank order is not index order
            body="信息化",
            source_id="nhc",
            source_name="国家卫健委",
            issuer="国家医疗保障局" if n % 2 else "",
        )
        for n in range(count)
    ]


def _fts5_holding(tmp_path: Path, documents: list[SearchDocument]) -> Fts5Index:
    index = Fts5Index(tmp_path / "search.db")
    index.ensure()
    index.index(documents)
    return index


def test_fts5_ranks_a_bounded_candidate_set_and_pages_past_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fts5, "RANK_CANDIDATES", 4)
    index = _fts5_holding(tmp_path, _numbered(10))
    request = SearchRequest(query=parse_query("医保"), limit=3)
    pages = [index.search(replace(request, offset=offset)) for offset in (0, 3, 6, 9)]
    order = [hit.doc_id for page in pages for hit in page.hits]
    assert sorted(order) == [f"n{n:02d}" for n in range(10)]  # every match once
    assert all(page.total == 10 and page.total_exact for page in pages)
    # the four most recently indexed are ranked first (by bm25), the rest follow newest first
    assert set(order[:4]) == {"n06", "n07", "n08", "n09"}
    scores = [hit.score for page in pages for hit in page.hits][:4]
    assert scores == sorted(scores, reverse=True)
    assert order[4:] == ["n05", "n04", "n03", "n02", "n01", "n00"]


def test_fts5_counts_up_to_the_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fts5, "TOTAL_CAP", 3)
    index = _fts5_holding(tmp_path, _numbered(10))
    capped = index.search(SearchRequest(query=parse_query("医保 issuer:医疗保障")))
    assert (capped.total, capped.total_exact, len(capped.hits)) == (3, False, 5)
    plain = index.search(SearchRequest(query=parse_query("医保 source:nhc")))
    assert (plain.total, plain.total_exact) == (3, False)  # every total is capped
    assert index.count(SearchRequest(query=parse_query("医保 source:nhc"))) == 10  # not count()
    few = index.search(SearchRequest(query=parse_query("医保医保医保医保")))
    assert (few.total, few.total_exact) == (2, True)


def test_fts5_facets_count_a_sample_of_large_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fts5, "FACET_SAMPLE", 4)
    index = _fts5_holding(tmp_path, _numbered(10))
    assert index.facets(SearchRequest(query=parse_query("医保")), ("source_name",)) == {
        "source_name": [("国家卫健委", 4)]
    }


def test_fts5_counts_stories_of_a_sample_of_large_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fts5, "FACET_SAMPLE", 4)
    documents = _numbered(10)
    # Two copies of the most recently indexed story.
    documents[8] = replace(documents[8], story_id=documents[9].story_id)
    index = _fts5_holding(tmp_path, documents)
    collapsed = SearchRequest(query=parse_query("医保"), collapse=True, limit=20)
    many = index.search(collapsed)
    assert (many.total, many.total_exact) == (4, False)  # at least: 5 rows read, 4 stories
    assert len(many.hits) == 9
    # Paging goes on past a lower-bound total.
    assert len(index.search(replace(collapsed, offset=5)).hits) == 4
    few = index.search(replace(collapsed, query=parse_query("医保医保医保医保")))
    assert (few.total, few.total_exact) == (2, True)
