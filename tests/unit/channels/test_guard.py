"""Channel URLs behind the fetch guard: https only (http with CHANNEL_ALLOW_HTTP), no
loopback, private or link-local address (literal or resolved) unless CHANNEL_ALLOWED_HOSTS
names the host; checked when a channel is added and again before every post."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hitwatch.channels import (
    ChannelError,
    ChannelMessage,
    HttpPoster,
    Vault,
    add_channel,
    prepare_post,
)
from hitwatch.settings import load_settings

PUBLIC = {
    "oapi.dingtalk.com": ["47.95.1.1"],
    "inside.example": ["10.1.2.3"],
    "meta.example": ["169.254.169.254"],
}


def resolver(host: str) -> list[str]:
    if host not in PUBLIC:
        raise OSError("no such host")
    return PUBLIC[host]


def poster(tmp_path, **overrides) -> HttpPoster:
    return HttpPoster.from_settings(load_settings(data_dir=tmp_path, **overrides), resolve=resolver)


@pytest.mark.parametrize(
    "url, problem",
    [
        ("https://127.0.0.1/robot/send", "loopback"),
        ("https://10.0.0.8/hook", "private"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://inside.example/hook", "private"),
        ("https://meta.example/hook", "link-local"),
        ("https://[::1]/hook", "loopback"),
        ("https://[::ffff:10.0.0.1]/hook", "private"),
    ],
)
def test_internal_addresses_are_refused_without_the_allowance(tmp_path, url, problem):
    refused = poster(tmp_path).url_problem(url)
    assert refused is not None and problem in refused and "CHANNEL_ALLOWED_HOSTS" in refused
    assert "FETCH_ALLOW_PRIVATE" not in refused


def test_named_hosts_are_allowed(tmp_path):
    allowing = poster(tmp_path, channel_allowed_hosts="inside.example, 127.0.0.1")
    assert allowing.url_problem("https://inside.example/hook") is None
    assert allowing.url_problem("https://127.0.0.1/hook") is None
    assert allowing.url_problem("https://10.0.0.8/hook") is not None


def test_https_only_unless_http_is_allowed(tmp_path):
    assert "https://" in poster(tmp_path).url_problem("http://oapi.dingtalk.com/robot/send")
    assert (
        poster(tmp_path, channel_allow_http=True).url_problem("http://oapi.dingtalk.com/x") is None
    )
    assert (
        poster(tmp_path, channel_allow_http=True).url_problem("ftp://oapi.dingtalk.com/x")
        is not None
    )
    assert (
        poster(tmp_path).url_problem("https://oapi.dingtalk.com/robot/send?access_token=x") is None
    )


def test_adding_a_channel_checks_its_url_and_hides_it(tmp_path, database):
    vault = Vault("k" * 40)
    with pytest.raises(ChannelError) as refused:
        add_channel(
            database, vault, poster(tmp_path), "a@example.org", "webhook", "https://10.0.0.8/x"
        )
    assert refused.value.key == "refused"
    with pytest.raises(ChannelError) as unresolved:
        add_channel(
            database,
            vault,
            poster(tmp_path),
            "a@example.org",
            "webhook",
            "https://nowhere.example/x",
        )
    assert unresolved.value.key == "unresolved"
    with pytest.raises(ChannelError):
        add_channel(
            database, vault, poster(tmp_path), "a@example.org", "fax", "https://oapi.dingtalk.com/x"
        )
    made = add_channel(
        database, vault, poster(tmp_path), "a@example.org", "dingtalk",
        "https://oapi.dingtalk.com/robot/send?access_token=abcdef123456", secret="SECsecret",
    )  # fmt: skip
    assert "abcdef12" not in made.url_encrypted and "SECsecret" not in made.secret_encrypted
    assert made.url_hint == "https://oapi.dingtalk.com/robot/send?…3456"


def test_a_post_is_checked_again_and_makes_no_request_when_refused(tmp_path):
    message = ChannelMessage(event="test", heading="h", note="n")
    post = prepare_post(
        "webhook", "https://10.0.0.8/hook", "", message, now=datetime.now(UTC), delivery_id="d"
    )
    result = poster(tmp_path)("webhook", post)
    assert not result.ok and not result.retryable and "private" in result.error
    assert result.http_status is None


def test_a_name_that_does_not_resolve_now_is_retried(tmp_path):
    post = prepare_post(
        "wecom",
        "https://gone.example/send?key=k",
        "",
        ChannelMessage("test", "h", note="n"),
        now=datetime.now(UTC),
        delivery_id="d",
    )
    result = poster(tmp_path)("wecom", post)
    assert not result.ok and result.retryable and "does not resolve" in result.error
