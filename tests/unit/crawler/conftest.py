"""Fixtures for crawler unit tests: the mirror app through Flask's test client, no network."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from crawler.listing import buildstatic_call
from crawler.mirror.app import MirrorConfig, create_app
from crawler.mirror.challenge import expected_cookie
from crawler.mirror.mapping import mirror_url
from crawler.spiders.source import page_url
from hitwatch.sources import ListEndpoint

SECRET = MirrorConfig().challenge_secret


@pytest.fixture
def mirror() -> FlaskClient:
    return create_app().test_client()


@pytest.fixture
def passed_mirror(mirror: FlaskClient) -> FlaskClient:
    """A client that already answered the cookie challenges."""
    for host in ("www.nhc.gov.cn", "www.nmpa.gov.cn"):
        name, value = expected_cookie(SECRET, host)
        mirror.set_cookie(name, value, domain="localhost")
    return mirror


Fetch = Callable[[ListEndpoint, int], tuple[bytes, str]]


@pytest.fixture
def fetch_list(passed_mirror: FlaskClient) -> Fetch:
    """Bytes and content type of a list page as the spider would get them (js_json: the JSON)."""

    def fetch(endpoint: ListEndpoint, page: int = 1) -> tuple[bytes, str]:
        path = mirror_url("", page_url(endpoint, page))
        if endpoint.method == "POST":
            answer = passed_mirror.post(path, data=endpoint.form)
        else:
            answer = passed_mirror.get(path)
        assert answer.status_code == 200, (path, answer.status_code)
        if endpoint.type == "js_json":
            call = buildstatic_call(answer.data.decode("utf-8"), endpoint.url)
            assert call is not None
            answer = passed_mirror.get(
                mirror_url("", call.url),
                query_string=call.params,
                headers={"Referer": endpoint.url},
            )
            assert answer.status_code == 200
        return answer.data, answer.content_type

    return fetch
