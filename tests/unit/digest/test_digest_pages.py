"""The digest pages: archive, build, edit a draft, publish, download, correct, feed."""

from __future__ import annotations

import re
from xml.etree import ElementTree

import pytest

from hitwatch.digest import check_invariants
from tests.accounts import sign_in
from tests.unit.digest.samples import store_bulletin
from tests.unit.digest.webapp_stub import digest_app


@pytest.fixture
def client(settings, database):
    """An editor's browser: building, editing and publishing are theirs."""
    with database.session() as session:
        store_bulletin(session)
    client = digest_app(settings, database).test_client()
    sign_in(client, database, "editor")
    return client


def _token(client) -> str:
    page = client.get("/digests").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _post(client, url: str, **data: str):
    return client.post(url, data={"csrf_token": _token(client), **data}, follow_redirects=True)


def test_editor_builds_edits_publishes_and_corrects(client):
    assert "还没有任何一期" in client.get("/digests").get_data(as_text=True)
    page = _post(client, "/digests/build", month="2024-07").get_data(as_text=True)
    assert "已生成草稿" in page and "编辑本期" in page
    issue_url = re.search(r"/digests/(\d+)\.txt", page).group(0).removesuffix(".txt")
    entry_ids = re.findall(r"/entries/(\d+)/drop", page)
    assert len(entry_ids) == 4

    _post(client, f"{issue_url}/entries/{entry_ids[1]}/drop")
    _post(
        client,
        f"{issue_url}/entries/{entry_ids[0]}/edit",
        title="改过的标题",
        source_name="",
        body="",
    )
    _post(client, f"{issue_url}/note", editor_note="本期编者按。")
    draft_text = client.get(f"{issue_url}.txt").get_data(as_text=True)
    assert "本期月报共收集 3篇" in draft_text and "1. 改过的标题（新京报）" in draft_text
    assert "编者按：本期编者按。" in draft_text

    ask = client.get(f"{issue_url}/publish").get_data(as_text=True)
    assert "目前没有会收到本期的订阅者" in ask and "确认发布" in ask
    page = _post(client, f"{issue_url}/publish").get_data(as_text=True)
    assert "已发布：第1期" in page and "编辑本期" not in page
    assert "由 editor 发布" in page  # the account's name, not its address
    published = client.get(f"{issue_url}.txt")
    assert published.headers["Content-Disposition"].startswith(
        "attachment; filename=digest-2024-07"
    )
    assert check_invariants(published.get_data(as_text=True)) == []
    assert "text/markdown" in client.get(f"{issue_url}.md").headers["Content-Type"]
    assert "<!DOCTYPE html>" in client.get(f"{issue_url}.html").get_data(as_text=True)
    docx = client.get(f"{issue_url}.docx")
    assert docx.data[:2] == b"PK" and "wordprocessingml" in docx.headers["Content-Type"]

    refused = _post(client, f"{issue_url}/entries/{entry_ids[0]}/drop").get_data(as_text=True)
    assert "操作未完成" in refused

    page = _post(client, f"{issue_url}/correct", note="第1条标题有误。").get_data(as_text=True)
    assert "已建立更正稿" in page and "第2版" in page

    feed = client.get("/digests.atom")
    assert feed.mimetype == "application/atom+xml"
    entries = ElementTree.fromstring(feed.data).findall("{http://www.w3.org/2005/Atom}entry")
    assert len(entries) == 1
    archive = client.get("/digests").get_data(as_text=True)
    assert "2024年07月" in archive and "已发布" in archive and "草稿" in archive


def test_bad_input_is_explained(client):
    page = _post(client, "/digests/build", month="七月").get_data(as_text=True)
    assert "月份“七月”的格式不对：请写成 年-月，例如 2024-07" in page
    page = _post(client, "/digests/build", month="2023-01").get_data(as_text=True)
    assert "之间没有找到相关文章" in page and "hitwatch crawl" in page
    assert client.get("/digests/999").status_code == 404
    assert client.get("/digests/1.pdfx").status_code == 404


def test_the_app_factory_registers_the_digest_pages(settings, database):
    from tests.unit.digest.webapp_stub import NoSearch
    from webapp import create_app

    app = create_app(
        settings, database=database, search_index=NoSearch(), test_config={"TESTING": True}
    )
    page = app.test_client().get("/digests").get_data(as_text=True)
    assert "月报与周报" in page and 'href="/digests/subscribe"' in page


def test_build_form_proposes_the_month_of_the_newest_story(client):
    # Proposing the current month would build an empty issue. The newest sample story is
    # 2024-08-01 00:30 Beijing time (still July in UTC), so the month is August.
    page = client.get("/digests").get_data(as_text=True)
    assert 'name="month" value="2024-08"' in page


def test_publishing_asks_first_with_the_number_of_recipients(client, database):
    from hitwatch.store.models import DigestSubscriber

    with database.session() as session:
        session.add_all(
            [
                DigestSubscriber(email="all@example.org", status="active", kind="monthly"),
                DigestSubscriber(email="weekly@example.org", status="active", kind="weekly"),
                DigestSubscriber(email="pending@example.org", status="pending", kind="monthly"),
                DigestSubscriber(
                    email="policy@example.org",
                    status="active",
                    kind="monthly",
                    doc_types=["政策文件"],  # nothing of that type this month: no mail
                ),
            ]
        )
    page = _post(client, "/digests/build", month="2024-07").get_data(as_text=True)
    issue_url = re.search(r"/digests/(\d+)\.txt", page).group(0).removesuffix(".txt")
    ask = client.get(f"{issue_url}/publish").get_data(as_text=True)
    assert "发送给 <strong>1</strong> 位订阅者" in ask
    assert "第1期" not in ask  # nothing published by asking
