"""Channel messages: each platform's documented shape, signatures, Markdown that crawled
text cannot break, and sizes within the platforms' limits."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, unquote_plus, urlsplit

import pytest

from hitwatch.channels import (
    ChannelItem,
    ChannelMessage,
    dingtalk_sign,
    feishu_sign,
    prepare_post,
    render_markdown,
    webhook_signature,
)
from hitwatch.channels.vault import Vault, VaultError

NOW = datetime(2026, 12, 6, 4, 30, tzinfo=UTC)


def item(n: int = 1, **fields) -> ChannelItem:
    values = {
        "doc_id": f"doc{n}",
        "story_id": f"story{n}",
        "title": f"关于推进电子病历系统应用水平分级评价的通知 {n}",
        "url": f"https://www.nhc.gov.cn/a/{n}.shtml",
        "item_url": f"https://hitwatch.example.org/items/doc{n}",
        "source": "国家卫健委",
        "published_at": datetime(2024, 7, 1, 2, tzinfo=UTC),
        "date": "2024-07-01",
        "doc_type": "政策文件",
        "doc_number": "国卫办医政函〔2024〕12号",
        "issuer": "国家卫生健康委办公厅",
        "terms": ("电子病历",),
        "rules": ("病历动态",),
    }
    return ChannelItem(**(values | fields))


def alert(*items: ChannelItem) -> ChannelMessage:
    return ChannelMessage(
        event="alert", heading="【提醒：病历动态】新信息", items=items, rules=((7, "病历动态"),)
    )


def test_the_markdown_names_title_link_source_date_type_number_and_terms() -> None:
    text = render_markdown(alert(item()))
    assert (
        "**[关于推进电子病历系统应用水平分级评价的通知 1](https://hitwatch.example.org/items/doc1)**"
        in text
    )
    assert "来源：国家卫健委" in text and "日期：2024-07-01" in text and "类型：政策文件" in text
    assert "发文字号：国卫办医政函〔2024〕12号" in text and "命中：电子病历" in text
    assert "[原文](https://www.nhc.gov.cn/a/1.shtml)" in text


def test_a_story_of_several_rules_names_them() -> None:
    text = render_markdown(alert(item(rules=("病历动态", "医保信息化"))))
    assert "提醒：病历动态、医保信息化" in text


def test_crawled_text_cannot_make_links_or_html() -> None:
    text = render_markdown(
        alert(item(title="点此[领奖](https://evil.example)<b>x</b>", source="*来源*"))
    )
    assert "[领奖](https://evil.example)" not in text
    assert "\\[领奖\\]" in text and "\\<b\\>" in text and "\\*来源\\*" in text


def test_wecom_is_a_markdown_message_within_4096_bytes() -> None:
    many = alert(*(item(n, title="很长的标题" * 20) for n in range(60)))
    post = prepare_post(
        "wecom", "https://qyapi.example/send?key=k", "", many, now=NOW, delivery_id="d1"
    )
    data = json.loads(post.body)
    assert data["msgtype"] == "markdown"
    content = data["markdown"]["content"]
    assert len(content.encode()) <= 4096
    assert "另有" in content and "条未列出" in content


def test_dingtalk_is_signed_in_the_query_as_documented() -> None:
    secret = "SECabc"
    post = prepare_post(
        "dingtalk", "https://oapi.example/robot/send?access_token=t", secret, alert(item()),
        now=NOW, delivery_id="d1",
    )  # fmt: skip
    query = parse_qs(urlsplit(post.url).query)
    millis = int(NOW.timestamp() * 1000)
    assert query["access_token"] == ["t"] and query["timestamp"] == [str(millis)]
    expected = base64.b64encode(
        hmac.new(secret.encode(), f"{millis}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    assert query["sign"] == [expected]
    assert unquote_plus(dingtalk_sign(secret, millis)) == expected
    data = json.loads(post.body)
    assert data["msgtype"] == "markdown" and data["markdown"]["title"] == "【提醒：病历动态】新信息"


def test_feishu_is_a_signed_interactive_card() -> None:
    secret = "feishu-secret"
    post = prepare_post(
        "feishu", "https://open.example/open-apis/bot/v2/hook/x", secret, alert(item()),
        now=NOW, delivery_id="d1",
    )  # fmt: skip
    data = json.loads(post.body)
    seconds = int(NOW.timestamp())
    key = f"{seconds}\n{secret}".encode()
    assert data["timestamp"] == str(seconds)
    assert data["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert data["sign"] == feishu_sign(secret, seconds)
    assert data["msg_type"] == "interactive"
    assert data["card"]["header"]["title"]["content"] == "【提醒：病历动态】新信息"
    assert "电子病历" in data["card"]["elements"][0]["content"]


def test_unsigned_feishu_and_dingtalk_carry_no_signature() -> None:
    dingtalk = prepare_post(
        "dingtalk",
        "https://d/robot/send?access_token=t",
        "",
        alert(item()),
        now=NOW,
        delivery_id="d",
    )
    feishu = prepare_post("feishu", "https://f/hook/x", "", alert(item()), now=NOW, delivery_id="d")
    assert "sign=" not in dingtalk.url and "sign" not in json.loads(feishu.body)


def test_the_generic_webhook_is_signed_over_timestamp_and_body() -> None:
    post = prepare_post(
        "webhook", "https://h/x", "s3cret", alert(item()), now=NOW, delivery_id="d-42"
    )
    seconds = str(int(NOW.timestamp()))
    assert post.headers["X-Hitwatch-Timestamp"] == seconds
    assert post.headers["X-Hitwatch-Delivery"] == "d-42"
    expected = hmac.new(b"s3cret", seconds.encode() + b"." + post.body, hashlib.sha256).hexdigest()
    assert post.headers["X-Hitwatch-Signature"] == f"sha256={expected}"
    assert webhook_signature("s3cret", int(seconds), post.body) == f"sha256={expected}"
    data = json.loads(post.body)
    assert data["event"] == "alert" and data["delivery_id"] == "d-42"
    assert data["rules"] == [{"id": 7, "name": "病历动态"}]
    [entry] = data["items"]
    assert entry["doc_number"] == "国卫办医政函〔2024〕12号" and entry["terms"] == ["电子病历"]
    assert entry["published_at"] == "2024-07-01T02:00:00+00:00"


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown channel kind"):
        prepare_post("fax", "https://x", "", alert(item()), now=NOW, delivery_id="d")


def test_the_vault_seals_with_the_secret_key_and_says_when_it_changed() -> None:
    vault = Vault("k" * 40)
    sealed = vault.seal("https://oapi.dingtalk.com/robot/send?access_token=abc")
    assert "access_token" not in sealed
    assert vault.open(sealed).endswith("access_token=abc")
    with pytest.raises(VaultError, match="SECRET_KEY changed"):
        Vault("x" * 40).open(sealed)
    assert vault.seal("") == "" and vault.open("") == ""
