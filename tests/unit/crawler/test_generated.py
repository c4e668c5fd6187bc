"""The soak's generated articles and the mirror that publishes them in waves."""

import re
from datetime import datetime

from crawler.mirror.app import CHALLENGED_HOSTS, Catalogue, MirrorConfig, create_app
from crawler.mirror.generated import generate_waves
from hitwatch.sources import load_sources

NOW = datetime(2026, 12, 6, 20, 0)


def test_waves_hold_every_item_once_in_urls_the_sources_accept():
    waves = generate_waves(1500, now=NOW, per_list=30)
    articles = [a for wave in waves for a in wave]
    assert len(articles) == 1500
    assert len({a.url for a in articles}) == 1500
    patterns = {s.id: [x.link_pattern for x in s.lists if x.link_pattern] for s in load_sources()}
    for article in articles:
        accepted = patterns[article.source]
        assert not accepted or any(re.search(p, article.url) for p in accepted), article.url
    # A paged list shows what three pages hold; every other list at most per_list.
    for wave in waves:
        nhc = [a for a in wave if a.source == "nhc" and a.list == "zcfg"]
        assert len(nhc) <= 6
    assert any(a.broken for a in articles)
    titles = [a.title for a in articles]
    assert len(set(titles)) < len(titles), "reprints repeat an earlier article"


def test_generation_is_deterministic():
    first = generate_waves(300, now=NOW)
    again = generate_waves(300, now=NOW)
    assert [a.url for w in first for a in w] == [a.url for w in again for a in w]


def test_the_mirror_lists_the_latest_wave_and_serves_every_published_page():
    first, second = generate_waves(90, now=NOW, per_list=1)[:2]
    catalogue = Catalogue()
    client = create_app(MirrorConfig(catalogue=catalogue)).test_client()
    catalogue.publish(first)
    old = next(a for a in first if a.source == "bjnews" and not a.broken)
    assert old.title in client.get("/www.bjnews.com.cn/health").get_data(as_text=True)
    catalogue.publish(second)
    assert old.title not in client.get("/www.bjnews.com.cn/health").get_data(as_text=True)
    page = client.get(f"/www.bjnews.com.cn{old.path}")
    assert page.status_code == 200 and old.title in page.get_data(as_text=True)


def test_a_broken_article_is_served_as_bytes_that_are_no_page():
    waves = generate_waves(1500, now=NOW)
    broken = next(a for wave in waves for a in wave if a.broken and a.host not in CHALLENGED_HOSTS)
    catalogue = Catalogue()
    catalogue.publish([broken])
    page = (
        create_app(MirrorConfig(catalogue=catalogue))
        .test_client()
        .get(f"/{broken.host}{broken.path}")
    )
    assert page.status_code == 200
    assert b"<html" not in page.data.lower() and broken.title.encode() not in page.data
