"""Text normalisation and the search tokenisation shared by every index backend.

Elasticsearch's core analyzers have no Chinese support, and SQLite FTS5 has none either,
so both indexes receive text already turned into tokens here and split it on whitespace.
A CJK run becomes its overlapping bigrams plus its last character alone
(医保局 -> 医保 保局 局); Latin letters and digits become lowercase words split at
letter/digit changes (MedGPT4 -> medgpt 4). A query term is tokenised the same way and
searched as a phrase, which gives substring semantics for Chinese: 医保 finds 医保局,
电子病历 finds 电子病历系统. A single trailing CJK character is searched as a prefix.

Documents and queries are normalised alike (`normalize`: NFKC, so ＡＩ is ai and ２０２４
is 2024, then case folding), and both split where Chinese meets Latin letters or digits
and at punctuation: a document because runs are its tokens, a typed query term because
`split_term` makes 医疗AI the two terms 医疗 and AI, as people mean it.
"""

from __future__ import annotations

import operator
import re
import unicodedata
from dataclasses import dataclass

__all__ = [
    "SEPARATORS",
    "QueryTokens",
    "index_tokens",
    "is_cjk",
    "normalize",
    "query_tokens",
    "split_term",
    "token_runs",
]

_CJK = (
    r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK unified ideographs, ext. A, compatibility
    r"\U00020000-\U0002ebef"  # extensions B-F
)
_TOKEN_RUN = re.compile(rf"[{_CJK}]+|[a-z]+|[0-9]+")
_IS_CJK = re.compile(rf"[{_CJK}]")
# What people separate words with in a query besides spaces (，、；。！？：), as
# normalised (NFKC makes ，；！？： their ASCII forms, which separate too).
SEPARATORS = frozenset(",;:!?、。")


# Full-width ASCII and the ideographic space: in Chinese text nearly all that NFKC changes.
_FULL_WIDTH = re.compile("[\uff01-\uff5e\u3000]")
_HALF_WIDTH = {chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)} | {"\u3000": " "}


def _nfkc(text: str) -> str:
    # CPython's NFKC of a whole page costs ~0.1 ms per 1,000 characters once one character
    # needs it, so the common ones are mapped first (each to its NFKC form, a lone
    # starter: the result is the same) and the rest pays only when something remains.
    for char in set(_FULL_WIDTH.findall(text)):
        text = text.replace(char, _HALF_WIDTH[char])
    if unicodedata.is_normalized("NFKC", text):
        return text
    return unicodedata.normalize("NFKC", text)


def normalize(text: str) -> str:
    """NFKC (full-width to half-width), then case folding; the form every match is made on.

    NFKC again after folding, since folding can make characters NFKC would change, so
    that normalising twice changes nothing (a unit test checks every character).
    """
    return _nfkc(_nfkc(text).casefold())


def _runs(text: str) -> list[str]:
    return _TOKEN_RUN.findall(normalize(text))


def token_runs(normalized: str) -> list[tuple[int, str]]:
    """(offset, run) of each CJK run, Latin word and number of already normalised text.

    The runs tokens are made from; highlighting uses the offsets to find what matched.
    """
    return [(match.start(), match.group()) for match in _TOKEN_RUN.finditer(normalized)]


def is_cjk(run: str) -> bool:
    """Whether a run (from `token_runs`) is Chinese text rather than a word or number."""
    return bool(_IS_CJK.match(run))


def index_tokens(text: str) -> str:
    """The whitespace-separated token string an index stores for `text`."""
    out: list[str] = []
    for run in _runs(text):
        if run.isascii():  # a Latin word or a number
            out.append(run)
        else:  # a CJK run: its overlapping bigrams, then its last character
            out += map(operator.add, run, run[1:])
            out.append(run[-1])
    return " ".join(out)


@dataclass(frozen=True)
class QueryTokens:
    """A query term as index tokens to match consecutively; `prefix` marks the last one."""

    tokens: tuple[str, ...]
    prefix: bool = False

    @property
    def empty(self) -> bool:
        return not self.tokens


def query_tokens(term: str) -> QueryTokens:
    """Tokens that a document containing `term` (as a substring) holds in a row."""
    runs = _runs(term)
    out: list[str] = []
    prefix = False
    for position, run in enumerate(runs):
        last = position == len(runs) - 1
        if not _IS_CJK.match(run):
            out.append(run)
        elif len(run) == 1:
            # A lone character followed by more query text ends its run in the document
            # too, so it is indexed alone; at the end of the query it may be followed by
            # anything, so only bigrams starting with it (or it alone) can match.
            out.append(run)
            prefix = last
        else:
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
            if not last:
                out.append(run[-1])
    return QueryTokens(tuple(out), prefix)


def split_term(term: str) -> list[str]:
    """An unquoted query term as the terms a reader meant, in order, each once.

    Chinese typed against Latin letters or digits (医疗AI, ＡＩ监管, 2024年) and words
    separated by Chinese punctuation (医保，DRG、DIP) are separate terms, as if spaced;
    other punctuation stays inside its part (5G+, COVID-19). Parts that hold no token
    (a lone 《) are dropped; a term with no token at all comes back whole.
    """
    parts: list[str] = []
    current: list[str] = []
    current_cjk: bool | None = None
    for char in term:
        form = normalize(char)
        if not form.strip() or form in SEPARATORS:
            parts.append("".join(current))
            current, current_cjk = [], None
            continue
        cjk = bool(_IS_CJK.search(form))
        if current_cjk is not None and cjk != current_cjk:
            parts.append("".join(current))
            current = []
        current.append(char)
        current_cjk = cjk
    parts.append("".join(current))
    kept = [part for part in parts if part and not query_tokens(part).empty]
    return list(dict.fromkeys(kept)) or [term]
