"""canonical_url: one spelling per article."""

import pytest

from classifier.urls import canonical_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "http://www.gov.cn/zhengce/content/2019-01/30/content_5362266.htm",
            "https://www.gov.cn/zhengce/content/2019-01/30/content_5362266.htm",
        ),
        (
            "https://m.thepaper.cn/newsDetail_forward_1?from=timeline&utm_source=wx#top",
            "https://www.thepaper.cn/newsDetail_forward_1",
        ),
        (
            "https://wap.news.example.cn/a/1.html?spm=a.b&id=7&share_token=x",
            "https://news.example.cn/a/1.html?id=7",
        ),
        ("https://3g.163.com/dy/article/X.html", "https://www.163.com/dy/article/X.html"),
        ("http://www.nhc.gov.cn/xxgk/index.html", "https://www.nhc.gov.cn/xxgk"),
        ("HTTPS://WWW.Example.com:443/news/", "https://www.example.com/news"),
        ("https://www.example.com/?b=2&a=1", "https://www.example.com?a=1&b=2"),
        ("https://www.example.com:8080/x", "https://www.example.com:8080/x"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_canonical_url_is_idempotent() -> None:
    once = canonical_url("http://m.example.cn/a/index.html?utm_medium=x&p=2#f")
    assert canonical_url(once) == once
