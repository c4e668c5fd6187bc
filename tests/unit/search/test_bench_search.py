"""`hitwatch bench search` on a tiny index: every backend, every class, the table printed."""

from pathlib import Path

import pytest

from hitwatch.bench.search import SEEDS, iter_documents, run_search_bench
from hitwatch.search.base import SearchRequest
from hitwatch.search.fts5 import Fts5Index
from hitwatch.search.memory import InMemoryIndex
from tests.conftest import IN_CI


def _require_seeds() -> None:
    if not any(SEEDS.glob("*.txt")):
        if IN_CI:
            pytest.fail(f"CI=true: the seed pages are missing from {SEEDS}")
        pytest.skip(f"no seed pages in {SEEDS}")


def test_bench_measures_each_backend_at_its_own_size(tmp_path: Path) -> None:
    _require_seeds()
    lines: list[str] = []
    backends = {"fts5": Fts5Index(tmp_path / "search.db"), "elasticsearch": InMemoryIndex()}
    results = run_search_bench(backends, 300, es_docs=1001, repeats=2, echo=lines.append)
    assert results["fts5"]["docs"] == 300 and results["elasticsearch"]["docs"] == 1001
    for backend in ("fts5", "elasticsearch"):
        figures = results[backend]
        assert figures["docs_per_second"] > 0
        assert figures["rare"]["hits"] == (1 if backend == "fts5" else 2)  # one in 1,000
        assert figures["nothing"]["hits"] == 0
        for name in ("rare", "common", "and", "phrase", "filtered", "faceted", "nothing"):
            q = figures[name]
            assert 0 < q["p50_ms"] <= q["p95_ms"] <= q["max_ms"]
    assert any("1001/1001 documents made and indexed" in line for line in lines)
    table = "\n".join(lines)
    assert "CPU ms" in table and "wall ms" in table and "faceted" in table


def test_documents_are_a_stream_with_planted_rare_terms() -> None:
    from collections import Counter

    words = Counter({"医疗": 5, "信息化": 3, "平台": 1})
    documents = list(iter_documents(words, 3))
    assert [document.doc_id for document in documents] == ["bench-0", "bench-1", "bench-2"]
    assert "鲲鹏量子病案" in documents[0].body and "鲲鹏量子病案" not in documents[1].body
    assert all(len(document.body) >= 1500 for document in documents)


def test_a_kept_index_is_reused_when_it_holds_the_wanted_size() -> None:
    from hitwatch.bench.search import RARE_TERM, _queries, _run_all, vocabulary

    _require_seeds()
    words = vocabulary()
    words.pop(RARE_TERM, None)
    kept = InMemoryIndex()
    for expected_rate_kind in (float, type(None)):  # built, then reused
        lines: list[str] = []
        results: dict[str, object] = {}
        _run_all(
            {"elasticsearch": kept},
            0,
            120,
            words,
            _queries(words),
            2,
            results,
            lines.append,
            {"elasticsearch"},
        )
        figures = results["elasticsearch"]
        assert isinstance(figures, dict)
        assert isinstance(figures["docs_per_second"], expected_rate_kind)
        assert kept.count(SearchRequest()) == 120  # never dropped
    assert any("reusing the 120 articles" in line for line in lines)
