"""The 412 cookie challenge: the emulator and the downloader middleware."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse

from crawler.challenge import ChallengeError, solve_cookie_challenge
from crawler.middlewares import MAX_CHALLENGES, CookieChallengeMiddleware
from crawler.mirror.app import MirrorConfig
from crawler.mirror.challenge import expected_cookie

SECRET = MirrorConfig().challenge_secret


@pytest.mark.parametrize("host", ["www.nhc.gov.cn", "www.nmpa.gov.cn"])
def test_emulator_computes_the_cookie_the_mirror_expects(mirror, host: str) -> None:
    answer = mirror.get(f"/{host}/")
    assert answer.status_code == 412
    assert solve_cookie_challenge(answer.data.decode()) == expected_cookie(SECRET, host)


def test_emulator_handles_javascript_string_and_number_mixing() -> None:
    page = """<script>var a = 7; var b = "x" + (a * 3 - 1) % 6; var $c=a+1;
    document.cookie = "k=" + b + "-" + $c + "; path=/"; location.reload();</script>"""
    assert solve_cookie_challenge(page) == ("k", "x2-8")


@pytest.mark.parametrize(
    "page",
    [
        "<script>location.reload()</script>",
        "<script>document.cookie = window.atob('eD0x'); location.reload();</script>",
        "<script>document.cookie = undefinedName + 'x'; location.reload();</script>",
    ],
)
def test_emulator_refuses_what_it_cannot_read(page: str) -> None:
    with pytest.raises(ChallengeError):
        solve_cookie_challenge(page)


def _response(request: Request, status: int, body: bytes) -> HtmlResponse:
    return HtmlResponse(
        url=request.url, status=status, body=body, request=request, encoding="utf-8"
    )


def test_middleware_answers_a_challenge_with_the_cookie(mirror) -> None:
    request = Request("http://127.0.0.1/www.nhc.gov.cn/wjw/zcfg/list.shtml", meta={"real_url": "x"})
    body = mirror.get("/www.nhc.gov.cn/wjw/zcfg/list.shtml").data
    retried = CookieChallengeMiddleware().process_response(request, _response(request, 412, body))
    assert isinstance(retried, Request)
    name, value = expected_cookie(SECRET, "www.nhc.gov.cn")
    assert retried.cookies == {name: value}
    assert retried.dont_filter is True
    assert retried.meta == {"real_url": "x", "challenges": 1}


def test_middleware_gives_up_after_repeated_refusals(mirror) -> None:
    request = Request("http://127.0.0.1/www.nhc.gov.cn/", meta={"challenges": MAX_CHALLENGES})
    body = mirror.get("/www.nhc.gov.cn/").data
    response = _response(request, 412, body)
    assert CookieChallengeMiddleware().process_response(request, response) is response


def test_middleware_leaves_other_answers_alone() -> None:
    request = Request("http://127.0.0.1/www.gov.cn/")
    for status, body in (
        (200, b"<html>document.cookie</html>"),
        (412, b"<html>Precondition Failed</html>"),
    ):
        response = _response(request, status, body)
        assert CookieChallengeMiddleware().process_response(request, response) is response
