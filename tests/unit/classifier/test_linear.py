"""The learned relevance model: its scoring, its file, and the IT evidence it gives the rules."""

from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from classifier.classify import Classifier
from classifier.evaluation import DEFAULT_LABELS, train_from_labels
from classifier.linear import (
    DEFAULT_MODEL,
    RelevanceModel,
    char_ngrams,
    model_json,
    model_text,
    train_relevance,
)
from tests.factories import HEALTH_IT_TITLES, HEALTH_TITLES


def _reference(data: dict[str, object], text: str) -> float:
    """The model's probability computed the slow way: every n-gram of the text counted."""
    terms = {t: i for i, t in enumerate(data["terms"])}  # type: ignore[call-overload]
    idf = np.asarray(data["idf"])
    coef = np.asarray(data["coef"])
    counts = Counter(g for g in char_ngrams(text) if g in terms)
    if not counts:
        return float(1 / (1 + np.exp(-float(data["intercept"]))))  # type: ignore[arg-type]
    weights = np.array([(1 + np.log(n)) * idf[terms[g]] for g, n in counts.items()])
    weights /= np.linalg.norm(weights)
    z = float(data["intercept"]) + float(  # type: ignore[arg-type]
        weights @ np.array([coef[terms[g]] for g in counts])
    )
    return float(1 / (1 + np.exp(-z)))


def test_scoring_counts_exactly_the_ngrams_the_model_knows() -> None:
    texts = [model_text(t, t + "，请认真贯彻执行。") for t in HEALTH_IT_TITLES + HEALTH_TITLES]
    data = train_relevance(texts, [True] * len(HEALTH_IT_TITLES) + [False] * len(HEALTH_TITLES))
    model = RelevanceModel(data)
    for text in [*texts, "医院上线影像云平台，患者手机查看云胶片", "护理", "ABC abc 123"]:
        assert model.score(text).probability == pytest.approx(_reference(data, text), abs=1e-9)


def test_a_health_it_title_scores_above_a_health_title() -> None:
    texts = [model_text(t, "") for t in HEALTH_IT_TITLES + HEALTH_TITLES]
    model = RelevanceModel(train_relevance(texts, [True] * 6 + [False] * 6))
    it = model.score(model_text("关于推进影像云平台建设的通知", ""))
    health = model.score(model_text("关于开展护理人员考试的通知", ""))
    assert it.probability > 0.5 > health.probability
    assert it.terms and all(isinstance(v, float) for v in it.terms.values())


def test_a_model_file_with_mismatched_arrays_is_refused() -> None:
    with pytest.raises(ValueError, match="terms, idf and coef"):
        RelevanceModel({"terms": ["云胶"], "idf": [1.0, 2.0], "coef": [1.0], "intercept": 0.0})


def _one_term_model(term: str, coef: float) -> RelevanceModel:
    return RelevanceModel({"terms": [term], "idf": [1.0], "coef": [coef], "intercept": 0.0})


def test_model_probability_above_even_is_it_evidence_with_its_terms() -> None:
    clf = Classifier.load(model_path=None)
    # A health title whose only IT artefact is one the rules do not list.
    title, body = "市卫生健康委关于推进胶片云阅片工作的通知", "各医疗机构：请认真贯彻执行。"
    rules = clf.classify(title, body, source_kind="government")
    assert not rules.relevant and "model" not in rules.evidence["relevance"]
    learned = Classifier(clf.taxonomy, clf.dictionary, _one_term_model("阅片", 6.0))
    result = learned.classify(title, body, source_kind="government")
    model = result.evidence["relevance"]["model"]
    assert result.relevant
    assert model["probability"] > 0.99 and model["terms"] == {"阅片": 6.0}
    assert model["it"] == pytest.approx(clf.taxonomy.model_weight * 6.0, abs=0.01)


def test_model_probability_under_even_adds_nothing() -> None:
    clf = Classifier.load(model_path=None)
    title, body = "关于开展护理质量提升行动的通知", "各医疗机构：请认真贯彻执行。"
    doubtful = Classifier(clf.taxonomy, clf.dictionary, _one_term_model("护理", -3.0))
    result = doubtful.classify(title, body, source_kind="government")
    reason = result.evidence["relevance"]
    assert not result.relevant
    assert reason["model"]["it"] == 0.0
    assert reason["it"] == clf.classify(title, body).evidence["relevance"]["it"]


def test_weight_zero_turns_the_model_off() -> None:
    clf = Classifier.load()
    off = Classifier(replace(clf.taxonomy, model_weight=0.0), clf.dictionary, clf.model)
    title, body = "市卫生健康委关于推进胶片云阅片工作的通知", "各医疗机构：请认真贯彻执行。"
    assert off.classify(title, body).evidence["relevance"]["model"]["it"] == 0.0


def test_the_product_reads_the_committed_model() -> None:
    clf = Classifier.load()
    assert clf.model is not None and clf.taxonomy.model_weight > 0
    assert len(clf.model.terms) <= 6000
    assert DEFAULT_MODEL.stat().st_size < 400_000


@pytest.mark.corpus
def test_committed_model_is_what_hitwatch_train_builds(corpus: Path) -> None:
    rebuilt = model_json(train_from_labels(DEFAULT_LABELS, corpus.parent))
    assert rebuilt == DEFAULT_MODEL.read_text(encoding="utf-8"), (
        "classifier/relevance_model.json is stale: run `hitwatch train`"
    )


def test_neutral_phrases_and_the_placeholder_are_not_read() -> None:
    neutral = ("信息公开", "网上报名")
    read = model_text("某市卫生健康委关于做好信息公开工作的通知", "请网上报名。", (), neutral)
    assert "某" not in read and "信息公开" not in read and "网上报名" not in read
    assert "卫生健康委" in read and "请" in read
    # A phrase is cut out whole; the characters beside it do not join into a new n-gram.
    assert "做好\n工作" in read
    assert model_text("信息化", "", (), neutral) == model_text("信息化", "")


def test_the_model_reads_pages_without_the_neutral_phrases_it_was_trained_without() -> None:
    clf = Classifier.load(model_path=None)
    data = {"terms": ["信"], "idf": [1.0], "coef": [6.0], "intercept": -3.0}
    plain = Classifier(clf.taxonomy, clf.dictionary, RelevanceModel(data))
    aware = Classifier(
        clf.taxonomy, clf.dictionary, RelevanceModel({**data, "neutral": ["信息公开"]})
    )
    title, body = "关于做好医疗机构信息公开工作的通知", "各医疗机构：请认真贯彻执行。"
    assert plain.classify(title, body).evidence["relevance"]["model"]["probability"] > 0.9
    assert aware.classify(title, body).evidence["relevance"]["model"]["probability"] < 0.1


def test_training_records_its_neutral_phrases_and_settings() -> None:
    texts = [model_text(t, "") for t in HEALTH_IT_TITLES + HEALTH_TITLES]
    labels = [True] * 6 + [False] * 6
    data = train_relevance(texts, labels, neutral=("网上报名",), c=2.0, sizes=(1, 2))
    assert data["neutral"] == ["网上报名"]
    assert "C 2" in data["model"] and "1-2-grams" in data["model"]
    assert {len(term) for term in data["terms"]} == {1, 2}
    assert RelevanceModel(data).neutral == ("网上报名",)
    assert {len(t) for t in train_relevance(texts, labels)["terms"]} == {1}
