"""Rebuilding the search index beside the live one and swapping it in, on every backend:
searches keep answering throughout, and what workers index meanwhile is not lost."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from hitwatch.reindex import reindex
from hitwatch.search import IndexBuild, SearchDocument, SearchIndex, SearchRequest
from hitwatch.search.query import parse_query
from hitwatch.store import Database
from indexer.store import save_document
from tests.factories import Doc, add_documents, classified_document, filler, search_document


def _ids(index: SearchIndex, query: str) -> set[str]:
    index.refresh()
    page = index.search(SearchRequest(text=query, limit=100))
    return {hit.doc_id for hit in page.hits}


def test_a_build_is_invisible_until_the_swap(search_index: SearchIndex) -> None:
    search_index.index([search_document("old", title="旧版电子病历评级")])
    search_index.refresh()
    build = search_index.rebuild()
    build.write([search_document("new", title="新版电子病历评级")])
    assert _ids(search_index, "电子病历") == {"old"}
    build.swap()
    assert _ids(search_index, "电子病历") == {"new"}
    # Workers write through the same object after the swap, into the new index.
    search_index.index([search_document("later", title="电子病历共享")])
    assert _ids(search_index, "电子病历") == {"new", "later"}
    # And it can be done again (Elasticsearch: the version after next).
    again = search_index.rebuild()
    again.write([search_document("third", title="第三版电子病历")])
    again.swap()
    assert _ids(search_index, "电子病历") == {"third"}


def test_an_abandoned_or_interrupted_build_leaves_the_live_index(
    search_index: SearchIndex,
) -> None:
    search_index.index([search_document("live", title="互联网医院监管")])
    search_index.refresh()
    build = search_index.rebuild()
    build.write([search_document("draft", title="互联网医院试点")])
    build.abandon()
    assert _ids(search_index, "互联网医院") == {"live"}
    # A run killed mid-build leaves its build behind; the next run starts afresh.
    search_index.rebuild().write([search_document("stale", title="互联网医院旧稿")])
    fresh = search_index.rebuild()
    fresh.write([search_document("fresh", title="互联网医院新稿")])
    assert _ids(search_index, "互联网医院") == {"live"}
    fresh.swap()
    assert _ids(search_index, "互联网医院") == {"fresh"}


def test_reindex_makes_the_index_what_the_store_holds(
    search_index: SearchIndex, store: Database
) -> None:
    docs = filler(12)
    add_documents(store, search_index, docs)
    search_index.delete(docs[0].doc_id)  # lost from the index
    search_index.index([search_document("ghost", title="区域全民健康信息平台（已删除）")])
    report = reindex(store, search_index, batch=5)
    assert report.copied == 12
    assert _ids(search_index, "信息平台") == {doc.doc_id for doc in docs}


def test_reindex_keeps_what_the_store_knows_of_policies(
    search_index: SearchIndex, store: Database
) -> None:
    national = "国务院办公厅关于促进“互联网+医疗健康”发展的意见"
    government = {"doc_type": "政策文件", "source_kind": "government"}
    with store.session() as session:
        save_document(
            session,
            classified_document(
                "nat",
                title=national,
                policy={"issuer": "国务院办公厅", "written_date": "2018-04-25"},
                **government,
            ),
        )
        save_document(
            session,
            classified_document(
                "gd",
                title="广东省人民政府办公厅关于促进“互联网+医疗健康”发展的实施意见",
                body=f"为贯彻落实《{national}》精神，结合我省实际，提出以下实施意见。",
                policy={"issuer": "广东省人民政府办公厅", "written_date": "2018-08-30"},
                **government,
            ),
        )
    reindex(store, search_index, batch=5)
    search_index.refresh()

    def found(query: str) -> set[str]:
        hits = search_index.search(SearchRequest(query=parse_query(query), limit=10)).hits
        return {hit.doc_id for hit in hits}

    assert found("implements:nat") == {"gd"}
    assert found("status:现行有效") == {"nat", "gd"}


class _Hooked:
    """A search index whose build calls `before_swap` just before it swaps."""

    def __init__(self, index: SearchIndex, before_swap: object) -> None:
        self.inner = index
        self.before_swap = before_swap

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def rebuild(self) -> IndexBuild:
        build = self.inner.rebuild()
        hooked = self

        class Build:
            def write(self, documents: Sequence[SearchDocument]) -> None:
                build.write(documents)

            def swap(self) -> None:
                hooked.before_swap()  # type: ignore[operator]
                build.swap()

            def abandon(self) -> None:
                build.abandon()

        return Build()


def test_what_workers_index_during_a_reindex_is_kept(
    search_index: SearchIndex, store: Database
) -> None:
    docs = filler(9)
    add_documents(store, search_index, docs)
    # A worker stores, then indexes into the live index: once while the copy runs ...
    during = Doc(doc_id="during", title="医保信息平台上线", body="国家医保信息平台全面上线。")
    # ... and once between the last copy into the new index and the swap.
    late = Doc(doc_id="late", title="医保信息平台扩容", body="医保信息平台完成扩容。")
    written: list[str] = []

    def worker_writes(done: int, _total: int) -> None:
        if done and not written:
            add_documents(store, search_index, [during])
            written.append(during.doc_id)

    hooked = _Hooked(search_index, lambda: add_documents(store, search_index, [late]))
    report = reindex(store, hooked, batch=3, progress=worker_writes)  # type: ignore[arg-type]
    assert written == ["during"]
    assert report.caught_up >= 1 and report.after_swap >= 2
    assert _ids(search_index, "医保信息平台") == {"during", "late"}
    assert _ids(search_index, "信息平台") >= {doc.doc_id for doc in docs}


def test_searches_keep_answering_while_reindex_runs(
    search_index: SearchIndex, store: Database
) -> None:
    docs = filler(120)
    add_documents(store, search_index, docs)
    totals: list[int] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def search_all_the_time() -> None:
        while not stop.is_set():
            try:
                totals.append(search_index.search(SearchRequest(text="信息平台", limit=5)).total)
            except BaseException as error:
                errors.append(error)
                return

    searcher = threading.Thread(target=search_all_the_time)
    searcher.start()
    try:
        while not totals and not errors:  # the first answer, from the live index
            threading.Event().wait(0.01)
        at_start = len(totals)
        report = reindex(store, search_index, batch=10)
        before = len(totals)
        while len(totals) < before + 3 and not errors:  # answers from the new index
            threading.Event().wait(0.01)
    finally:
        stop.set()
        searcher.join(30)
    assert not errors, errors
    assert report.copied == 120
    assert before > at_start, "searches were answered while the rebuild ran"
    assert set(totals) == {120}, "every search during the rebuild found every document"
