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


WECHAT_LONG = (
    "https://mp.weixin.qq.com/s?__biz=MzI0MDAwMDAwMQ%3D%3D&mid=2247480001&idx=1&sn=5f1e0c2a9b7d4e3f"
)


@pytest.mark.parametrize(
    "url",
    [
        "http://mp.weixin.qq.com/s?__biz=MzI0MDAwMDAwMQ==&mid=2247480001&idx=1"
        "&sn=5f1e0c2a9b7d4e3f&chksm=e90000aa&scene=21#rd",
        "https://mp.weixin.qq.com/s?sn=5f1e0c2a9b7d4e3f&idx=1&mid=2247480001"
        "&__biz=MzI0MDAwMDAwMQ%3D%3D&sessionid=1721268300&key=abc&ascene=1&uin=MTIz"
        "&devicetype=iOS17&version=18&exportkey=n_ChQ&pass_ticket=x%2By#wechat_redirect",
        "https://mp.weixin.qq.com/mp/appmsg/show?__biz=MzI0MDAwMDAwMQ==&appmsgid=2247480001"
        "&itemidx=1&sn=5f1e0c2a9b7d4e3f#wechat_redirect",
    ],
)
def test_wechat_long_links_keep_only_what_names_the_article(url: str) -> None:
    assert canonical_url(url) == WECHAT_LONG


def test_wechat_short_links_keep_their_path_alone() -> None:
    assert (
        canonical_url("http://mp.weixin.qq.com/s/8xYt0DemoArticle01?scene=1&chksm=e9#rd")
        == "https://mp.weixin.qq.com/s/8xYt0DemoArticle01"
    )
