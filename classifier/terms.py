"""Dictionary term matching over normalised text: one Aho–Corasick pass per text.

Every dictionary (taxonomy keywords, entity names, regions) is matched the same way:
the text is NFKC-normalised (full-width forms become half-width: ＋ -> +, （ -> ( ) and
alias spellings are rewritten to one form (人工智能 -> AI); then all terms are found in a
single scan. ASCII terms only match on ASCII word boundaries, so CT does not match inside
"CTO" and CE not inside "service"; all-capital ASCII terms (CT, DRG, HIS) also match
case-sensitively. Overlaps resolve leftmost-longest, so 医疗大模型 is not also 大模型.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import ahocorasick

__all__ = ["TermMatch", "TermMatcher", "nfkc", "normalize_text"]

_ASCII_ALNUM = frozenset(string.ascii_letters + string.digits)
_ASCII_UPPER = re.compile("[A-Z]+")
# CJK unified ideographs are NFKC-stable and never compose with a neighbour, so NFKC may
# be applied to the runs between them alone; a Chinese text is mostly ideographs.
_NOT_IDEOGRAPH = re.compile("[^\u4e00-\u9fff]+")


def _nfkc_run(run: re.Match[str]) -> str:
    return unicodedata.normalize("NFKC", run.group())


def nfkc(text: str) -> str:
    """`unicodedata.normalize("NFKC", text)`, about twice as fast on Chinese text."""
    if unicodedata.is_normalized("NFKC", text):
        return text
    return _NOT_IDEOGRAPH.sub(_nfkc_run, text)


def normalize_text(text: str, aliases: Mapping[str, str] | None = None) -> str:
    """NFKC form of `text` with alias spellings rewritten to their canonical form."""
    normalized = nfkc(text)
    for variant, canonical in (aliases or {}).items():
        if variant in normalized:
            normalized = normalized.replace(variant, canonical)
    return normalized


def _lower(run: re.Match[str]) -> str:
    return run.group().lower()


def _fold(text: str) -> str:
    # ASCII-only lowercasing keeps every offset valid (str.lower may change lengths).
    # A regex over the few ASCII capitals is much faster than str.translate, which
    # looks every character of a Chinese text up in the table.
    return _ASCII_UPPER.sub(_lower, text)


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
            # Per variant, decided once here rather than per match: must the text match
            # its case, and which ends need an ASCII word boundary?
            checks = tuple(
                (
                    term,
                    _case_sensitive(term),
                    term[0] in _ASCII_ALNUM,
                    term[-1] in _ASCII_ALNUM,
                )
                for term in variants
            )
            self._automaton.add_word(key, (len(key), checks))
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
        length = len(normalized)
        for end_index, (size, checks) in self._automaton.iter(_fold(normalized)):
            start, end = end_index - size + 1, end_index + 1
            for term, case_sensitive, ascii_start, ascii_end in checks:
                if case_sensitive and normalized[start:end] != term:
                    continue
                if ascii_start and start > 0 and normalized[start - 1] in _ASCII_ALNUM:
                    continue
                if ascii_end and end < length and normalized[end] in _ASCII_ALNUM:
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
