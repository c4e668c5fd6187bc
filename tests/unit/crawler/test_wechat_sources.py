"""公众号 sources as data: the bundled list is off until WECHAT_BRIDGE_URL names a
bridge's all-accounts feed; the demo's made-up account stays out of live mode."""

from __future__ import annotations

from hitwatch.schedule import beat_schedule
from hitwatch.settings import load_settings
from hitwatch.sources import configured_sources
from hitwatch.sources.wechat import bundled_accounts

BRIDGE = "http://127.0.0.1:4000/feeds/all.atom"


def test_the_bundled_accounts_are_off_by_default(tmp_path) -> None:
    settings = load_settings(data_dir=tmp_path, crawl_mode="live")
    ids = {source.id for source in configured_sources(settings)}
    assert not any(source_id.startswith("mp_") for source_id in ids)


def test_a_bridge_url_turns_every_bundled_account_into_a_source(tmp_path) -> None:
    settings = load_settings(
        data_dir=tmp_path, crawl_mode="live", wechat_bridge_url=BRIDGE, wechat_stale_days=4
    )
    sources = {s.id: s for s in configured_sources(settings) if s.wechat is not None}
    assert set(sources) == {f"mp_{account.id}" for account in bundled_accounts()}
    for account in bundled_accounts():
        source = sources[f"mp_{account.id}"]
        assert source.name == account.name
        assert source.wechat is not None and source.wechat.stale_after_days == 4
        (endpoint,) = source.lists
        assert (endpoint.url, endpoint.type, endpoint.account) == (BRIDGE, "feed", account.name)
    schedule = beat_schedule(settings)
    assert all(f"crawl {source_id}" in schedule for source_id in sources)


def test_the_demo_account_is_crawled_in_demo_mode_only(tmp_path) -> None:
    demo = {s.id for s in configured_sources(load_settings(data_dir=tmp_path, crawl_mode="demo"))}
    live = {s.id for s in configured_sources(load_settings(data_dir=tmp_path, crawl_mode="live"))}
    assert "mp_yixin_demo" in demo
    assert "mp_yixin_demo" not in live
    assert demo - live == {"mp_yixin_demo"}
