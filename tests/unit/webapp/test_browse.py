"""Home page (latest items) and the item view."""

from collections.abc import Callable

from flask.testing import FlaskClient

from tests.factories import (
    FORUM,
    FORUM_REPRINT,
    HOSTILE,
    LLM,
    POLICY,
    SAMPLE,
    Doc,
    filler,
)


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def test_empty_home_says_how_to_start(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    page = text(response)
    assert "还没有数据：运行 hitwatch run 开始首次采集" in page
    for label in ("最新信息", "搜索", "信息源状态", "失败记录"):
        assert label in page
    assert 'name="q"' in page


def test_home_lists_relevant_items_newest_first(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    seed(SAMPLE)
    page = text(client.get("/"))
    assert page.index(POLICY.title) < page.index(LLM.title)  # 07-12 before 07-03
    assert "2024-07-12 09:00" in page  # 01:00 UTC shown in Shanghai time
    assert "2 篇报道" in page  # the forum story has two copies
    assert "城市马拉松" not in page  # off-topic item hidden by default
    assert "城市马拉松" in text(client.get("/?all=1"))


def test_home_paginates(client: FlaskClient, seed: Callable[[list[Doc]], None]) -> None:
    seed(filler(45))
    first = text(client.get("/"))
    assert "第 1 页，共 3 页" in first
    assert "下一页" in first and 'href="/?page=2"' in first
    assert "第45条" in first and "第25条" not in first
    third = text(client.get("/?page=3"))
    assert "第 3 页，共 3 页" in third
    assert "第5条" in third and "第1条：" in third
    assert 'rel="prev"' in third and 'rel="next"' not in third
    beyond = text(client.get("/?page=9"))
    assert "回到第 1 页" in beyond


def test_item_view_shows_everything_known(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    seed(SAMPLE)
    response = client.get(f"/items/{POLICY.doc_id}")
    assert response.status_code == 200
    page = text(response)
    for expected in (
        POLICY.title,
        "国家卫生健康委员会",
        "政府网站",
        "2024-07-12 09:00",
        f'href="{POLICY.url}"',
        "<p>现印发给你们，请遵照执行。</p>",
        "电子病历系统应用水平分级评价标准（2024版）.pdf",
        "发文字号",
        "国卫办医政发〔2024〕12号",
        "索引号",
        "成文日期",
        "电子病历与医院信息化评级",
        "0.92",
        "政策文件",
        "全国",
        "发文机关",  # entity kind "issuers" shown with its label
        "分类依据",
        "电子病历、分级评价",
        "没有发现其他媒体转载同一文本",
    ):
        assert expected in page, expected


def test_item_view_names_origin_and_other_copies(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    seed(SAMPLE)
    page = text(client.get(f"/items/{FORUM.doc_id}"))
    assert "原始来源" in page and "朝阳报" in page
    assert "同时刊登于" in page
    assert f'href="/items/{FORUM_REPRINT.doc_id}"' in page and "北京朝阳" in page


def test_the_story_says_which_copy_came_first(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    seed(SAMPLE)
    original = text(client.get(f"/items/{FORUM.doc_id}"))
    assert "本文最早发布，其他为转载" in original
    reprint = text(client.get(f"/items/{FORUM_REPRINT.doc_id}"))
    assert "本文最早发布" not in reprint
    first = reprint.index(f'href="/items/{FORUM.doc_id}"')
    assert "首发" in reprint[first : first + 300]


def test_item_view_names_entity_kinds_in_chinese_and_omits_empty_ones(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    seed(SAMPLE)
    page = text(client.get(f"/items/{LLM.doc_id}"))
    assert "<dt>企业</dt><dd>腾讯</dd>" in page
    assert "产品" not in page and "company" not in page


def test_item_view_names_evidence_topics(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    seed(SAMPLE)
    page = text(client.get(f"/items/{POLICY.doc_id}"))
    assert "<dt>电子病历与医院信息化评级</dt><dd>电子病历、分级评价</dd>" in page
    assert "<dt>D</dt>" not in page


def test_unknown_item_is_a_friendly_404(client: FlaskClient) -> None:
    response = client.get("/items/nope")
    assert response.status_code == 404
    assert "找不到这个页面或条目" in text(response)


def test_markup_in_stored_text_is_escaped(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    seed([HOSTILE])
    for url in ("/", f"/items/{HOSTILE.doc_id}"):
        page = text(client.get(url))
        assert "<script>alert" not in page
        assert "&lt;script&gt;" in page
        assert "<img src=x" not in page
        assert "<b>某网站</b>" not in page


def test_static_stylesheet_is_served_locally(client: FlaskClient) -> None:
    page = text(client.get("/"))
    assert 'href="/static/style.css"' in page
    assert "http://" not in page.split("<body>")[0] and "https://" not in page.split("<body>")[0]
    response = client.get("/static/style.css")
    assert response.status_code == 200
    assert "mark" in response.get_data(as_text=True)
    response.close()


def test_topic_bars_are_scaled_to_the_strongest_topic_of_the_item(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    strong = Doc(
        "raw",
        "电子病历评级",
        "电子病历系统应用水平分级评价。",
        topics=[
            {"code": "D", "name": "电子病历与医院信息化评级", "score": 26.98},
            {"code": "N", "name": "政策法规与标准", "score": 13.49},
        ],
    )
    seed([strong])
    page = text(client.get("/items/raw"))
    assert '<meter min="0" max="26.98" value="26.98"' in page  # full: the strongest
    assert '<meter min="0" max="26.98" value="13.49"' in page  # half of it
    assert "以本条得分最高的主题为满格" in page
