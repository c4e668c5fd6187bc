"""The learned part of relevance: how much a text reads like health IT rather than health.

The keyword rules know an IT artefact only once a word for it is listed; a learned model
reads every character. `train_relevance` fits a logistic regression (scikit-learn) over
TF-IDF of single characters (数, 息, 网, 智, 据 …: an artefact no label names still
shows them; 2-3-grams, the earlier choice, cross-validated worse: they learn the labels'
own phrases) on the tuning part's health-IT items against its health-without-IT items
(the contrast the rules find hardest: the same issuers, the same notice forms), keeping
the `_FEATURES` n-grams that tell them apart best (chi-squared). Sizes and C were chosen
by 5-fold cross-validation on the tuning part (`hitwatch eval classify --folds 5`, README).
The model is a small JSON file (n-grams, IDF, weights) rebuilt from the labels by
`hitwatch train`, never edited by hand.

`RelevanceModel` scores with one Aho–Corasick pass over its n-grams (every overlapping
occurrence, which is exactly the n-grams of the text that the model knows), so it adds
little to a classification. The classifier turns its probability into IT evidence
(`Classifier._relevance`); health evidence still comes from the rules alone.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ahocorasick_rs
import numpy as np

from classifier.terms import nfkc

__all__ = [
    "DEFAULT_MODEL",
    "ModelScore",
    "RelevanceModel",
    "char_ngrams",
    "model_json",
    "model_text",
    "train_relevance",
]

DEFAULT_MODEL = Path(__file__).with_name("relevance_model.json")

_SHORT_BODY = 800
_BODY_CHARS = 6000
_NON_TEXT = re.compile(r"[\s\d\W_]+")
_NGRAMS = (1,)
_MIN_DF = 2
_FEATURES = 6000
_C = 4.0
_TOP_TERMS = 8
_PLACEHOLDER = "某"


def model_text(
    title: str, body: str, attachments: Sequence[str] = (), neutral: Sequence[str] = ()
) -> str:
    """What the model reads: the title twice, the body (with attachments when short).

    Left out: the `neutral` phrases (taxonomy `relevance.neutral`: 信息公开, 网上报名 name
    how a notice is handled, not health IT; the rules ignore them too) and the
    placeholder 某 (某省, 某市: a notice written for the labels names no real body), which
    says how a label was made, not what a page is about.
    """
    text = body if len(body) >= _SHORT_BODY else "\n".join([body, *attachments])
    read = nfkc("\n".join([title, title, text[:_BODY_CHARS]])).replace(_PLACEHOLDER, "")
    pattern = _neutral_pattern(tuple(neutral))
    return pattern.sub("\n", read) if pattern is not None else read


@functools.lru_cache(maxsize=8)
def _neutral_pattern(neutral: tuple[str, ...]) -> re.Pattern[str] | None:
    phrases = sorted({nfkc(phrase) for phrase in neutral if phrase}, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, phrases))) if phrases else None


def char_ngrams(text: str, sizes: Sequence[int] = _NGRAMS) -> list[str]:
    """The character n-grams (2- and 3-grams unless `sizes` says) of each run of letters
    (digits, spaces, punctuation split)."""
    runs = [run for run in _NON_TEXT.split(text) if run]
    return [run[i : i + n] for run in runs for n in sizes for i in range(len(run) - n + 1)]


@dataclass(frozen=True)
class ModelScore:
    probability: float
    # The n-grams of this text that weighed most, either way (log-odds contributions).
    terms: dict[str, float]


class RelevanceModel:
    """Probability of health IT from the JSON model written by `train_relevance`."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.terms: list[str] = list(data["terms"])
        self.idf = np.asarray(data["idf"], dtype=float)
        self.coef = np.asarray(data["coef"], dtype=float)
        self.intercept = float(data["intercept"])
        if not (len(self.terms) == len(self.idf) == len(self.coef)) or not self.terms:
            raise ValueError("relevance model: terms, idf and coef must be non-empty and alike")
        # The phrases its texts were read without (model_text), read so at run time too.
        self.neutral: tuple[str, ...] = tuple(data.get("neutral") or ())
        self.meta = {k: v for k, v in data.items() if k not in ("terms", "idf", "coef")}
        self._matcher = ahocorasick_rs.AhoCorasick(self.terms)

    @classmethod
    def load(cls, path: Path = DEFAULT_MODEL) -> RelevanceModel:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def score(self, text: str) -> ModelScore:
        found = [i for i, _, _ in self._matcher.find_matches_as_indexes(text, overlapping=True)]
        if not found:
            return ModelScore(probability=_sigmoid(self.intercept), terms={})
        # The found terms in index order with their counts (np.unique's result, cheaper).
        per_term = np.bincount(np.asarray(found, dtype=np.intp), minlength=len(self.terms))
        index = np.flatnonzero(per_term)
        counts = per_term[index]
        weights = (1.0 + np.log(counts)) * self.idf[index]
        contributions = weights / float(np.sqrt(weights @ weights)) * self.coef[index]
        z = self.intercept + float(contributions.sum())
        top = np.argsort(-np.abs(contributions), kind="stable")[:_TOP_TERMS]
        terms = {self.terms[index[i]]: round(float(contributions[i]), 3) for i in top}
        return ModelScore(probability=_sigmoid(z), terms=terms)


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def model_json(data: dict[str, Any]) -> str:
    """The model file's text: one line, keys sorted, so a rebuild compares byte for byte."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True) + "\n"


def train_relevance(
    texts: list[str],
    labels: list[bool],
    *,
    note: str = "",
    neutral: Sequence[str] = (),
    c: float = _C,
    features: int = _FEATURES,
    sizes: Sequence[int] = _NGRAMS,
) -> dict[str, Any]:
    """Fit the model on `texts` (from `model_text`, without the `neutral` phrases, which
    the model keeps) and return its JSON-ready form: regularisation `c`, the `features`
    best n-grams of the `sizes` given."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.feature_selection import chi2
    from sklearn.linear_model import LogisticRegression

    def analyzer(text: str) -> list[str]:
        return char_ngrams(text, sizes)

    every = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, min_df=_MIN_DF)
    scores, _ = chi2(every.fit_transform(texts), labels)
    names = every.get_feature_names_out()
    keep = np.argsort(-np.nan_to_num(scores), kind="stable")[:features]
    chosen = sorted(str(names[i]) for i in keep)
    vectorizer = TfidfVectorizer(
        analyzer=analyzer,
        sublinear_tf=True,
        lowercase=False,
        vocabulary={term: index for index, term in enumerate(chosen)},
    )
    matrix = vectorizer.fit_transform(texts)
    model = LogisticRegression(C=c, class_weight="balanced", solver="liblinear", random_state=0)
    model.fit(matrix, labels)
    return {
        "model": f"logistic regression (C {c:g}) over TF-IDF of character"
        f" {'-'.join(str(n) for n in sorted(set(sizes)))}-grams (chi-squared selection)",
        "trained_on": note,
        "items": len(texts),
        "neutral": sorted(set(neutral)),
        "intercept": round(float(model.intercept_[0]), 5),
        "terms": chosen,
        "idf": [round(float(x), 5) for x in vectorizer.idf_],
        "coef": [round(float(x), 5) for x in model.coef_[0]],
    }
