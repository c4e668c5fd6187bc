"""The operator-edited taxonomy (`hitwatch/taxonomy.yaml`): categories, relevance terms, doc
types."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hitwatch.errors import PermanentError
from hitwatch.topics import TAXONOMY_FILE

__all__ = [
    "DEFAULT_TAXONOMY",
    "Category",
    "DictionaryError",
    "DocTypeRule",
    "Taxonomy",
    "load_taxonomy",
]

DEFAULT_TAXONOMY = TAXONOMY_FILE  # in the core: the search language reads its topics too


class DictionaryError(PermanentError):
    """A classifier data file (taxonomy, entities, regions) is missing or malformed."""


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    keywords: dict[str, float]
    synonyms: dict[str, str] = field(default_factory=dict)
    exclusions: tuple[str, ...] = ()
    threshold: float = 3.0
    # Words of which the page must hold one (alone or inside a matched term) for the
    # category to be assigned: what its other keywords share with neighbouring topics
    # (FDA, 审评 serve drugs as well as devices) is no evidence of it alone.
    requires: tuple[str, ...] = ()


@dataclass(frozen=True)
class DocTypeRule:
    doc_type: str
    title: tuple[re.Pattern[str], ...]
    policy_meta: bool = False


@dataclass(frozen=True)
class Taxonomy:
    categories: tuple[Category, ...]
    aliases: dict[str, str]
    relevance_threshold: float
    domain_terms: dict[str, float]
    offtopic_terms: dict[str, float]
    doc_type_rules: tuple[DocTypeRule, ...]
    default_doc_type: str
    government_doc_type: str
    # A title keyword at least this heavy assigns its category alone (0: never).
    title_keyword_weight: float = 0.0
    # IT evidence, and the issuers that support health or IT evidence (never decide).
    it_terms: dict[str, float] = field(default_factory=dict)
    health_issuers: tuple[str, ...] = ()
    it_issuers: tuple[str, ...] = ()
    issuer_weight: float = 0.0
    neutral_terms: tuple[str, ...] = ()
    # IT evidence per unit of the learned model's log-odds above even (0: unused).
    model_weight: float = 0.0

    @property
    def doc_types(self) -> list[str]:
        names = [rule.doc_type for rule in self.doc_type_rules]
        return sorted({*names, self.default_doc_type, self.government_doc_type})


def _weights(raw: Any, where: str) -> dict[str, float]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise DictionaryError(f"{where}: expected a mapping of term -> weight")
    try:
        return {str(term): float(weight) for term, weight in raw.items()}
    except (TypeError, ValueError) as exc:
        raise DictionaryError(f"{where}: every weight must be a number ({exc})") from exc


def _number(raw: Any, where: str) -> float:
    try:
        return float(raw)
    except (TypeError, ValueError) as exc:
        raise DictionaryError(f"{where}: expected a number, got {raw!r}") from exc


def _patterns(raw: Any, where: str) -> tuple[re.Pattern[str], ...]:
    try:
        return tuple(re.compile(str(pattern)) for pattern in raw or [])
    except re.error as exc:
        raise DictionaryError(f"{where}: invalid regular expression: {exc}") from exc


def load_taxonomy(path: Path = DEFAULT_TAXONOMY) -> Taxonomy:
    """Read and check the taxonomy file; errors name the file and the faulty entry."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DictionaryError(f"cannot read taxonomy {path}: {exc}") from exc
    if not isinstance(data, dict) or not data.get("categories"):
        raise DictionaryError(f"{path}: needs a `categories` list (see the header comment)")
    default_threshold = float(data.get("default_threshold", 3.0))
    categories = []
    for index, raw in enumerate(data["categories"]):
        where = f"{path}: categories[{index}]"
        if not isinstance(raw, dict) or not raw.get("code") or not raw.get("name"):
            raise DictionaryError(f"{where}: every category needs `code` and `name`")
        keywords = _weights(raw.get("keywords"), f"{where} ({raw['code']}) keywords")
        synonyms = {str(k): str(v) for k, v in (raw.get("synonyms") or {}).items()}
        for variant, keyword in synonyms.items():
            if keyword not in keywords:
                raise DictionaryError(
                    f"{where}: synonym {variant!r} points to {keyword!r}, not a keyword"
                )
        categories.append(
            Category(
                code=str(raw["code"]),
                name=str(raw["name"]),
                keywords=keywords,
                synonyms=synonyms,
                exclusions=tuple(str(x) for x in raw.get("exclusions") or []),
                requires=tuple(str(x) for x in raw.get("requires") or []),
                threshold=float(raw.get("threshold", default_threshold)),
            )
        )
    relevance = data.get("relevance") or {}
    doc_types = data.get("doc_types") or {}
    rules = tuple(
        DocTypeRule(
            doc_type=str(rule["type"]),
            title=_patterns(rule.get("title"), f"{path}: doc_types {rule['type']}"),
            policy_meta=bool(rule.get("policy_meta", False)),
        )
        for rule in doc_types.get("rules") or []
    )
    return Taxonomy(
        categories=tuple(categories),
        aliases={str(k): str(v) for k, v in (data.get("aliases") or {}).items()},
        relevance_threshold=float(relevance.get("threshold", 0.5)),
        domain_terms=_weights(relevance.get("domain"), f"{path}: relevance.domain"),
        offtopic_terms=_weights(relevance.get("offtopic"), f"{path}: relevance.offtopic"),
        doc_type_rules=rules,
        default_doc_type=str(doc_types.get("default", "新闻报道")),
        government_doc_type=str(doc_types.get("government_with_policy_meta", "政策文件")),
        title_keyword_weight=_number(data.get("title_keyword_weight", 0.0), "title_keyword_weight"),
        it_terms=_weights(relevance.get("it"), f"{path}: relevance.it"),
        health_issuers=tuple(str(x) for x in relevance.get("health_issuers") or ()),
        it_issuers=tuple(str(x) for x in relevance.get("it_issuers") or ()),
        issuer_weight=_number(relevance.get("issuer_weight", 0.0), "relevance.issuer_weight"),
        neutral_terms=tuple(str(x) for x in relevance.get("neutral") or ()),
        model_weight=_number(relevance.get("model_weight", 0.0), "relevance.model_weight"),
    )
