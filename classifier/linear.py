"""A learned linear relevance model, to measure the keyword rules against.

`train_relevance` fits a logistic regression (scikit-learn) over TF-IDF of jieba words
and of character 2-3-grams, on the tuning part of the labelled set only. The model is
written as a small JSON file (vocabularies, IDF, weights), rebuilt from the labels by
`hitwatch train` and never edited by hand; `LinearRelevance` scores with it using
numpy alone and explains a decision by its heaviest features. Topics, document type
and the rest stay with the keyword classifier (`LinearJudge`).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from classifier.classify import Classification, Classifier
from classifier.terms import nfkc
from hitwatch.messages import PolicyMeta

__all__ = ["LinearJudge", "LinearRelevance", "model_text", "train_relevance"]

_SHORT_BODY = 800
_BODY_CHARS = 6000
_NON_TEXT = re.compile(r"[\s\d\W_]+")
_MAX_FEATURES = 6000
_MIN_DF = 2
_C = 4.0


def model_text(title: str, body: str, attachments: Sequence[str] = ()) -> str:
    """What the model reads: the title twice, the body (with attachments when short)."""
    text = body if len(body) >= _SHORT_BODY else "\n".join([body, *attachments])
    return nfkc("\n".join([title, title, text[:_BODY_CHARS]]))


def _words(text: str) -> list[str]:
    import jieba

    return [w for w in jieba.lcut(text) if len(w) > 1 and not _NON_TEXT.fullmatch(w)]


def _chars(text: str) -> list[str]:
    runs = [run for run in _NON_TEXT.split(text) if run]
    return [run[i : i + n] for run in runs for n in (2, 3) for i in range(len(run) - n + 1)]


_ANALYZERS = {"words": _words, "chars": _chars}


@dataclass(frozen=True)
class _Block:
    vocabulary: dict[str, int]
    idf: np.ndarray
    coef: np.ndarray

    def contributions(self, tokens: list[str]) -> dict[str, float]:
        counts = Counter(t for t in tokens if t in self.vocabulary)
        if not counts:
            return {}
        weights = {
            t: (1.0 + math.log(n)) * float(self.idf[self.vocabulary[t]]) for t, n in counts.items()
        }
        norm = math.sqrt(sum(w * w for w in weights.values()))
        return {t: w / norm * float(self.coef[self.vocabulary[t]]) for t, w in weights.items()}


class LinearRelevance:
    """Relevance probability from the JSON model file written by `train_relevance`."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.intercept = float(data["intercept"])
        self.blocks = {
            name: _Block(
                vocabulary=block["vocabulary"],
                idf=np.asarray(block["idf"], dtype=float),
                coef=np.asarray(block["coef"], dtype=float),
            )
            for name, block in data["blocks"].items()
        }
        self.meta = {k: v for k, v in data.items() if k not in ("blocks", "intercept")}

    @classmethod
    def load(cls, path: Path) -> LinearRelevance:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def score(self, text: str) -> tuple[float, dict[str, float]]:
        """(probability of relevance, the features that weighed most either way)."""
        contributions: dict[str, float] = {}
        for name, block in self.blocks.items():
            for token, value in block.contributions(_ANALYZERS[name](text)).items():
                contributions[f"{name}:{token}"] = value
        z = self.intercept + sum(contributions.values())
        top = sorted(contributions.items(), key=lambda kv: -abs(kv[1]))[:8]
        return 1.0 / (1.0 + math.exp(-z)), {k: round(v, 3) for k, v in top}


def train_relevance(texts: list[str], labels: list[bool], *, note: str = "") -> dict[str, Any]:
    """Fit the model on `texts` (from `model_text`) and return its JSON-ready form."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizers = {
        name: TfidfVectorizer(
            analyzer=analyzer,
            sublinear_tf=True,
            min_df=_MIN_DF,
            max_features=_MAX_FEATURES,
        )
        for name, analyzer in _ANALYZERS.items()
    }
    matrices = [vectorizer.fit_transform(texts) for vectorizer in vectorizers.values()]
    model = LogisticRegression(C=_C, class_weight="balanced", solver="liblinear", random_state=0)
    model.fit(hstack(matrices).tocsr(), labels)
    coef = model.coef_[0]
    blocks: dict[str, Any] = {}
    offset = 0
    for name, vectorizer in vectorizers.items():
        size = len(vectorizer.vocabulary_)
        blocks[name] = {
            "vocabulary": {t: int(i) for t, i in sorted(vectorizer.vocabulary_.items())},
            "idf": [round(float(x), 5) for x in vectorizer.idf_],
            "coef": [round(float(x), 5) for x in coef[offset : offset + size]],
        }
        offset += size
    return {
        "model": "logistic regression over TF-IDF of jieba words and character 2-3-grams",
        "trained_on": note,
        "items": len(texts),
        "intercept": round(float(model.intercept_[0]), 5),
        "blocks": blocks,
    }


@dataclass
class LinearJudge:
    """The keyword classifier with relevance decided by the learned model, or by both.

    `combine` averages the two probabilities; the evidence keeps both explanations.
    """

    classifier: Classifier
    model: LinearRelevance
    combine: bool = False

    def classify(
        self,
        title: str,
        body: str,
        *,
        source_kind: str = "media",
        policy: PolicyMeta | None = None,
        attachments: Sequence[str] = (),
    ) -> Classification:
        base = self.classifier.classify(
            title, body, source_kind=source_kind, policy=policy, attachments=attachments
        )
        probability, features = self.model.score(model_text(title, body, attachments))
        if self.combine:
            probability = (probability + base.relevance) / 2
        evidence = {**base.evidence, "learned": features}
        threshold = self.classifier.taxonomy.relevance_threshold
        return replace(
            base,
            relevant=probability >= threshold,
            relevance=round(probability, 3),
            evidence=evidence,
        )
