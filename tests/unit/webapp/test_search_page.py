"""The search page: highlighting, filters, story collapsing, errors."""

from collections.abc import Callable
from xml.etree import ElementTree

from flask.testing import FlaskClient

from tests.factories import BIGDATA, FORUM, HOSTILE, LLM, POLICY, SAMPLE, Doc, filler
from webapp.search import FEED_SIZE


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def test_empty_search_shows_the_form_and_help(client: FlaskClient) -> None:
    response = client.get("/search")
    assert response.status_code == 200
    page = text(response)
    assert "查询语法" in page and '<details class="help" open>' in page
    assert "输入关键词" in page


def test_chinese_substring_query_is_highlighted(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    seed(SAMPLE)
    page = text(client.get("/search", query_string={"q": "大模型"}))
    assert "<mark>大模型</mark>" in page
    assert f'href="/items/{LLM.doc_id}"' in page
    assert f'href="/items/{BIGDATA.doc_id}"' not in page
    assert 'value="大模型"' in page  # the query stays in the box


def test_terms_are_all_required(client: FlaskClient, seed: Callable[[list[Doc]], None]) -> None:
    seed(SAMPLE)
    page = text(client.get("/search", query_string={"q": "大模型 腾讯"}))
    assert f'href="/items/{LLM.doc_id}"' in page
    assert f'href="/items/{FORUM.doc_id}"' not in page  # has 大模型, lacks 腾讯
    assert "<mark>大模型</mark>" in page and "<mark>腾讯</mark>" in page


def test_copies_of_one_story_are_shown_once(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    seed(SAMPLE)
    page = text(client.get("/search", query_string={"q": "朝阳区 论坛"}))
    assert page.count('class="item result"') == 1
    assert "2 篇报道" in page
    also = page.split('<details class="also', 1)[1].split("</details>", 1)[0]
    assert "另见" in also and also.count("<a href=") == 1


def test_stories_are_collapsed_across_pages(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    copies = [
        Doc(f"copy-{n}", f"区域全民健康信息平台第{n}次报道", "平台建设。", story_id="s-one",
            source_id=f"src{n % 2}", source_name=f"来源{n % 2}")
        for n in range(4)
    ]  # fmt: skip
    seed([*copies, *filler(3)])
    seen: list[str] = []
    for number in (1, 2, 3, 4):
        body = client.get(
            "/api/v1/search", query_string={"q": "全民健康信息平台", "per_page": 1, "page": number}
        ).get_json()
        assert body["pagination"]["total"] == 4  # one story of four copies + three fillers
        seen.extend(result["story_id"] for result in body["results"])
        for result in body["results"]:
            if result["story_id"] == "s-one":
                assert result["story_size"] == 4
                # the other outlet once, however many copies it has
                assert [a["source_name"] for a in result["also"]] == [
                    "来源1" if result["source_name"] == "来源0" else "来源0"
                ]
    assert sorted(seen) == sorted({"s-one", *(doc.story_id for doc in filler(3))})


def test_source_filter_and_date_range(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    seed(SAMPLE)
    by_source = text(client.get("/search", query_string={"q": "数字医疗", "source": "bjnews"}))
    assert f'href="/items/{LLM.doc_id}"' in by_source
    assert f'href="/items/{FORUM.doc_id}"' not in by_source
    assert '<option value="bjnews" selected>' in by_source

    # POLICY is 2024-07-12 09:00 Shanghai; a range ending 07-11 excludes it, one day later not.
    query = {"q": "电子病历", "from": "2024-07-01", "to": "2024-07-11"}
    assert f'href="/items/{POLICY.doc_id}"' not in text(client.get("/search", query_string=query))
    query["to"] = "2024-07-12"
    assert f'href="/items/{POLICY.doc_id}"' in text(client.get("/search", query_string=query))


def test_filters_alone_search_without_terms(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    seed(SAMPLE)
    page = text(client.get("/search", query_string={"source": "chinanews"}))
    assert f'href="/items/{BIGDATA.doc_id}"' in page


def test_no_results_says_what_to_try(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    seed(SAMPLE)
    page = text(client.get("/search", query_string={"q": "量子计算"}))
    assert "没有找到匹配的结果" in page and "减少关键词" in page


def test_bad_date_is_explained(client: FlaskClient) -> None:
    response = client.get("/search", query_string={"q": "医保", "from": "7月1日"})
    assert response.status_code == 400
    assert "日期格式应为 YYYY-MM-DD" in text(response)
    reversed_range = client.get("/search", query_string={"from": "2024-07-31", "to": "2024-07-01"})
    assert "开始日期晚于结束日期" in text(reversed_range)


def test_results_paginate_and_keep_the_query(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    seed(filler(30))
    first = text(client.get("/search", query_string={"q": "全民健康", "sort": "date"}))
    assert "找到 30 条新闻" in first
    assert "第 1 页，共 2 页" in first
    assert "page=2" in first and "sort=date" in first
    second = text(client.get("/search", query_string={"q": "全民健康", "sort": "date", "page": 2}))
    assert "第 2 页，共 2 页" in second and "第1条" in second


def test_markup_in_results_is_escaped(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    seed([HOSTILE])
    page = text(client.get("/search", query_string={"q": "医保"}))
    assert "<mark>医保</mark>" in page
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "<img src=x" not in page
    assert "<b>某网站</b>" not in page
    script = text(client.get("/search", query_string={"q": "<script>"}))
    assert "<script>" not in script


def test_query_language_or_not_and_fields(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    seed(SAMPLE)
    page = text(client.get("/search", query_string={"q": "大模型 -腾讯"}))
    assert f'href="/items/{FORUM.doc_id}"' in page
    assert f'href="/items/{LLM.doc_id}"' not in page
    assert "<mark>腾讯</mark>" not in page  # negated terms are not highlighted

    page = text(client.get("/search", query_string={"q": "(大模型 | 大数据) source:chinanews"}))
    assert f'href="/items/{BIGDATA.doc_id}"' in page
    assert f'href="/items/{LLM.doc_id}"' not in page

    page = text(client.get("/search", query_string={"q": "type:政策文件 month:2024-07"}))
    assert f'href="/items/{POLICY.doc_id}"' in page
    assert page.count('class="item result"') == 1


def test_synonyms_are_searched_and_highlighted(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    seed(SAMPLE)
    page = text(client.get("/search", query_string={"q": "EMR"}))
    assert f'href="/items/{POLICY.doc_id}"' in page
    assert "<mark>电子病历</mark>" in page


def test_malformed_query_shows_where(client: FlaskClient) -> None:
    response = client.get("/search", query_string={"q": "(医保 | DRG"})
    assert response.status_code == 400
    page = text(response)
    assert "查询语句有误：第 1 个字符处：括号没有闭合" in page
    assert '<pre class="query-error">' in page and "(医保 | DRG\n" in page and "^</pre>" in page
    assert 'value="(医保 | DRG"' in page  # the query stays in the box to be fixed


def test_help_panel_documents_the_language(client: FlaskClient) -> None:
    page = text(client.get("/search"))
    example = (
        "电子病历 &#34;互联网医院&#34; (医保 | DRG) -广告 source:nhc type:政策文件 month:2024-07"
    )
    assert example in page or example.replace("&#34;", '"') in page
    for syntax in ("OR", "NOT", "issuer:", "docno:", "region:", "topic:", "after:", "before:"):
        assert syntax in page


def test_search_feed_lists_the_latest_matches(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    seed(SAMPLE)
    page = text(client.get("/search", query_string={"q": "数字医疗 | 电子病历"}))
    assert 'href="/search.atom?q=' in page and "订阅此搜索" in page

    response = client.get("/search.atom", query_string={"q": "数字医疗 | 电子病历"})
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    feed = ElementTree.fromstring(response.get_data())
    atom = "{http://www.w3.org/2005/Atom}"
    entries = feed.findall(f"{atom}entry")
    links = [entry.find(f"{atom}link").get("href") for entry in entries]  # type: ignore[union-attr]
    assert links[0].endswith(f"/items/{POLICY.doc_id}")  # the newest match first
    assert any(link.endswith(f"/items/{LLM.doc_id}") for link in links)
    assert not any(link.endswith(f"/items/{BIGDATA.doc_id}") for link in links)
    published = [entry.findtext(f"{atom}published") for entry in entries]
    assert published == sorted(published, reverse=True)
    assert feed.findtext(f"{atom}title") == "搜索：数字医疗 | 电子病历 · 卫生信息化监测"


def test_search_feed_escapes_and_caps(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    seed([HOSTILE, *filler(60)])
    response = client.get("/search.atom")
    assert b"<script>" not in response.get_data()
    entries = ElementTree.fromstring(response.get_data()).findall(
        "{http://www.w3.org/2005/Atom}entry"
    )
    assert len(entries) == FEED_SIZE
    assert entries[0].findtext("{http://www.w3.org/2005/Atom}title") == HOSTILE.title


def test_search_feed_rejects_malformed_queries(client: FlaskClient) -> None:
    response = client.get("/search.atom", query_string={"q": "医保 |"})
    assert response.status_code == 400
    assert "查询语句有误" in text(response) and "^" in text(response)


def test_also_on_this_page_names_each_outlet_once() -> None:
    from hitwatch.search import SearchDocument, SearchHit, SearchPage
    from webapp.results import result_rows

    def hit(doc_id: str, source_name: str) -> SearchHit:
        document = SearchDocument(
            doc_id, "story-1", f"https://example.cn/{doc_id}", "医保", "医保", "s", source_name
        )
        return SearchHit(doc_id, 1.0, document)

    page = SearchPage(
        4,
        [
            hit("a", "国家医疗保障局"),
            hit("b", "新京报"),
            hit("c", "新京报"),
            hit("d", "国家医疗保障局"),
        ],
    )
    (row,) = result_rows(page, ["医保"], {"story-1": 4})
    assert row.also == [("b", "新京报")]


def test_mixed_script_and_full_width_queries_find_what_spaced_ones_find(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    seed(SAMPLE)
    for typed, spaced in [
        ("腾讯医疗大模型２０２４", "腾讯 医疗大模型 2024"),
        ("张渝，大模型、腾讯", "张渝 大模型 腾讯"),
        ("（腾讯｜朝阳区）－论坛", "(腾讯 | 朝阳区) -论坛"),
    ]:
        typed_page = text(client.get("/search", query_string={"q": typed}))
        spaced_page = text(client.get("/search", query_string={"q": spaced}))
        assert f'href="/items/{LLM.doc_id}"' in typed_page, typed
        assert typed_page.count('class="item result"') == spaced_page.count('class="item result"')


def test_no_results_counts_each_term_and_links_a_query_that_finds(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    seed(SAMPLE)
    page = text(client.get("/search", query_string={"q": "腾讯2024，量子计算"}))
    assert "没有找到匹配的结果" in page
    terms = page.split('class="hint-terms"', 1)[1].split("</p>", 1)[0]
    assert "腾讯</a>（1 条）" in terms and "量子计算</a>（0 条）" in terms
    assert "2024</a>（" in terms
    suggestion = page.split('class="hint-suggestion"', 1)[1].split("</p>", 1)[0]
    link = suggestion.split('href="', 1)[1].split('"', 1)[0]
    assert "量子计算" not in suggestion and "腾讯" in suggestion
    followed = text(client.get(link.replace("&amp;", "&")))
    assert f'href="/items/{LLM.doc_id}"' in followed


def test_no_results_behind_a_filter_suggests_dropping_it(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    seed(SAMPLE)
    page = text(client.get("/search", query_string={"q": "腾讯", "source": "chinanews"}))
    assert 'class="hint-terms"' not in page  # one term: nothing to compare
    suggestion = page.split('class="hint-suggestion"', 1)[1].split("</p>", 1)[0]
    assert "去掉来源和日期筛选" in suggestion and "有 1 条结果" in suggestion
    assert "source=" not in suggestion.split('href="', 1)[1].split('"', 1)[0]
