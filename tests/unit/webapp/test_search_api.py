"""The search API speaks the query language and explains malformed queries."""

import re
from collections.abc import Callable

from flask.testing import FlaskClient

from tests.factories import BIGDATA, FORUM, LLM, POLICY, SAMPLE, Doc


def found(client: FlaskClient, q: str) -> list[str]:
    response = client.get("/api/v1/search", query_string={"q": q, "per_page": 100})
    assert response.status_code == 200, response.get_json()
    return [result["doc_id"] for result in response.get_json()["results"]]


def test_search_api_parses_the_query(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    seed(SAMPLE)
    assert found(client, "电子病历 -广告 source:nhc") == [POLICY.doc_id]
    by_name = found(client, "source:中新网")
    assert BIGDATA.doc_id in by_name and LLM.doc_id not in by_name
    with_or = set(found(client, "腾讯 | 大数据"))
    assert {LLM.doc_id, BIGDATA.doc_id} <= with_or and FORUM.doc_id not in with_or
    assert POLICY.doc_id not in found(client, "-电子病历")


def test_search_api_highlights_positive_terms_only(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    seed(SAMPLE)
    response = client.get("/api/v1/search", query_string={"q": '"大模型" -张渝 | 大数据'})
    results = {result["doc_id"]: result for result in response.get_json()["results"]}
    assert "<mark>大数据</mark>" in results[BIGDATA.doc_id]["title_html"]
    assert LLM.doc_id not in results


def test_search_api_rejects_malformed_queries(client: FlaskClient) -> None:
    response = client.get("/api/v1/search", query_string={"q": "医保)"})
    assert response.status_code == 400
    body = response.get_json()
    assert body["status"] == 400
    assert body["error"] == "查询语句有误：第 3 个字符处：多余的右括号“)”，前面没有对应的左括号"
    assert body["position"] == 3
    assert body["detail"] == "  医保)\n      ^"  # 医保 is four columns wide


def test_search_api_refuses_absurd_queries_in_chinese(client: FlaskClient) -> None:
    response = client.get("/api/v1/search", query_string={"q": "医保" * 300})
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "查询语句有误：查询共 600 个字符，超过上限 500 个字符，请缩短"
    assert "position" not in body and "detail" not in body


def test_search_page_and_api_list_the_same_rows(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    seed(SAMPLE)
    for q in ("数字医疗", "topic:医疗大模型与生成式AI", "-电子病历", "大会 source:bjwmb"):
        page = client.get("/search", query_string={"q": q, "all": "1"}).get_data(as_text=True)
        rows = re.findall(r'<h2><a href="/items/([^"]+)">', page)
        api = client.get("/api/v1/search", query_string={"q": q, "all": "1", "facets": "1"})
        assert rows == [result["doc_id"] for result in api.get_json()["results"]], q
        assert rows, q


def test_search_api_hints_when_nothing_is_found(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    seed(SAMPLE)
    body = client.get("/api/v1/search", query_string={"q": "腾讯2024 量子计算"}).get_json()
    assert body["results"] == []
    hint = body["hint"]
    counts = {term["q"]: term["count"] for term in hint["terms"]}
    assert counts["量子计算"] == 0 and counts["腾讯"] == 1
    suggestion = hint["suggestion"]
    assert suggestion["count"] >= 1 and "量子计算" not in suggestion["q"]
    assert not suggestion["without_filters"] and not suggestion["include_offtopic"]
    assert "各条件单独的结果数" in hint["message"] and suggestion["q"] in hint["message"]
    assert found(client, suggestion["q"])  # the suggestion does find something
    assert "hint" not in client.get("/api/v1/search", query_string={"q": "腾讯"}).get_json()


def test_search_api_finds_chinese_typed_against_latin(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    seed(SAMPLE)
    assert set(found(client, "医疗大模型2024")) == set(found(client, "医疗大模型 2024"))
    assert found(client, "腾讯２０２４") == found(client, "腾讯 2024") == [LLM.doc_id]
