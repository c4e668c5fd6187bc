"""The guarded resolver: what a connection is handed is a checked address."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from scrapy.settings import Settings as ScrapySettings
from twisted.internet import reactor
from twisted.internet.error import DNSLookupError

from crawler.config import fetch_guard_options
from crawler.resolver import GuardedResolver
from hitwatch.settings import Settings


def resolver(settings: Settings, *, demo: bool = False) -> GuardedResolver:
    options = ScrapySettings(fetch_guard_options(settings, demo=demo))
    return GuardedResolver.from_crawler(SimpleNamespace(settings=options), reactor)


def test_a_name_answering_with_a_private_address_is_refused(settings: Settings) -> None:
    guarded = resolver(settings)
    assert guarded.check("93.184.216.34", "news.example.cn") == "93.184.216.34"
    for address, problem in (("127.0.0.1", "loopback"), ("10.2.3.4", "private")):
        with pytest.raises(
            DNSLookupError, match=f"rebind.example.cn resolves to {address}, a {problem}"
        ):
            guarded.check(address, "rebind.example.cn")


def test_the_settings_and_the_demo_mirror_are_allowed(settings: Settings) -> None:
    with pytest.raises(DNSLookupError):
        resolver(settings).check("127.0.0.1", "127.0.0.1")
    assert resolver(settings, demo=True).check("127.0.0.1", "127.0.0.1") == "127.0.0.1"
    named = settings.model_copy(update={"fetch_allowed_hosts": "intranet.hospital"})
    assert resolver(named).check("192.168.1.5", "Intranet.Hospital.") == "192.168.1.5"
    with pytest.raises(DNSLookupError):
        resolver(named).check("192.168.1.5", "other.hospital")
    anything = settings.model_copy(update={"fetch_allow_private": True})
    assert resolver(anything).check("10.0.0.1", "db.internal") == "10.0.0.1"
