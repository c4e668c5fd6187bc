"""Links through the indexer's write path on SQLite: either side may arrive first, each
link says why, a different 发文字号 or an ambiguous name makes no link, status follows."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hitwatch.policies import (
    IN_FORCE,
    REPEALED,
    REVISED,
    PolicyStatus,
    PolicyView,
    links_from,
    links_to,
    policy_statuses,
    policy_views,
    relinked_documents,
)
from hitwatch.store import open_database
from hitwatch.store.models import Policy, PolicyCitation
from indexer.store import save_document
from tests.factories import classified_document

NATIONAL = "国务院办公厅关于促进“互联网+医疗健康”发展的意见"


def _national(doc_id: str = "nat", **fields: object):  # type: ignore[no-untyped-def]
    values: dict[str, object] = {
        "title": NATIONAL,
        "body": "各省、自治区、直辖市人民政府：\n现就促进“互联网+医疗健康”发展提出如下意见。",
        "doc_type": "政策文件",
        "source_kind": "government",
        "published_at": datetime(2018, 4, 28, tzinfo=UTC),
        "policy": {
            "doc_number": "国办发〔2018〕26号",
            "issuer": "国务院办公厅",
            "written_date": "2018-04-25",
        },
    }
    values.update(fields)
    return classified_document(doc_id, **values)


def _status(session, doc_id: str) -> PolicyStatus:  # type: ignore[no-untyped-def]
    policy = session.get(Policy, doc_id)
    assert policy is not None
    return policy_statuses(session, [policy])[doc_id]


def _provincial(doc_id: str, province: str, body: str, **fields: object):  # type: ignore[no-untyped-def]
    values: dict[str, object] = {
        "title": f"{province}人民政府办公厅关于促进“互联网+医疗健康”发展的实施意见",
        "body": body,
        "doc_type": "政策文件",
        "source_kind": "government",
        "published_at": datetime(2018, 9, 1, tzinfo=UTC),
        "policy": {"issuer": f"{province}人民政府办公厅", "written_date": "2018-08-30"},
    }
    values.update(fields)
    return classified_document(doc_id, **values)


def test_an_implementation_stored_before_its_policy_links_once_the_policy_arrives(database) -> None:
    body = f"为贯彻落实《{NATIONAL}》（国办发〔2018〕26号）精神，结合我省实际，提出以下实施意见。"
    with database.session() as session:
        save_document(session, _provincial("gd", "广东省", body))
    with database.session() as session:
        assert links_from(session, ["gd"]) == []
        policy = session.get(Policy, "gd")
        assert policy is not None and (policy.level, policy.province) == ("provincial", "广东")
    with database.session() as session:
        save_document(session, _national())
    with database.session() as session:
        [link] = links_to(session, "nat")
        assert (link.source_id, link.kind, link.cue) == ("gd", "implements", "贯彻落实")
        assert link.reason == (
            f"正文第{body.index('《') + 1}字：“贯彻落实”《{NATIONAL}》（国办发〔2018〕26号）"
        )
        assert session.get(Policy, "nat").level == "national"  # type: ignore[union-attr]


def test_a_redelivered_or_reclassified_document_keeps_its_links_dates(database) -> None:
    body = f"根据《{NATIONAL}》，结合本省实际，制定本方案。"
    with database.session() as session:
        save_document(session, _national())
        save_document(session, _provincial("js", "江苏省", body))
    with database.session() as session:
        first = session.query(PolicyCitation).filter_by(doc_id="js").one().created_at
    with database.session() as session:
        save_document(session, _provincial("js", "江苏省", body, reclassified=True))
    with database.session() as session:
        [link] = links_to(session, "nat")
        assert link.kind == "implements"
        assert session.query(PolicyCitation).filter_by(doc_id="js").one().created_at == first


def test_a_different_document_number_or_a_name_several_provinces_use_makes_no_link(
    database,
) -> None:
    with database.session() as session:
        save_document(session, _national())
        save_document(session, _provincial("sc", "四川省", "现提出以下实施意见。"))
        save_document(session, _provincial("hn", "河南省", "现提出以下实施意见。"))
        # Same name, another number: another document (not stored).
        save_document(
            session,
            _provincial(
                "x1",
                "湖北省",
                f"按照《{NATIONAL}》（国发〔2099〕1号）要求，现通知如下。",
                title="湖北省卫生健康委员会关于互联网医院备案的通知",
            ),
        )
        # A provincial name shared by 四川 and 河南: cited from 湖北, it settles nothing.
        save_document(
            session,
            _provincial(
                "x2",
                "湖北省",
                "按照《关于促进“互联网+医疗健康”发展的实施意见》要求，现通知如下。",
                title="湖北省卫生健康委员会关于做好互联网医院监管工作的通知",
            ),
        )
    with database.session() as session:
        assert links_from(session, ["x1", "x2"]) == []


def test_news_and_interpretations_link_without_implementing(database) -> None:
    with database.session() as session:
        save_document(session, _national())
        save_document(
            session,
            classified_document(
                "r1",
                title=f"《{NATIONAL}》政策解读",
                body="意见提出发展互联网医院。",
                doc_type="政策解读",
            ),
        )
        save_document(
            session,
            classified_document(
                "n1",
                title="国办印发意见促进互联网医疗",
                body="日前，国务院办公厅印发《关于促进“互联网+医疗健康”发展的意见》。",
                doc_type="新闻报道",
            ),
        )
    with database.session() as session:
        kinds = {(link.source_id, link.kind) for link in links_to(session, "nat")}
        assert kinds == {("r1", "interprets"), ("n1", "names")}


def test_status_follows_repeal_and_new_editions(database) -> None:
    old = "某省互联网医院管理办法"
    with database.session() as session:
        save_document(
            session,
            _provincial(
                "old",
                "浙江省",
                "现印发本办法。",
                title=old,
                policy={"issuer": "浙江省卫生健康委员会", "written_date": "2019-01-01"},
            ),
        )
    with database.session() as session:
        assert _status(session, "old").status == IN_FORCE
        save_document(
            session,
            _provincial(
                "new",
                "浙江省",
                f"本办法自印发之日起施行，《{old}》同时废止。",
                title="某省互联网医院管理规定",
                policy={"issuer": "浙江省卫生健康委员会", "written_date": "2023-01-01"},
            ),
        )
    with database.session() as session:
        status = _status(session, "old")
        assert (status.status, status.changed_by) == (REPEALED, "new")
        save_document(
            session,
            _provincial(
                "ed2",
                "浙江省",
                "现印发本规范。",
                title="某省医院信息化建设规范（2024年版）",
                policy={"issuer": "浙江省卫生健康委员会", "written_date": "2024-01-01"},
            ),
        )
        save_document(
            session,
            _provincial(
                "ed1",
                "浙江省",
                "现印发本规范。",
                title="某省医院信息化建设规范（试行）",
                policy={"issuer": "浙江省卫生健康委员会", "written_date": "2020-01-01"},
            ),
        )
    with database.session() as session:
        status = _status(session, "ed1")
        assert (status.status, status.changed_by) == (REVISED, "ed2")
        assert _status(session, "ed2").status == IN_FORCE


def test_a_document_that_stops_being_a_policy_loses_its_record(database) -> None:
    with database.session() as session:
        save_document(session, _national())
        save_document(session, _national(doc_type="新闻报道", reclassified=True))
    with database.session() as session:
        assert session.get(Policy, "nat") is None


def test_the_indexer_reindexes_a_policy_whose_status_a_new_document_changes(database) -> None:
    from hitwatch.search import SearchRequest
    from hitwatch.search.memory import InMemoryIndex
    from hitwatch.search.query import parse_query
    from indexer.policies import policy_search_documents

    index = InMemoryIndex()
    old = _provincial("old", "浙江省", "现印发本办法。", title="某省互联网医院管理办法")
    new = _provincial(
        "new",
        "浙江省",
        "本规定自印发之日起施行，《某省互联网医院管理办法》同时废止。",
        title="某省互联网医院管理规定",
    )
    for document in (old, new):
        with database.session() as session:
            save_document(session, document)
            index.index(policy_search_documents(session, [document]))
    found = index.search(SearchRequest(query=parse_query("status:已废止"))).hits
    assert [hit.doc_id for hit in found] == ["old"]
    in_force = index.search(SearchRequest(query=parse_query("status:现行有效"))).hits
    assert [hit.doc_id for hit in in_force] == ["new"]


def test_copies_of_one_policy_on_two_sites_are_one_target(database) -> None:
    with database.session() as session:
        save_document(session, _national("portal", story_id="s-policy"))
        # The ministry's copy of the same text: no metadata table, same story.
        save_document(session, _national("ministry", story_id="s-policy", policy=None))
        save_document(
            session,
            classified_document(
                "n1",
                title="国办印发意见",
                body="国务院办公厅日前印发《关于促进“互联网+医疗健康”发展的意见》。",
                doc_type="新闻报道",
            ),
        )
    with database.session() as session:
        [link] = links_from(session, ["n1"])
        assert link.target_id == "portal"
        assert [item.source_id for item in links_to(session, "ministry")] == ["n1"]


def test_only_a_copy_that_changes_links_relinks_the_documents_citing_it(database) -> None:
    news = classified_document(
        "n1",
        title="国办印发意见",
        body="国务院办公厅日前印发《关于促进“互联网+医疗健康”发展的意见》。",
        doc_type="新闻报道",
    )
    with database.session() as session:
        save_document(session, news)
        save_document(session, _national("ministry", story_id="s-policy", policy=None))
        # The policy arrived after the news that names it: the news now links.
        assert relinked_documents(session, {"ministry"}) == {"n1"}
    with database.session() as session:
        save_document(session, _national("portal", story_id="s-policy"))
        # A copy with its metadata table stands for the text from now on.
        assert relinked_documents(session, {"portal"}) == {"n1"}
    with database.session() as session:
        save_document(session, _national("reprint", story_id="s-policy"))
        # A later copy no richer than the one standing changes no link: only its own
        # copies, which could name it, are looked at again.
        assert relinked_documents(session, {"reprint"}) == {"ministry", "portal"}
        [link] = links_from(session, ["n1"])
        assert link.target_id == "portal"


def _arrivals() -> list:  # type: ignore[type-arg]
    implementation = (
        f"为贯彻落实《{NATIONAL}》（国办发〔2018〕26号）精神，结合我省实际，提出以下实施意见。"
    )
    return [
        _national("ministry", story_id="s-policy", policy=None),
        _national("portal", story_id="s-policy"),
        _national("reprint", story_id="s-policy"),
        classified_document(
            "n1",
            title="国办印发意见",
            body="国务院办公厅日前印发《关于促进“互联网+医疗健康”发展的意见》。",
            doc_type="新闻报道",
        ),
        _provincial("gd", "广东省", implementation),
        _provincial("zj-old", "浙江省", "现印发本办法。", title="某省互联网医院管理办法"),
        _provincial(
            "zj-new",
            "浙江省",
            "本规定自印发之日起施行，《某省互联网医院管理办法》同时废止。",
            title="某省互联网医院管理规定",
        ),
    ]


@pytest.mark.parametrize("seed", range(6))
def test_what_the_indexer_sends_in_any_order_is_what_the_store_says_in_the_end(
    tmp_path: Path, seed: int
) -> None:
    """Status and links indexed batch by batch, in any arrival order and batch size,
    end as computed from the whole store: no re-index the relinking passes over is
    missed."""
    from indexer.policies import policy_search_documents

    documents = _arrivals()
    random.Random(seed).shuffle(documents)
    size = 1 + seed % 3
    database = open_database(f"sqlite:///{tmp_path}/store.db")
    database.migrate()
    indexed: dict[str, PolicyView] = {}
    for start in range(0, len(documents), size):
        with database.session() as session:
            batch = documents[start : start + size]
            for document in batch:
                save_document(session, document)
            for sent in policy_search_documents(session, batch):
                indexed[sent.doc_id] = PolicyView(sent.status, sent.links)
    with database.session() as session:
        assert indexed == policy_views(session, indexed)
        # The first stored of the two copies with a metadata table stands for the text.
        first = next(d.doc_id for d in documents if d.doc_id in ("portal", "reprint"))
        assert indexed["gd"].links == (f"cites:{first}", f"implements:{first}")
        assert indexed["zj-old"].status == REPEALED
    database.dispose()


def test_an_implementation_indexed_before_its_policy_is_found_by_implements(database) -> None:
    from hitwatch.search import SearchRequest
    from hitwatch.search.memory import InMemoryIndex
    from hitwatch.search.query import parse_query
    from indexer.policies import policy_search_documents

    index = InMemoryIndex()
    body = f"为贯彻落实《{NATIONAL}》精神，结合我省实际，提出以下实施意见。"
    for document in (_provincial("gd", "广东省", body), _national()):
        with database.session() as session:
            save_document(session, document)
            index.index(policy_search_documents(session, [document]))
    found = index.search(SearchRequest(query=parse_query("implements:nat"))).hits
    assert [hit.doc_id for hit in found] == ["gd"]


def test_alerts_read_a_stored_document_with_its_links_and_status(database) -> None:
    from hitwatch.alerts.delivery import load_document

    body = f"根据《{NATIONAL}》，结合本省实际，制定本方案。"
    with database.session() as session:
        save_document(session, _national())
        save_document(session, _provincial("gd", "广东省", body))
    document = load_document(database, "gd")
    assert document is not None
    assert (document.links, document.status) == (("cites:nat", "implements:nat"), "现行有效")
