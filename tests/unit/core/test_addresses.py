"""The fetch guard's address rule, with a fake resolver (no DNS)."""

from __future__ import annotations

import ipaddress

import pytest

from hitwatch.addresses import FetchGuard, FetchRefusedError, address_problem
from hitwatch.errors import TransientError
from hitwatch.settings import Settings

NAMES = {
    "news.example.cn": ["203.0.113.9", "93.184.216.34"],  # one documentation address
    "public.example.cn": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
    "rebind.example.cn": ["93.184.216.34", "10.1.2.3"],
    "metadata.example.cn": ["169.254.169.254"],
    "intranet.hospital": ["192.168.10.5"],
    "v6local.example.cn": ["fe80::1%eth0"],
}


def fake_resolve(host: str) -> list[str]:
    if host not in NAMES:
        raise OSError(f"[Errno -2] Name or service not known: {host}")
    return NAMES[host]


def guard(**kwargs: object) -> FetchGuard:
    return FetchGuard(resolve=fake_resolve, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("100.64.0.1", "not globally routable"),  # carrier-grade NAT
        ("198.18.0.1", "private"),  # benchmarking
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "link-local"),
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
    ],
)
def test_non_public_addresses_are_named(address: str, problem: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) == problem


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_unicast_addresses_pass(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) is None


def test_every_address_of_a_name_is_checked() -> None:
    guard().check_url("https://public.example.cn/a.html")
    with pytest.raises(FetchRefusedError, match=r"rebind\.example\.cn resolves to 10\.1\.2\.3"):
        guard().check_url("http://rebind.example.cn/")
    with pytest.raises(FetchRefusedError, match="link-local"):
        guard().check_url("http://metadata.example.cn/latest/meta-data/")
    with pytest.raises(FetchRefusedError, match="link-local"):
        guard().check_url("http://v6local.example.cn/")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:6379/",
        "http://[::1]:8000/",
        "http://[::ffff:7f00:1]/",
        "http://0.0.0.0/",
        "http://LOCALHOST./",
        "http://2130706433/",  # 127.0.0.1 as one number: resolved by the (fake) resolver
    ],
)
def test_literal_and_local_hosts_are_refused_with_the_setting_that_allows_them(url: str) -> None:
    NAMES.setdefault("localhost", ["127.0.0.1", "::1"])
    NAMES.setdefault("2130706433", ["127.0.0.1"])
    with pytest.raises(FetchRefusedError) as refused:
        guard().check_url(url)
    message = str(refused.value)
    assert message.startswith(f"refused to fetch {url}: ")
    assert "FETCH_ALLOWED_HOSTS" in message and "FETCH_ALLOW_PRIVATE=true" in message


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://news.example.cn/a", "data:text/html,x", "s3://b/k"]
)
def test_only_http_and_https_are_fetched_whatever_the_settings(url: str) -> None:
    with pytest.raises(FetchRefusedError, match="only http and https"):
        guard(allow_private=True).check_url(url)


def test_settings_allow_private_addresses_or_named_hosts() -> None:
    guard(allow_private=True).check_url("http://127.0.0.1:8765/page")
    allowed = guard(allowed_hosts=frozenset({"intranet.hospital", "127.0.0.1"}))
    allowed.check_url("http://intranet.hospital/news/1.html")
    allowed.check_url("http://127.0.0.1:9/")
    with pytest.raises(FetchRefusedError):
        allowed.check_url("http://[::1]/")


def test_a_name_that_does_not_resolve_is_transient() -> None:
    with pytest.raises(TransientError, match="does not resolve"):
        guard().check_url("http://nowhere.example.cn/")


def test_from_settings_reads_both_settings() -> None:
    settings = Settings(
        FETCH_ALLOWED_HOSTS=" Intranet.Hospital. , [::1],", FETCH_ALLOW_PRIVATE=False
    )
    built = FetchGuard.from_settings(settings, resolve=fake_resolve)
    assert built.allowed_hosts == frozenset({"intranet.hospital", "::1"})
    assert not built.allow_private
    built.check_url("http://[::1]:8000/")
