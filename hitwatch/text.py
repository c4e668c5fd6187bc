"""Text normalisation and the search tokenisation shared by every index backend.

Elasticsearch's core analyzers have no Chinese support, and SQLite FTS5 has none either,
so both indexes receive text already turned into tokens here and split it on whitespace.
A CJK run becomes its overlapping bigrams plus its last character alone
(医保局 -> 医保 保局 局); Latin letters and digits become lowercase words split at
letter/digit changes (MedGPT4 -> medgpt 4). A query term is tokenised the same way and
searched as a phrase, which gives substring semantics for Chinese: 医保 finds 医保局,
电子病历 finds 电子病历系统. A single trailing CJK character is searched as a prefix.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["QueryTokens", "index_tokens", "is_cjk", "normalize", "query_tokens", "token_runs"]

_CJK = (
    r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK unified ideographs, ext. A, compatibility
    r"\U00020000-\U0002ebef"  # extensions B-F
)
_TOKEN_RUN = re.compile(rf"[{_CJK}]+|[a-z]+|[0-9]+")
_IS_CJK = re.compile(rf"[{_CJK}]")


def normalize(text: str) -> str:
    """NFKC (full-width to half-width), lowercase; the form every match is made on."""
    return unicodedata.normalize("NFKC", text).lower()


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
        if _IS_CJK.match(run):
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
            out.append(run[-1])
        else:
            out.append(run)
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
