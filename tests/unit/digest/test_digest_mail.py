"""Signed links, per-subscriber filters and the shape of the digest e-mail (no server)."""

from __future__ import annotations

import pytest

from hitwatch.digest.mail import (
    CONFIRM,
    UNSUBSCRIBE,
    SubscriberLinks,
    TokenError,
    digest_message,
    filter_digest,
    make_token,
    read_token,
)
from tests.unit.digest.samples import bulletin_digest

LINKS = SubscriberLinks(
    web="https://w/d/1", unsubscribe="https://w/u/T", one_click="https://w/u/T/1"
)


def test_tokens_are_signed_expiring_and_bound_to_their_purpose():
    token = make_token("secret", CONFIRM, 42)
    assert read_token("secret", CONFIRM, token, 60) == 42
    with pytest.raises(TokenError, match="expired"):
        read_token("secret", CONFIRM, token, -1)
    with pytest.raises(TokenError, match="not valid"):
        read_token("other secret", CONFIRM, token, 60)
    with pytest.raises(TokenError, match="not valid"):
        read_token("secret", UNSUBSCRIBE, token, 60)
    with pytest.raises(TokenError, match="not valid"):
        read_token("secret", CONFIRM, token[:-2] + "xx", 60)


def test_filters_keep_only_chosen_topics_and_types():
    digest = bulletin_digest()
    assert filter_digest(digest, (), ()) is digest
    assert [i.story_id for i in filter_digest(digest, ("健康医疗大数据与数据要素",), ()).items] == [
        "s3"
    ]
    assert [i.story_id for i in filter_digest(digest, (), ("新闻报道",)).items] == ["s3", "s4"]
    assert filter_digest(digest, (), ("政策文件",)).items == ()


def test_message_has_both_parts_and_one_click_headers():
    message = digest_message(
        bulletin_digest(publisher="卫生信息化监测", number=3),
        sender="月报 <digest@example.org>",
        recipient="r@example.org",
        links=LINKS,
    )
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["List-Unsubscribe"] == "<https://w/u/T/1>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Message-ID"].endswith("@example.org>")
    text = message.get_body(("plain",)).get_content()
    assert text.startswith("卫生信息化监测周报\n第3期\n本期导语：")
    assert "退订：https://w/u/T" in text
