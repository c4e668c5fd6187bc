"""The policy pages: one policy with its 解读, implementations, news, targets and status,
each with the reason of its link; the list with upcoming deadlines; the Atom feed."""

from __future__ import annotations

from datetime import UTC, datetime
from xml.etree import ElementTree

from flask.testing import FlaskClient

from hitwatch.store import Database
from indexer.store import save_document
from tests.factories import classified_document

NATIONAL = "国家卫生健康委关于推进医院信息互联互通的意见"


def _store(database: Database) -> None:
    docs = [
        classified_document(
            "nat",
            title=NATIONAL,
            body="到2030年，三级医院互联互通标准化成熟度测评平均达到四级甲等以上。"
            "到2030年，二级以上医院检查检验结果互认率不低于90%。",
            doc_type="政策文件",
            published_at=datetime(2026, 3, 2, tzinfo=UTC),
            policy={"issuer": "国家卫生健康委员会", "doc_number": "国卫规划发〔2026〕9号"},
        ),
        classified_document(
            "js",
            title="江苏省卫生健康委员会关于推进医院信息互联互通的实施方案",
            body=f"为贯彻落实《{NATIONAL}》（国卫规划发〔2026〕9号）精神，结合我省实际，制定本方案。",
            doc_type="政策文件",
            published_at=datetime(2026, 5, 6, tzinfo=UTC),
            policy={"issuer": "江苏省卫生健康委员会", "written_date": "2026-05-06"},
        ),
        classified_document(
            "jd",
            title=f"《{NATIONAL}》解读",
            body="意见提出推进医院信息互联互通。",
            doc_type="政策解读",
            published_at=datetime(2026, 3, 3, tzinfo=UTC),
        ),
        classified_document(
            "nw",
            title="医院信息互联互通迎来新要求",
            body=f"国家卫生健康委日前印发《{NATIONAL}》。",
            doc_type="新闻报道",
            published_at=datetime(2026, 3, 4, tzinfo=UTC),
        ),
    ]
    with database.session() as session:
        for doc in docs:
            save_document(session, doc)


def test_the_policy_page_shows_every_link_with_its_reason(
    client: FlaskClient, database: Database
) -> None:
    _store(database)
    page = client.get("/policies/nat").get_data(as_text=True)
    assert "现行有效" in page and "国卫规划发〔2026〕9号" in page and "国家级" in page
    assert f"《{NATIONAL}》解读" in page
    assert "江苏省卫生健康委员会关于推进医院信息互联互通的实施方案" in page
    assert "江苏" in page and "2026-05-06" in page
    assert "正文第6字：“贯彻落实”" in page  # the citation and where it is
    assert "医院信息互联互通迎来新要求" in page
    assert "四级甲等以上" in page and "90%" in page  # targets
    assert client.get("/policies/jd").status_code == 404  # an interpretation is no policy


def test_the_list_has_the_upcoming_deadlines_and_filters_by_level(
    client: FlaskClient, database: Database
) -> None:
    _store(database)
    page = client.get("/policies").get_data(as_text=True)
    assert "三级医院互联互通标准化成熟度测评" in page and "2030" in page
    provincial = client.get("/policies?level=provincial").get_data(as_text=True)
    assert "<td>省级</td>" in provincial and "<td>国家级</td>" not in provincial


def test_the_feed_lists_the_new_links(client: FlaskClient, database: Database) -> None:
    _store(database)
    response = client.get("/policies/nat.atom")
    assert response.mimetype == "application/atom+xml"
    feed = ElementTree.fromstring(response.get_data())
    atom = "{http://www.w3.org/2005/Atom}"
    titles = {entry.findtext(f"{atom}title") for entry in feed.iter(f"{atom}entry")}
    assert titles == {
        "【报道】医院信息互联互通迎来新要求",
        f"【解读】《{NATIONAL}》解读",
        "【落实】江苏省卫生健康委员会关于推进医院信息互联互通的实施方案",
    }


def test_the_item_page_leads_to_the_policy(client: FlaskClient, database: Database) -> None:
    _store(database)
    assert "/policies/nat" in client.get("/items/nat").get_data(as_text=True)
    implementation = client.get("/items/js").get_data(as_text=True)
    assert "落实：" in implementation and "/policies/nat" in implementation


def test_alerts_can_be_set_from_the_policy_page(client: FlaskClient, database: Database) -> None:
    _store(database)
    page = client.get("/policies/nat").get_data(as_text=True)
    assert "/alerts/new?q=implements:nat" in page
    form = client.get("/alerts/new?q=implements:nat&name=落实&offtopic=1").get_data(as_text=True)
    assert 'value="implements:nat"' in form and 'value="落实"' in form
