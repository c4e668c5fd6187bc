"""The OpenAPI file matches the routes and what the endpoints really return."""

import re
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient

from tests.factories import LLM, SAMPLE, Doc

Json = dict[str, Any]

OFF_TOPIC_DOC = Doc("off-topic", "电子病历打印机促销", "电子病历打印纸特价。", relevant=False)
ON_TOPIC_DOC = Doc("on-topic", "电子病历评级通知", "推进电子病历评级。")


@pytest.fixture
def spec(client: FlaskClient) -> Json:
    response = client.get("/api/v1/openapi.yaml")
    assert response.status_code == 200
    assert response.mimetype == "application/yaml"
    document: Json = yaml.safe_load(response.get_data(as_text=True))
    assert document["openapi"].startswith("3.")
    return document


def resolve(spec: Json, node: Json) -> Json:
    """Follow `$ref`s (local ones only) to the schema they name."""
    while "$ref" in node:
        target: Any = spec
        for part in str(node["$ref"]).removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def required_fields(spec: Json, schema: Json) -> set[str]:
    schema = resolve(spec, schema)
    fields = set(schema.get("required", []))
    for part in schema.get("allOf", []):
        fields |= required_fields(spec, part)
    return fields


def response_schema(spec: Json, path: str, status: str) -> Json:
    content = spec["paths"][path]["get"]["responses"][status]["content"]
    return resolve(spec, content["application/json"]["schema"])


def test_every_api_route_is_documented_and_nothing_else(app: Flask, spec: Json) -> None:
    routed = {
        re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
    }
    assert set(spec["paths"]) == routed


def test_search_parameters_are_the_documented_ones(spec: Json) -> None:
    parameters = [
        resolve(spec, parameter)["name"]
        for parameter in spec["paths"]["/api/v1/search"]["get"]["parameters"]
    ]
    for name in ("q", "page", "per_page", "sort", "all", "facets"):
        assert name in parameters


def test_responses_have_the_documented_fields(
    client: FlaskClient, spec: Json, seed: Callable[[list[Doc]], None]
) -> None:
    seed(SAMPLE)
    search = client.get("/api/v1/search", query_string={"q": "大模型", "facets": "1"}).get_json()
    assert required_fields(spec, response_schema(spec, "/api/v1/search", "200")) <= set(search)
    result_schema = resolve(spec, response_schema(spec, "/api/v1/search", "200"))
    result_fields = required_fields(spec, result_schema["properties"]["results"]["items"])
    assert result_fields <= set(search["results"][0])
    assert set(result_schema["properties"]["facets"]["properties"]) == set(search["facets"])
    pagination = resolve(spec, result_schema["properties"]["pagination"])
    assert set(pagination["required"]) == set(search["pagination"])

    items = client.get("/api/v1/items").get_json()
    summary = response_schema(spec, "/api/v1/items", "200")["properties"]["items"]["items"]
    assert required_fields(spec, summary) <= set(items["items"][0])
    item = client.get(f"/api/v1/items/{LLM.doc_id}").get_json()
    assert required_fields(spec, response_schema(spec, "/api/v1/items/{doc_id}", "200")) <= set(
        item
    )
    health = client.get("/api/v1/health").get_json()
    assert required_fields(spec, response_schema(spec, "/api/v1/health", "200")) <= set(health)
    empty = client.get("/api/v1/search", query_string={"q": "大模型 量子计算"}).get_json()
    hint_schema = result_schema["properties"]["hint"]
    assert set(hint_schema["required"]) == set(empty["hint"])
    assert set(required_fields(spec, hint_schema["properties"]["terms"]["items"])) == set(
        empty["hint"]["terms"][0]
    )
    assert set(hint_schema["properties"]["suggestion"]["required"]) == set(
        empty["hint"]["suggestion"]
    )
    error = client.get("/api/v1/search", query_string={"q": "(医保"}).get_json()
    assert required_fields(spec, response_schema(spec, "/api/v1/search", "400")) <= set(error)


def test_search_hides_off_topic_articles_unless_all(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    seed([OFF_TOPIC_DOC, ON_TOPIC_DOC])

    def found(**args: str) -> set[str]:
        body = client.get("/api/v1/search", query_string={"q": "电子病历", **args}).get_json()
        return {result["doc_id"] for result in body["results"]}

    assert found() == {"on-topic"}
    assert found(all="1") == {"on-topic", "off-topic"}
    page = client.get("/search", query_string={"q": "电子病历", "all": "1"}).get_data(as_text=True)
    assert 'href="/items/off-topic"' in page
    assert "all=1" in page  # sort, page and facet links keep it


def test_the_webhook_body_is_the_documented_one(spec: Json) -> None:
    import json
    from datetime import UTC, datetime

    from hitwatch.channels import ChannelItem, ChannelMessage, prepare_post

    item = ChannelItem(
        "d1", "s1", "电子病历评级通知", "https://www.nhc.gov.cn/1.shtml",
        "https://hw.example.org/items/d1", "国家卫健委", None, "日期未知",
        doc_type="政策文件", doc_number="国卫办规划函〔2024〕1号", terms=("电子病历",),
    )  # fmt: skip
    message = ChannelMessage("alert", "【提醒：病历】电子病历评级通知", (item,), ((1, "病历"),))
    post = prepare_post(
        "webhook", "https://h", "s", message, now=datetime.now(UTC), delivery_id="d"
    )
    body = json.loads(post.body)
    schema = resolve(spec, spec["components"]["schemas"]["ChannelWebhook"])
    assert set(schema["required"]) == set(body)
    item_schema = resolve(spec, schema["properties"]["items"]["items"])
    assert set(item_schema["required"]) == set(body["items"][0])
    assert set(schema["properties"]["rules"]["items"]["required"]) == set(body["rules"][0])
