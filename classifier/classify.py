"""Relevance, topics, document type, entities and region of one article.

`Classifier.load()` reads the operator's data files once; `classify` is then a pure
function of the article: one normalisation, one dictionary scan of title and body, and
scores that keep their evidence (which terms, how often, what weight) for the reader.
Relevance adds the learned model's IT evidence (`classifier.linear`) to the rules'.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from pathlib import Path
from typing import Any

from classifier.entities import DEFAULT_ENTITIES, DEFAULT_REGIONS, EntityDictionary, load_entities
from classifier.linear import DEFAULT_MODEL, RelevanceModel, model_text
from classifier.policy import find_doc_number, normalize_policy
from classifier.taxonomy import DEFAULT_TAXONOMY, Taxonomy, load_taxonomy
from classifier.terms import TermMatcher, normalize_text
from hitwatch.messages import PolicyMeta, TopicScore

__all__ = ["Classification", "Classifier"]

# Title hits say more about what a page is about than body hits; so do the names of the
# documents a notice forwards (《…》 near the top of its body).
_TITLE_FACTOR = 2.0
_NAMES = re.compile(r"《([^《》]{4,80})》")
_NAMES_CHARS = 400
# A page body shorter than this is read with its attachments' text (up to _ATTACHED).
_SHORT_BODY = 800
_ATTACHED = 20_000
# Relevance (see taxonomy.yaml `relevance`): health and IT evidence, each from the title
# zone (title + forwarded names, capped, counted _TITLE_ZONE times) and from the body as
# hits per thousand characters (at least _MIN_LENGTH counted, capped); the weaker kind
# decides. Pivot and title weight were chosen on the tuning part of classifier/labels
# (the middle of the range where it scores best); the slope only shapes the score.
_ZONE_CAP, _BODY_CAP, _OFFTOPIC_CAP = 6.0, 10.0, 8.0
_TITLE_ZONE = 3.0
_PIVOT, _SLOPE, _OFFTOPIC_SLOPE = 3.0, 1.5, 0.6
_MIN_LENGTH = 1000
_POLICY_CODE = "N"
_POLICY_TYPES = frozenset({"政策文件", "政策解读"})
# A topic whose IT-bearing evidence reaches its threshold is a confident health-IT topic:
# it makes the page relevant unless the page lacks health evidence or is dominated by
# off-topic words, and `evidence["relevance"]` says which.
_STRONG_OFFTOPIC = 3.0
# Topic assignment: thresholds grow with the square root of length beyond this many
# characters, and a topic must reach this share of the strongest topic's score.
_TOPIC_LENGTH = 1500
_TOPIC_SHARE = 0.12
# One keyword this heavy (a precise name: 全民健康信息平台, 互联网诊疗) assigns its topic alone.
_PRECISE = 4.0
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


def _repeats(hits: float) -> float:
    # Repeats add evidence with diminishing returns: one term cannot carry a category.
    return 1.0 + 0.5 * math.log(hits)


def _contribution(weight: float, hits: float) -> float:
    return weight * _repeats(hits) if hits > 0 else 0.0


class Classifier:
    """Rules from `taxonomy.yaml`, entities from `entities.yaml`, regions from `regions.yaml`."""

    def __init__(
        self,
        taxonomy: Taxonomy,
        dictionary: EntityDictionary,
        model: RelevanceModel | None = None,
    ) -> None:
        self.taxonomy = taxonomy
        self.dictionary = dictionary
        # The learned model's IT evidence (None: the keyword rules alone).
        self.model = model
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
            for word in category.requires:
                self._add(word, f"+{category.code}", 0.0)
        for term, weight in taxonomy.domain_terms.items():
            self._add(term, "domain", weight)
        for term, weight in taxonomy.it_terms.items():
            self._add(term, "it", weight)
        for term, weight in taxonomy.offtopic_terms.items():
            self._add(term, "offtopic", weight)
        neutral = {self._norm(term) for term in taxonomy.neutral_terms}
        for term in neutral:
            self._weights.setdefault(term, []).append(("neutral", 0.0))
        self._matcher = TermMatcher(self._weights, taxonomy.aliases)
        self._category_codes = {category.code for category in taxonomy.categories}
        self._thresholds = {category.code: category.threshold for category in taxonomy.categories}
        # A keyword holding a domain word (数字医疗, 医保信息平台) is domain evidence too,
        # one holding an IT word (互联网医院, 电子病历系统应用水平分级评价) IT evidence.
        for kind, words in (("domain", taxonomy.domain_terms), ("it", taxonomy.it_terms)):
            normalized = {self._norm(t): w for t, w in words.items()}
            for term, labels in self._weights.items():
                if term in neutral or any(label == kind for label, _ in labels):
                    continue
                inner = [w for word, w in normalized.items() if word in term]
                if inner:
                    labels.append((kind, max(inner)))
        # Per category with `requires`: the terms that hold one of its required words.
        self._required: dict[str, frozenset[str]] = {}
        for category in taxonomy.categories:
            required = [self._norm(word) for word in category.requires]
            if required:
                self._required[category.code] = frozenset(
                    term for term in self._weights if any(word in term for word in required)
                )
        self._it_weight = {
            term: w
            for term, labels in self._weights.items()
            for label, w in labels
            if label == "it"
        }
        # Per evidence kind: term -> its weights of that kind, in the order of its labels.
        self._kind_weights: dict[str, dict[str, tuple[float, ...]]] = {
            kind: {
                term: weights
                for term, labels in self._weights.items()
                if (weights := tuple(w for label, w in labels if label == kind))
            }
            for kind in ("domain", "it")
        }

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
        model_path: Path | None = DEFAULT_MODEL,
    ) -> Classifier:
        """The operator's data files; `model_path` None: relevance from the rules alone."""
        taxonomy = load_taxonomy(taxonomy_path)
        return cls(
            taxonomy,
            load_entities(entities_path, regions_path, taxonomy.aliases),
            RelevanceModel.load(model_path) if model_path is not None else None,
        )

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
        scanned = norm_body
        used_attachments = bool(attachments) and len(norm_body) < _SHORT_BODY
        if used_attachments:
            attached = self._matcher.normalize("\n".join(attachments))[:_ATTACHED]
            scanned = norm_body + "\n" + attached
        names = _NAMES.findall(norm_body[:_NAMES_CHARS])
        title_terms = self._matcher.find(norm_title)
        head_terms = title_terms + [t for name in names for t in self._matcher.find(name)]
        hits: dict[str, float] = {}
        for term in head_terms:
            hits[term] = hits.get(term, 0.0) + _TITLE_FACTOR
        body_hits: dict[str, float] = {}
        for term in self._matcher.find(scanned):
            hits[term] = hits.get(term, 0.0) + 1
            body_hits[term] = body_hits.get(term, 0.0) + 1
        scores: dict[str, float] = {}
        it_scores: dict[str, float] = {}
        evidence: dict[str, dict[str, float]] = {}
        for term, count in hits.items():  # every count >= 1
            repeats = _repeats(count)
            shown = self._canonical.get(term, term)
            it_term = term in self._it_weight
            for label, weight in self._weights[term]:
                contribution = weight * repeats
                bucket = evidence.get(label)
                if bucket is None:
                    bucket = evidence[label] = {}
                bucket[shown] = round(bucket.get(shown, 0.0) + contribution, 3)
                scores[label] = scores.get(label, 0.0) + contribution
                if it_term:
                    it_scores[label] = it_scores.get(label, 0.0) + contribution
        length = len(norm_title) + len(scanned)
        headline = self._headline_labels(head_terms)
        topics = self._topics(scores, evidence, length, headline, hits.keys())
        policy = self._policy(policy, norm_title, norm_body, published_at)
        learned = self._learned(title, body, attachments)
        relevance, reason = self._relevance(
            head_terms, body_hits, len(scanned), length, scores, it_scores, topics, policy, learned
        )
        if used_attachments:
            reason["attachments"] = len(attachments)
        doc_type = self._doc_type(norm_title, source_kind, policy)
        topics = self._policy_topic(topics, doc_type, scores)
        shown_evidence: dict[str, Any] = {
            label: dict(sorted(terms.items(), key=itemgetter(1), reverse=True))
            for label, terms in evidence.items()
            if not label.startswith(("-", "+"))
        }
        shown_evidence["relevance"] = reason
        return Classification(
            relevant=relevance >= self.taxonomy.relevance_threshold,
            relevance=round(relevance, 3),
            topics=topics,
            doc_type=doc_type,
            policy=policy,
            region=self.dictionary.region(norm_title, norm_body),
            entities=self.dictionary.entities(norm_title + "\n" + norm_body),
            evidence=shown_evidence,
        )

    def _policy_topic(
        self, topics: list[TopicScore], doc_type: str, scores: dict[str, float]
    ) -> list[TopicScore]:
        """A policy document or its official interpretation is topic N whatever its words."""
        if doc_type not in _POLICY_TYPES or any(t.code == _POLICY_CODE for t in topics):
            return topics
        name = next(c.name for c in self.taxonomy.categories if c.code == _POLICY_CODE)
        score = round(scores.get(_POLICY_CODE, 0.0), 3)
        return [*topics, TopicScore(code=_POLICY_CODE, name=name, score=score)]

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
        found: Iterable[str],
    ) -> list[TopicScore]:
        found = set(found)
        scale = max(1.0, math.sqrt(length / _TOPIC_LENGTH))
        top = max((scores.get(c.code, 0.0) for c in self.taxonomy.categories), default=0.0)
        topics = []
        for category in self.taxonomy.categories:
            score = scores.get(category.code, 0.0)
            threshold = category.threshold * scale
            terms = evidence.get(category.code, {})
            if f"-{category.code}" in evidence:
                continue
            required = self._required.get(category.code)
            if required is not None and found.isdisjoint(required):
                continue
            if category.code not in headline:
                if score < max(threshold, _TOPIC_SHARE * top):
                    continue
                if len(terms) < 2 and score < 2 * threshold and score < _PRECISE:
                    continue
            topics.append(TopicScore(code=category.code, name=category.name, score=round(score, 3)))
        return sorted(topics, key=lambda t: -t.score)

    def _kind_score(self, terms: Any, kind: str, *, per_term_cap: bool) -> float:
        total = 0.0
        counts: dict[str, float] = {}
        for term in terms:
            counts[term] = counts.get(term, 0.0) + 1
        for term, count in counts.items():
            for label, weight in self._weights[term]:
                if label == kind:
                    total += _contribution(weight, count) if per_term_cap else weight * count
        return total

    def _issuer_support(self, policy: PolicyMeta | None, names: tuple[str, ...]) -> float:
        issuer = policy.issuer if policy else ""
        return self.taxonomy.issuer_weight if any(n in issuer for n in names) else 0.0

    def _learned(self, title: str, body: str, attachments: Sequence[str]) -> dict[str, Any] | None:
        """The model's IT evidence: `model_weight` per unit of log-odds above even, with its
        probability and the n-grams of this page that weighed most."""
        if self.model is None:
            return None
        scored = self.model.score(model_text(title, body, attachments, self.model.neutral))
        p = min(max(scored.probability, 1e-9), 1 - 1e-9)
        it = self.taxonomy.model_weight * max(0.0, math.log(p / (1 - p)))
        return {"probability": round(p, 3), "it": round(it, 2), "terms": scored.terms}

    def _relevance(
        self,
        head_terms: list[str],
        body_hits: dict[str, float],
        body_length: int,
        length: int,
        scores: dict[str, float],
        it_scores: dict[str, float],
        topics: list[TopicScore],
        policy: PolicyMeta | None,
        learned: dict[str, Any] | None = None,
    ) -> tuple[float, dict[str, Any]]:
        per_thousand = max(body_length, _MIN_LENGTH) / 1000

        repeats = [(term, _repeats(n)) for term, n in body_hits.items()]  # every n >= 1

        def body(kind: str) -> float:
            weights = self._kind_weights[kind]
            total = sum(w * r for term, r in repeats for w in weights.get(term, ()))
            return min(total / per_thousand, _BODY_CAP)

        health = (
            _TITLE_ZONE * min(self._kind_score(head_terms, "domain", per_term_cap=False), _ZONE_CAP)
            + body("domain")
            + self._issuer_support(policy, self.taxonomy.health_issuers)
        )
        it = (
            _TITLE_ZONE * min(self._kind_score(head_terms, "it", per_term_cap=False), _ZONE_CAP)
            + body("it")
            + self._issuer_support(policy, self.taxonomy.it_issuers)
            + (learned["it"] if learned else 0.0)
        )
        offtopic = min(scores.get("offtopic", 0.0), _OFFTOPIC_CAP)
        z = _SLOPE * (min(health, it) - _PIVOT) - _OFFTOPIC_SLOPE * offtopic
        relevance = 1.0 / (1.0 + math.exp(-z))
        reason: dict[str, Any] = {"health": round(health, 2), "it": round(it, 2)}
        if offtopic:
            reason["offtopic"] = round(offtopic, 2)
        if learned is not None:
            reason["model"] = learned
        threshold = self.taxonomy.relevance_threshold
        scale = 2 * max(1.0, math.sqrt(length / _TOPIC_LENGTH))
        confident = [
            t.code
            for t in topics
            if t.code != _POLICY_CODE
            and it_scores.get(t.code, 0.0) >= scale * self._thresholds.get(t.code, math.inf)
        ]
        if relevance >= threshold:
            reason["decision"] = "health and IT evidence"
        elif not confident:
            reason["decision"] = "no IT evidence" if it < health else "no health evidence"
        elif health <= 0:
            reason["decision"] = f"no health evidence (despite topics {','.join(confident)})"
        elif offtopic >= _STRONG_OFFTOPIC:
            reason["decision"] = f"off-topic words (despite topics {','.join(confident)})"
        else:
            relevance = threshold
            reason["decision"] = f"confident health-IT topics {','.join(confident)}"
        return relevance, reason

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
