"""The fetch guard in real `hitwatch crawl --live --url` processes, against a local site.

127.0.0.1 is exactly what the guard refuses, so the site is refused unless a setting
allows it; a redirect from an allowed host (`localhost`) to 127.0.0.1 is refused at the hop.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, redirect, request
from sqlalchemy import select

from crawler.mirror.serve import serve_in_thread
from hitwatch.store import Failure
from tests.integration.crawler.test_crawl import classify_items

HITWATCH = str(Path(sys.executable).with_name("hitwatch"))
ARTICLE = (
    "<html><head><title>关于推进医疗机构电子病历应用的通知</title></head><body><h1>关于推进医疗机构"
    "电子病历应用的通知</h1><div class='content'><p>各省卫生健康委：为推进电子病历系统应用水平分级"
    "评价工作，现将有关事项通知如下。</p></div></body></html>"
)


@pytest.fixture
def site() -> Iterator[tuple[str, Counter[str]]]:
    app = Flask("local-site")
    hits: Counter[str] = Counter()

    @app.before_request
    def count() -> None:
        hits[request.path] += 1

    @app.get("/article.html")
    def article() -> tuple[str, int, dict[str, str]]:
        return ARTICLE, 200, {"Content-Type": "text/html; charset=utf-8"}

    @app.get("/redirect")
    def hop():  # type: ignore[no-untyped-def]
        port = request.host.rsplit(":", 1)[1]
        return redirect(f"http://127.0.0.1:{port}/article.html", 302)

    with serve_in_thread(app) as base:
        yield base, hits


@pytest.fixture
def env(settings, database, isolated_redis_url: str) -> dict[str, str]:
    return {
        "HITWATCH_DATA_DIR": str(settings.data_dir),
        "REDIS_URL": isolated_redis_url,
        "LOG_LEVEL": "WARNING",
        "PATH": str(Path(sys.executable).parent),
    }


def crawl(env: dict[str, str], url: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HITWATCH, "crawl", "--live", "--source", "nhc", "--url", url],
        env={**env, **extra},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_private_address_is_refused_before_anything_is_fetched(env, site) -> None:
    base, hits = site
    done = crawl(env, f"{base}/article.html")
    assert done.returncode == 1
    assert (
        f"refused to fetch {base}/article.html: 127.0.0.1 is a loopback address. Set"
        " FETCH_ALLOWED_HOSTS (to this host) or FETCH_ALLOW_PRIVATE=true to allow it."
    ) in done.stderr
    assert sum(hits.values()) == 0


def test_the_setting_allows_it(env, site, isolated_redis_url) -> None:
    base, hits = site
    done = crawl(env, f"{base}/article.html", FETCH_ALLOW_PRIVATE="true")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 items sent to classify, 0 errors" in done.stdout
    assert hits["/article.html"] == 1
    [item] = classify_items(isolated_redis_url)
    assert item.url == f"{base}/article.html"


def test_a_redirect_from_an_allowed_host_to_a_private_address_is_refused(
    env, site, database, isolated_redis_url
) -> None:
    base, hits = site
    port = base.rsplit(":", 1)[1]
    done = crawl(env, f"http://localhost:{port}/redirect", FETCH_ALLOWED_HOSTS="localhost")
    assert done.returncode == 0, done.stdout + done.stderr
    refusal = f"refused to fetch {base}/article.html: 127.0.0.1 is a loopback address"
    assert f"! {refusal}" in done.stdout
    assert "0 items sent to classify, 1 errors" in done.stdout
    assert hits["/redirect"] == 1 and hits["/article.html"] == 0
    assert classify_items(isolated_redis_url) == []
    with database.session() as session:
        [failure] = session.scalars(select(Failure)).all()
    assert (
        refusal in failure.error_message
        and failure.payload["url"] == f"http://localhost:{port}/redirect"
    )


# A crawl in a child process whose request check is switched off, so that only the
# resolver stands between a name and its private address (as in DNS rebinding, where the
# name the check resolved answers differently when the connection resolves it).
RESOLVER_ONLY = """
import logging
import sys
from crawler.middlewares import FetchGuardMiddleware
from crawler.run import run_crawl
from hitwatch.settings import load_settings
from hitwatch.sources import load_sources

async def unchecked(self, request):
    return None

FetchGuardMiddleware.process_request = unchecked
logging.basicConfig(level=logging.WARNING)
[source] = [s for s in load_sources() if s.id == "nhc"]
[run] = run_crawl(load_settings(), [source], demo=False, articles=[sys.argv[1]])
print(f"fetched={run.articles_fetched} sent={run.items_sent} errors={run.errors}")
"""


def test_the_resolver_refuses_a_name_that_answers_with_a_private_address(
    env, site, database
) -> None:
    base, hits = site
    port = base.rsplit(":", 1)[1]
    url = f"http://localhost:{port}/article.html"
    done = subprocess.run(
        [sys.executable, "-c", RESOLVER_ONLY, url],
        env={**env, "PYTHONPATH": str(Path(__file__).resolve().parents[3])},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "fetched=0 sent=0 errors=1" in done.stdout, done.stdout + done.stderr
    assert hits["/article.html"] == 0
    refusal = "localhost resolves to 127.0.0.1, a loopback address: refused by the fetch guard"
    assert refusal in done.stderr
    with database.session() as session:
        [failure] = session.scalars(select(Failure)).all()
    assert "DNS lookup failed" in failure.error_message  # Twisted's words for any refusal
