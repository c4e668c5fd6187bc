"""Dictionary term matching over normalised text: one Aho–Corasick pass per text.

Every dictionary (taxonomy keywords, entity names, regions) is matched the same way:
the text is NFKC-normalised (full-width forms become half-width: ＋ -> +, （ -> ( ) and
alias spellings are rewritten to one form (人工智能 -> AI); then all terms are found in a
single scan. ASCII terms only match on ASCII word boundaries, so CT does not match inside
"CTO" and CE not inside "service"; all-capital ASCII terms (CT, DRG, HIS) also match
case-sensitively. Overlaps resolve leftmost-longest, so 医疗大模型 is not also 大模型.
"""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import ahocorasick

__all__ = ["TermMatch", "TermMatcher", "normalize_text"]

_ASCII_ALNUM = frozenset(string.ascii_letters + string.digits)
_ASCII_FOLD = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def normalize_text(text: str, aliases: Mapping[str, str] | None = None) -> str:
    """NFKC form of `text` with alias spellings rewritten to their canonical form."""
    normalized = unicodedata.normalize("NFKC", text)
    for variant, canonical in (aliases or {}).items():
        if variant in normalized:
            normalized = normalized.replace(variant, canonical)
    return normalized


def _fold(text: str) -> str:
    # ASCII-only lowercasing keeps every offset valid (str.lower may change lengths).
    return text.translate(_ASCII_FOLD)


def _case_sensitive(term: str) -> bool:
    return term.isascii() and term.isupper()


@dataclass(frozen=True)
class TermMatch:
    """One occurrence of a dictionary term in normalised text, `end` exclusive."""

    term: str
    start: int
    end: int


class TermMatcher:
    """All occurrences of a fixed set of terms, found in one pass."""

    def __init__(self, terms: Iterable[str], aliases: Mapping[str, str] | None = None) -> None:
        self._aliases = dict(aliases or {})
        by_key: dict[str, list[str]] = {}
        for raw in terms:
            term = normalize_text(raw, self._aliases).strip()
            if term:
                variants = by_key.setdefault(_fold(term), [])
                if term not in variants:
                    variants.append(term)
        self._automaton = ahocorasick.Automaton()
        for key, variants in by_key.items():
            self._automaton.add_word(key, (key, tuple(variants)))
        self._empty = not by_key
        if not self._empty:
            self._automaton.make_automaton()

    def normalize(self, text: str) -> str:
        return normalize_text(text, self._aliases)

    def find(self, normalized: str) -> list[TermMatch]:
        """Matches in `normalized` (output of `normalize`), leftmost-longest, no overlaps."""
        if self._empty or not normalized:
            return []
        found: list[TermMatch] = []
        for end_index, (key, variants) in self._automaton.iter(_fold(normalized)):
            start, end = end_index - len(key) + 1, end_index + 1
            for term in variants:
                if _case_sensitive(term) and normalized[start:end] != term:
                    continue
                if not _on_boundaries(normalized, start, end):
                    continue
                found.append(TermMatch(term, start, end))
                break
        found.sort(key=lambda m: (m.start, m.start - m.end))
        chosen: list[TermMatch] = []
        covered = 0
        for match in found:
            if match.start >= covered:
                chosen.append(match)
                covered = match.end
        return chosen


def _on_boundaries(text: str, start: int, end: int) -> bool:
    """An ASCII edge of a term must not continue an ASCII word in the text."""
    if text[start] in _ASCII_ALNUM and start > 0 and text[start - 1] in _ASCII_ALNUM:
        return False
    return not (text[end - 1] in _ASCII_ALNUM and end < len(text) and text[end] in _ASCII_ALNUM)
