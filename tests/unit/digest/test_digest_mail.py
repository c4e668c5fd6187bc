"""Signed links, per-subscriber filters and the shape of the digest e-mail (no server)."""

from __future__ import annotations

import email
import email.policy
from dataclasses import replace

import pytest

from hitwatch.digest.mail import (
    CONFIRM,
    UNSUBSCRIBE,
    DigestTemplate,
    SubscriberLinks,
    TokenError,
    compose_digest,
    digest_message,
    digest_parts,
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


def _links(token: str, preferences: str) -> SubscriberLinks:
    return SubscriberLinks(
        web="https://hitwatch.example.org/digests/1",
        unsubscribe=f"https://hitwatch.example.org/digests/unsubscribe/{token}",
        one_click=f"https://hitwatch.example.org/digests/unsubscribe/{token}/one-click",
        preferences=f"https://hitwatch.example.org/digests/preferences/{preferences}",
    )


@pytest.mark.parametrize("extra_note", ["", "编者按" * 200])
def test_a_template_copy_is_the_message_compose_digest_makes(extra_note):
    digest = bulletin_digest(publisher="卫生信息化监测", number=3)
    digest = replace(digest, editor_note=extra_note)
    sender = "卫生信息化月报 <digest@example.org>"
    template = DigestTemplate.of(
        digest_parts(digest, _links("UNSUBSLOT", "PREFSLOT")),
        sender=sender,
        one_click=_links("UNSUBSLOT", "PREFSLOT").one_click,
        slots=("UNSUBSLOT", "PREFSLOT"),
    )
    for token, preferences, recipient in (
        ("tok.en-1_x", "pref.1", "one@example.org"),
        ("another.much-longer.token_value_with_underscores_" * 2, "p_2", "two@example.org"),
    ):
        raw = template.copy(
            recipient=recipient,
            message_id="<fixed@example.org>",
            replacements={"UNSUBSLOT": token, "PREFSLOT": preferences},
        )
        assert (raw.sender, raw.recipient) == ("digest@example.org", recipient)
        assert b"\r\n" in raw.data and b"\n" not in raw.data.replace(b"\r\n", b"")
        got = email.message_from_bytes(raw.data, policy=email.policy.default)
        want = compose_digest(
            digest_parts(digest, _links(token, preferences)),
            sender=sender,
            recipient=recipient,
            one_click=_links(token, preferences).one_click,
            message_id="<fixed@example.org>",
        )
        for header in ("Subject", "From", "To", "Message-ID", "List-Id", "List-Unsubscribe"):
            assert got[header] == want[header], header
        assert got["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        # A long List-Unsubscribe stays a plain <URL> (clients do not decode RFC 2047 there).
        one_click = _links(token, preferences).one_click.encode()
        assert b"\r\nList-Unsubscribe: <" + one_click + b">\r\n" in raw.data
        assert want.as_bytes().count(b"List-Unsubscribe: <" + one_click + b">\n") == 1
        assert got.get_content_type() == "multipart/alternative"
        for kind in ("plain", "html"):
            got_part, want_part = got.get_body((kind,)), want.get_body((kind,))
            assert got_part["Content-Transfer-Encoding"] == "base64"
            assert got_part.get_content_charset() == "utf-8"
            assert got_part.get_content() == want_part.get_content()
            assert f"/digests/unsubscribe/{token}" in got_part.get_content()
            assert f"/digests/preferences/{preferences}" in got_part.get_content()
            assert "SLOT" not in got_part.get_content()
        for line in raw.data.split(b"\r\n"):
            assert len(line) <= 998
