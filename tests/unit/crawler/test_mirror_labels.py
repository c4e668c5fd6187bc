"""The demo mirror's articles are classified as `articles.yaml` expects (`expect`)."""

from typing import Any

import pytest
import yaml

from classifier.classify import Classifier
from crawler.mirror.content import ARTICLES
from hitwatch.messages import PolicyMeta
from hitwatch.sources import load_sources

_DATA = yaml.safe_load(ARTICLES.read_text(encoding="utf-8"))
_KINDS = {source.id: source.kind for source in load_sources()}


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier.load()


@pytest.mark.parametrize("entry", _DATA["articles"], ids=lambda e: e["title"][:24])
def test_mirror_article_is_classified_as_expected(clf: Classifier, entry: dict[str, Any]) -> None:
    expect = entry["expect"]
    policy = None
    if entry.get("doc_number") or entry.get("issuer"):
        policy = PolicyMeta(doc_number=entry.get("doc_number", ""), issuer=entry.get("issuer", ""))
    result = clf.classify(
        entry["title"],
        "\n".join(_DATA["texts"][entry["text"]]),
        source_kind=_KINDS[entry["source"]],
        policy=policy,
    )
    assert result.relevant is expect["relevant"], result.evidence["relevance"]
    assert result.doc_type == expect["doc_type"]
    assert set(expect["topics"]) <= {t.code for t in result.topics}
