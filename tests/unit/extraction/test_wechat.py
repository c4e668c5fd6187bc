"""The WeChat article rule: title, account, publish time from script variables, body with
lazy images, the page's own long link; removed or blocked articles are told apart."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from classifier.extraction import extract_page
from classifier.extraction.dates import BEIJING
from classifier.extraction.wechat import page_link, script_time
from hitwatch.errors import ArticleRemovedError, ExtractionError
from hitwatch.sources.wechat import removal_notice

PAGE = Path(__file__).resolve().parents[2] / "fixtures" / "extraction" / "wechat_article.html"
SHORT = "https://mp.weixin.qq.com/s/8xYt0DemoArticle01"
LONG = (
    "https://mp.weixin.qq.com/s?__biz=MzI0MDAwMDAwMQ%3D%3D&mid=2247480001&idx=1&sn=5f1e0c2a9b7d4e3f"
)

REMOVED = """<!DOCTYPE html><html><head><meta charset="utf-8"><title></title></head><body>
<div class="weui-msg"><div class="weui-msg__icon-area"><i class="weui-icon-warn weui-icon_msg"></i></div>
<div class="weui-msg__text-area"><h2 class="weui-msg__title">{notice}</h2></div></div>
<script>var ct = "1721268000";</script></body></html>"""


@pytest.mark.parametrize("notice", ["该内容已被发布者删除", "此内容因违规无法查看"])
def test_a_removed_or_blocked_article_is_its_own_outcome(notice: str) -> None:
    page = REMOVED.format(notice=notice)
    assert removal_notice(page) == notice
    with pytest.raises(ArticleRemovedError, match=notice):
        extract_page(page.encode(), SHORT)


def test_removed_is_not_an_extraction_error() -> None:
    assert not issubclass(ArticleRemovedError, ExtractionError)


def test_an_article_quoting_a_removal_notice_is_still_an_article() -> None:
    html = PAGE.read_text("utf-8").replace(
        "定期开展数据质量自查。", "定期开展数据质量自查。有读者反映原文显示“该内容已被发布者删除”。"
    )
    assert removal_notice(html) == ""
    assert extract_page(html.encode(), SHORT).title.startswith("三级医院电子病历评级")


def test_publish_time_from_script_variables() -> None:
    assert script_time('var ct = "1721268000";') == datetime(2024, 7, 18, 10, tzinfo=BEIJING)
    assert script_time("var createTime = '2024-07-18 09:05';") == datetime(
        2024, 7, 18, 9, 5, tzinfo=BEIJING
    )
    assert script_time("var nothing = 1;") is None


def test_the_page_names_its_long_link_whichever_form_was_fetched() -> None:
    html = PAGE.read_text("utf-8")
    assert page_link(html) == LONG
    variables_only = html.replace("var msg_link", "var other_link")
    assert page_link(variables_only) == LONG
    assert extract_page(html.encode(), SHORT).canonical_url == LONG


def test_account_from_the_page_when_no_source_names_it() -> None:
    article = extract_page(PAGE.read_bytes(), SHORT)
    assert article.source_name == "医信观察"
    assert article.author == "李明"
    assert "关注该公众号" not in article.body
