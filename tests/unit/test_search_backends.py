"""Backend details the contract suite cannot see: query translation, errors, concurrency."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from hitwatch.errors import SearchBackendError
from hitwatch.search import SearchDocument, SearchRequest
from hitwatch.search.elastic import ElasticsearchIndex, build_query
from hitwatch.search.fts5 import Fts5Index, match_expression
from hitwatch.search.terms import request_terms


def test_fts5_expression_is_one_phrase_per_term() -> None:
    terms = request_terms("电子病历 医 + DRG付费")
    assert match_expression(terms) == '"电子 子病 病历" AND "医" * AND "drg 付费"'


def test_elasticsearch_query_translation() -> None:
    query = build_query(SearchRequest(text="医保局 医", source_ids=("nhc",), relevant_only=True))
    must = query["bool"]["must"]
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
