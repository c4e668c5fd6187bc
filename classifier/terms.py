"""Dictionary term matching over normalised text: one Aho–Corasick pass per text.

Every dictionary (taxonomy keywords, entity names, regions) is matched the same way:
the text is NFKC-normalised (full-width forms become half-width: ＋ -> +, （ -> ( ) and
alias spellings are rewritten to one form (人工智能 -> AI); then all terms are found in a
single scan. ASCII terms only match on ASCII word boundaries, so CT does not match inside
"CTO" and CE not inside "service"; all-capital ASCII terms (CT, DRG, HIS) also match
case-sensitively. Overlaps resolve leftmost-longest, so 医疗大模型 is not also 大模型.

The scan is ahocorasick-rs's leftmost-longest automaton (Rust) over UTF-8 bytes. When every match it
reports passes the ASCII checks, that is exactly the leftmost-longest choice among the
valid matches; when one fails (an ASCII term inside a longer word), the text is matched
again with all overlapping matches so that a shorter valid term can still be chosen.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterable, Mapping

import ahocorasick_rs

__all__ = ["TermMatcher", "nfkc", "normalize_text"]

_ASCII_ALNUM = frozenset(string.ascii_letters + string.digits)
# CJK unified ideographs are NFKC-stable and never compose with a neighbour, so NFKC may
# be applied to the runs between them alone; a Chinese text is mostly ideographs.
_NOT_IDEOGRAPH = re.compile("[^\u4e00-\u9fff]+")
# The characters that keep a Chinese text from being NFKC-normal, nearly always: the
# full-width punctuation of Chinese typesetting, the ideographic and no-break spaces.
# Each maps to its compatibility decomposition, so the replaced text has the same NFKC
# form; when it is then normal (a quick check), it is that form.
_FREQUENT = tuple(
    (char, unicodedata.normalize("NFKC", char)) for char in "，：（）；？！．\u3000\xa0％－"
)


def _nfkc_run(run: re.Match[str]) -> str:
    return unicodedata.normalize("NFKC", run.group())


def nfkc(text: str) -> str:
    """`unicodedata.normalize("NFKC", text)`, several times faster on Chinese text."""
    if unicodedata.is_normalized("NFKC", text):
        return text
    for char, replacement in _FREQUENT:
        if char in text:
            text = text.replace(char, replacement)
    if unicodedata.is_normalized("NFKC", text):
        return text
    return _NOT_IDEOGRAPH.sub(_nfkc_run, text)


def normalize_text(text: str, aliases: Mapping[str, str] | None = None) -> str:
    """NFKC form of `text` with alias spellings rewritten to their canonical form.

    Already normalised text passes through at the cost of a quick check, so a text
    normalised once may be handed to every matcher.
    """
    normalized = nfkc(text)
    for variant, canonical in (aliases or {}).items():
        if variant in normalized:
            normalized = normalized.replace(variant, canonical)
    return normalized


def _case_sensitive(term: str) -> bool:
    return term.isascii() and term.isupper()


# Per variant of a folded key: (term, its UTF-8 bytes, must match case, ASCII boundary
# before, ASCII boundary after).
_Check = tuple[str, bytes, bool, bool, bool]
_ASCII_ALNUM_BYTES = frozenset((string.ascii_letters + string.digits).encode("ascii"))


class TermMatcher:
    """All occurrences of a fixed set of terms, found in one pass."""

    def __init__(self, terms: Iterable[str], aliases: Mapping[str, str] | None = None) -> None:
        self._aliases = dict(aliases or {})
        by_key: dict[bytes, list[str]] = {}
        for raw in terms:
            term = normalize_text(raw, self._aliases).strip()
            if term:
                # bytes.lower() folds ASCII only, and UTF-8 keeps ASCII bytes apart from
                # every other character's: the scan runs on the folded UTF-8 text.
                variants = by_key.setdefault(term.encode("utf-8").lower(), [])
                if term not in variants:
                    variants.append(term)
        keys = list(by_key)
        # Per pattern index: the term itself when it needs no check (a Chinese term),
        # else None and its checks, decided once here rather than per match.
        self._plain: list[str | None] = []
        self._checks: list[tuple[_Check, ...]] = []
        for key in keys:
            checks = tuple(
                (
                    term,
                    term.encode("utf-8"),
                    _case_sensitive(term),
                    term[0] in _ASCII_ALNUM,
                    term[-1] in _ASCII_ALNUM,
                )
                for term in by_key[key]
            )
            simple = len(checks) == 1 and not any(checks[0][2:])
            self._plain.append(checks[0][0] if simple else None)
            self._checks.append(checks)
        self._empty = not keys
        if not self._empty:
            self._longest = ahocorasick_rs.BytesAhoCorasick(
                keys,
                matchkind=ahocorasick_rs.MatchKind.LeftmostLongest,
                implementation=ahocorasick_rs.Implementation.DFA,
            )
            self._overlapping = ahocorasick_rs.BytesAhoCorasick(keys)

    def normalize(self, text: str) -> str:
        return normalize_text(text, self._aliases)

    def _valid(self, index: int, text: bytes, start: int, end: int) -> str | None:
        for term, raw, case_sensitive, ascii_start, ascii_end in self._checks[index]:
            if case_sensitive and text[start:end] != raw:
                continue
            if ascii_start and start > 0 and text[start - 1] in _ASCII_ALNUM_BYTES:
                continue
            if ascii_end and end < len(text) and text[end] in _ASCII_ALNUM_BYTES:
                continue
            return term
        return None

    def find(self, normalized: str) -> list[str]:
        """Terms found in `normalized` (output of `normalize`) in text order.

        Leftmost-longest, no overlaps.
        """
        if self._empty or not normalized:
            return []
        text = normalized.encode("utf-8")
        folded = text.lower()
        chosen: list[str] = []
        plain = self._plain
        for index, start, end in self._longest.find_matches_as_indexes(folded):
            term = plain[index] or self._valid(index, text, start, end)
            if term is None:
                return self._find_all(text, folded)
            chosen.append(term)
        return chosen

    def _find_all(self, text: bytes, folded: bytes) -> list[str]:
        # Every overlapping match that passes its checks, then leftmost-longest.
        found: list[tuple[int, int, str]] = []
        for index, start, end in self._overlapping.find_matches_as_indexes(
            folded, overlapping=True
        ):
            term = self._valid(index, text, start, end)
            if term is not None:
                found.append((start, start - end, term))
        found.sort()
        chosen: list[str] = []
        covered = 0
        for start, negative_length, term in found:
            if start >= covered:
                chosen.append(term)
                covered = start - negative_length
        return chosen
