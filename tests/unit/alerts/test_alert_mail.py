"""Signed links of alerts and the shape of an alert e-mail (no server)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hitwatch.alerts.mail import (
    CONFIRM,
    MANAGE,
    UNSUBSCRIBE,
    AlertLinks,
    alert_message,
    confirmation_message,
    plain_snippet,
)
from hitwatch.mail import (
    AddressError,
    TokenError,
    make_token,
    normalize_address,
    read_address_token,
    read_token,
)
from hitwatch.search.base import SearchDocument

LINKS = AlertLinks("https://hw.example.org/", "secret")
DOC = SearchDocument(
    doc_id="d42",
    story_id="s42",
    url="https://www.nhc.gov.cn/a/42.html",
    title="关于推进电子病历系统应用的通知",
    body="为进一步推进以电子病历为核心的医院信息化建设，现就有关事项通知如下。" * 3,
    source_id="nhc",
    source_name="国家卫健委",
    published_at=datetime(2024, 7, 3, 20, 0, tzinfo=UTC),  # 4 July in Beijing
)


def test_tokens_carry_ids_or_addresses_for_one_purpose():
    assert read_token("secret", CONFIRM, make_token("secret", CONFIRM, 7), 60) == 7
    token = make_token("secret", MANAGE, "a@example.org")
    assert read_address_token("secret", MANAGE, token, 60) == "a@example.org"
    with pytest.raises(TokenError):
        read_token("secret", MANAGE, token, 60)  # an address is not an id
    with pytest.raises(TokenError):
        read_address_token("secret", UNSUBSCRIBE, token, 60)  # other purpose
    with pytest.raises(TokenError, match="expired"):
        read_address_token("secret", MANAGE, token, -1)
    with pytest.raises(TokenError):
        read_token("secret", CONFIRM, make_token("secret", CONFIRM, True), 60)


def test_addresses_are_checked_and_normalised():
    assert normalize_address("  Reader@Example.ORG ") == "reader@example.org"
    for bad in ("", "reader", "a@b", "a b@example.org", "<a@example.org>"):
        with pytest.raises(AddressError):
            normalize_address(bad)


def test_links_point_at_the_alert_pages_with_signed_tokens():
    manage = LINKS.manage("a@example.org")
    assert manage.startswith("https://hw.example.org/alerts/manage/")
    token = manage.rsplit("/", 1)[1]
    assert read_address_token("secret", MANAGE, token, 60) == "a@example.org"
    assert LINKS.one_click(3).endswith("/one-click")
    assert LINKS.item("d42") == "https://hw.example.org/items/d42"


def test_alert_message_has_both_parts_headers_and_highlighted_terms():
    message = alert_message(
        sender="hitwatch <alerts@example.org>",
        recipient="reader@example.org",
        rule_id=3,
        rule_name="电子病历动态",
        query="电子病历 source:nhc",
        terms=["电子病历"],
        document=DOC,
        links=LINKS,
    )
    assert message["Subject"] == "【提醒：电子病历动态】关于推进电子病历系统应用的通知"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    one_click = message["List-Unsubscribe"].strip("<>")
    assert one_click.startswith("https://hw.example.org/alerts/unsubscribe/")
    token = one_click.removesuffix("/one-click").rsplit("/", 1)[1]
    assert read_token("secret", UNSUBSCRIBE, token, 60) == 3
    # One Message-ID per (rule, story): a mail sent again after a crash shows once.
    assert message["Message-ID"] == f"<alert.3.{DOC.story_id}@example.org>"
    text = message.get_body(("plain",)).get_content()
    assert "来源：国家卫健委" in text and "2024-07-04" in text
    assert "【电子病历】" in text
    assert "https://hw.example.org/items/d42" in text
    assert "https://www.nhc.gov.cn/a/42.html" in text
    assert "https://hw.example.org/alerts/manage/" in text
    html = message.get_body(("html",)).get_content()
    assert "<mark>电子病历</mark>" in html
    assert 'href="https://hw.example.org/items/d42"' in html


def test_html_part_escapes_the_document():
    evil = SearchDocument(**{**DOC.__dict__, "title": "<script>x</script>电子病历"})
    message = alert_message(
        sender="a@example.org",
        recipient="b@example.org",
        rule_id=1,
        rule_name="",
        query="电子病历",
        terms=["电子病历"],
        document=evil,
        links=LINKS,
    )
    html = message.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "【提醒：电子病历】" in message["Subject"]


def test_plain_snippet_marks_terms_without_html():
    assert plain_snippet("医保局 & 电子病历", ["电子病历"]) == "医保局 & 【电子病历】"


def test_confirmation_message_names_the_query_and_the_link():
    message = confirmation_message(
        sender="a@example.org",
        recipient="b@example.org",
        name="",
        query="医保 DRG",
        confirm_url="https://hw/alerts/confirm/T",
    )
    assert "医保、DRG" in message["Subject"]  # in words
    body = message.get_content()
    assert "医保 DRG" in body  # and as typed
    assert "https://hw/alerts/confirm/T" in body and "7 天内有效" in body


def test_a_rule_without_a_name_is_called_by_its_query_in_words_once():
    message = alert_message(
        sender="a@example.org",
        recipient="b@example.org",
        rule_id=1,
        rule_name="",
        query="topic:A",
        terms=[],
        document=DOC,
        links=LINKS,
    )
    assert message["Subject"].startswith("【提醒：主题：医疗大模型与生成式AI】")
    for part in ("plain", "html"):
        text = message.get_body((part,)).get_content()
        assert "“主题：医疗大模型与生成式AI”有一条新结果" in text
        assert "topic:A" not in text
