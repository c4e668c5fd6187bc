"""Relevance, topics, document type, entities and region of one article (rules, no model).

`Classifier.load()` reads the operator's data files once; `classify` is then a pure
function of the article: one normalisation, one dictionary scan of title and body, and
scores that keep their evidence (which terms, how often, what weight) for the reader.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from classifier.entities import DEFAULT_ENTITIES, DEFAULT_REGIONS, EntityDictionary, load_entities
from classifier.policy import find_doc_number, normalize_policy
from classifier.taxonomy import DEFAULT_TAXONOMY, Taxonomy, load_taxonomy
from classifier.terms import TermMatcher, normalize_text
from hitwatch.messages import PolicyMeta, TopicScore

__all__ = ["Classification", "Classifier"]

# Title hits say more about what a page is about than body hits.
_TITLE_FACTOR = 2.0
# Relevance: a logistic over domain and topic evidence per sqrt(thousand characters)
# (evidence grows sub-linearly with length: a long non-health State Council document
# mentions 医疗 a few times), plus capped policy evidence, minus off-topic words. The
# weights were tuned on classifier/labels (see `hitwatch eval classify`).
_DOMAIN_CAP, _TOPIC_CAP, _POLICY_CAP, _OFFTOPIC_CAP = 15.0, 40.0, 10.0, 8.0
_DOMAIN_PIVOT = 10.0
_MIN_LENGTH = 300
_POLICY_CODE = "N"
# Topic assignment: thresholds grow with the square root of length beyond this many
# characters, and a topic must reach this share of the strongest topic's score.
_TOPIC_LENGTH = 1500
_TOPIC_SHARE = 0.12
# Where a policy document states its 发文字号 when the page has no metadata table.
_HEAD_CHARS = 300


@dataclass(frozen=True)
class Classification:
    relevant: bool
    relevance: float
    topics: list[TopicScore]
    doc_type: str
    policy: PolicyMeta | None
    region: str
    entities: dict[str, list[str]]
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "relevant": self.relevant,
            "relevance": self.relevance,
            "topics": [topic.model_dump() for topic in self.topics],
            "doc_type": self.doc_type,
            "policy": self.policy.model_dump() if self.policy else None,
            "region": self.region,
            "entities": self.entities,
            "evidence": self.evidence,
        }


def _contribution(weight: float, hits: float) -> float:
    # Repeats add evidence with diminishing returns: one term cannot carry a category.
    return weight * (1.0 + 0.5 * math.log(hits)) if hits > 0 else 0.0


class Classifier:
    """Rules from `taxonomy.yaml`, entities from `entities.yaml`, regions from `regions.yaml`."""

    def __init__(self, taxonomy: Taxonomy, dictionary: EntityDictionary) -> None:
        self.taxonomy = taxonomy
        self.dictionary = dictionary
        # term -> [(label, weight)]: one scan serves every category and relevance list.
        self._weights: dict[str, list[tuple[str, float]]] = {}
        self._canonical: dict[str, str] = {}
        for category in taxonomy.categories:
            for term, weight in category.keywords.items():
                self._add(term, category.code, weight)
            for variant, keyword in category.synonyms.items():
                self._add(variant, category.code, category.keywords[keyword])
                self._canonical[self._norm(variant)] = self._norm(keyword)
            for phrase in category.exclusions:
                self._add(phrase, f"-{category.code}", 0.0)
        for term, weight in taxonomy.domain_terms.items():
            self._add(term, "domain", weight)
        for term, weight in taxonomy.offtopic_terms.items():
            self._add(term, "offtopic", weight)
        self._matcher = TermMatcher(self._weights, taxonomy.aliases)
        self._category_codes = {category.code for category in taxonomy.categories}
        # A keyword holding a domain word (数字医疗, 医保信息平台) is domain evidence too.
        domain = {self._norm(t): w for t, w in taxonomy.domain_terms.items()}
        for term, labels in self._weights.items():
            if any(label == "domain" for label, _ in labels):
                continue
            inner = [w for word, w in domain.items() if word in term]
            if inner:
                labels.append(("domain", max(inner)))

    def _norm(self, term: str) -> str:
        return normalize_text(term, self.taxonomy.aliases)

    def _add(self, term: str, label: str, weight: float) -> None:
        self._weights.setdefault(self._norm(term), []).append((label, weight))

    @classmethod
    def load(
        cls,
        taxonomy_path: Path = DEFAULT_TAXONOMY,
        entities_path: Path = DEFAULT_ENTITIES,
        regions_path: Path = DEFAULT_REGIONS,
    ) -> Classifier:
        taxonomy = load_taxonomy(taxonomy_path)
        return cls(taxonomy, load_entities(entities_path, regions_path, taxonomy.aliases))

    def classify(
        self,
        title: str,
        body: str,
        *,
        source_kind: str = "media",
        policy: PolicyMeta | None = None,
        published_at: datetime | None = None,
        attachments: Sequence[str] = (),
    ) -> Classification:
        """Classify one article. `published_at` fills a missing 发布日期 of a policy page."""
        norm_title = self._matcher.normalize(title)
        norm_body = self._matcher.normalize(body)
        hits: dict[str, float] = {}
        title_terms = self._matcher.find(norm_title)
        for term in title_terms:
            hits[term] = hits.get(term, 0.0) + _TITLE_FACTOR
        for term in self._matcher.find(norm_body):
            hits[term] = hits.get(term, 0.0) + 1
        scores: dict[str, float] = {}
        evidence: dict[str, dict[str, float]] = {}
        for term, count in hits.items():
            for label, weight in self._weights[term]:
                shown = self._canonical.get(term, term)
                contribution = _contribution(weight, count)
                bucket = evidence.setdefault(label, {})
                bucket[shown] = round(bucket.get(shown, 0.0) + contribution, 3)
                scores[label] = scores.get(label, 0.0) + contribution
        length = len(norm_title) + len(norm_body)
        topics = self._topics(scores, evidence, length, self._headline_labels(title_terms))
        relevance = self._relevance(scores, topics, length)
        policy = self._policy(policy, norm_title, norm_body, published_at)
        return Classification(
            relevant=relevance >= self.taxonomy.relevance_threshold,
            relevance=round(relevance, 3),
            topics=topics,
            doc_type=self._doc_type(norm_title, source_kind, policy),
            policy=policy,
            region=self.dictionary.region(norm_title, norm_body),
            entities=self.dictionary.entities(norm_title + "\n" + norm_body),
            evidence={
                label: dict(sorted(terms.items(), key=lambda kv: -kv[1]))
                for label, terms in evidence.items()
                if not label.startswith("-")
            },
        )

    def _headline_labels(self, title_terms: list[str]) -> set[str]:
        """Categories that a heavy enough keyword in the title assigns on its own."""
        minimum = self.taxonomy.title_keyword_weight
        if minimum <= 0:
            return set()
        return {
            label
            for term in title_terms
            for label, weight in self._weights[term]
            if weight >= minimum and label in self._category_codes
        }

    def _topics(
        self,
        scores: dict[str, float],
        evidence: dict[str, dict[str, float]],
        length: int,
        headline: set[str],
    ) -> list[TopicScore]:
        scale = max(1.0, math.sqrt(length / _TOPIC_LENGTH))
        top = max((scores.get(c.code, 0.0) for c in self.taxonomy.categories), default=0.0)
        topics = []
        for category in self.taxonomy.categories:
            score = scores.get(category.code, 0.0)
            threshold = category.threshold * scale
            terms = evidence.get(category.code, {})
            if f"-{category.code}" in evidence:
                continue
            if category.code not in headline:
                if score < max(threshold, _TOPIC_SHARE * top):
                    continue
                if len(terms) < 2 and score < 2 * threshold:
                    continue
            topics.append(TopicScore(code=category.code, name=category.name, score=round(score, 3)))
        return sorted(topics, key=lambda t: -t.score)

    def _relevance(self, scores: dict[str, float], topics: list[TopicScore], length: int) -> float:
        per_length = math.sqrt(max(length, _MIN_LENGTH) / 1000)
        domain = min(scores.get("domain", 0.0) / per_length, _DOMAIN_CAP)
        topical = sum(t.score for t in topics if t.code != _POLICY_CODE)
        topical = min(topical / per_length, _TOPIC_CAP)
        policy = min(scores.get(_POLICY_CODE, 0.0), _POLICY_CAP)
        offtopic = min(scores.get("offtopic", 0.0), _OFFTOPIC_CAP)
        z = 0.5 * (domain - _DOMAIN_PIVOT) + 0.12 * topical + 0.03 * policy - 0.6 * offtopic
        return 1.0 / (1.0 + math.exp(-z))

    def _doc_type(self, norm_title: str, source_kind: str, policy: PolicyMeta | None) -> str:
        has_number = bool(policy and policy.doc_number)
        for rule in self.taxonomy.doc_type_rules:
            if any(pattern.search(norm_title) for pattern in rule.title):
                return rule.doc_type
            if rule.policy_meta and has_number and source_kind == "government":
                return rule.doc_type
        if source_kind == "government" and policy is not None and (policy.issuer or has_number):
            return self.taxonomy.government_doc_type
        return self.taxonomy.default_doc_type

    def _policy(
        self,
        policy: PolicyMeta | None,
        norm_title: str,
        norm_body: str,
        published_at: datetime | None,
    ) -> PolicyMeta | None:
        if policy is None:
            number = find_doc_number(norm_title + "\n" + norm_body[:_HEAD_CHARS])
            if not number:
                return None
            policy = PolicyMeta(doc_number=number)
        meta = normalize_policy(policy, self.dictionary.government_name)
        if not meta.publish_date and published_at is not None:
            meta = meta.model_copy(update={"publish_date": published_at.strftime("%Y-%m-%d")})
        return meta
