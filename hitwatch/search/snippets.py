"""Search-result snippets: the part of a text where the query terms are, terms marked.

A term is found the way the index finds it (see `hitwatch.text`): on the normalised text,
by its token runs, so 5G+医疗 marks "5G 医疗" and GPT marks nothing in "MedGPT".
What is shown and cut are the original characters, HTML-escaped, terms in `<mark>`.
"""

from __future__ import annotations

import bisect
import functools
import html
import re
import unicodedata
from collections.abc import Sequence

from hitwatch.text import is_cjk, normalize, token_runs

__all__ = ["ELLIPSIS", "highlight", "highlight_title"]

ELLIPSIS = "…"
_SPACE = re.compile(r"\s+")

Span = tuple[int, int]


# Outside the Basic Multilingual Plane: the characters there are normalised one by one.
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


@functools.cache
def _forms() -> tuple[dict[int, str], re.Pattern[str], re.Pattern[str]]:
    """Every BMP character whose normal form differs from it (full-width punctuation,
    capitals ...) with that form, a pattern finding them, and one finding those whose
    form is longer than one character. Made once (some tens of ms): substituting only
    these is several times faster than normalising each text character by character."""
    forms: dict[int, str] = {}
    for code in range(0x10000):
        if 0xD800 <= code < 0xE000:  # surrogates are not characters
            continue
        form = normalize(chr(code))
        if form != chr(code):
            forms[code] = form
    changing = re.compile("[" + "".join(re.escape(chr(code)) for code in forms) + "]")
    longer = "".join(re.escape(chr(code)) for code, form in forms.items() if len(form) > 1)
    return forms, changing, re.compile(f"[{longer}]")


def _normalized(text: str) -> tuple[str, Sequence[int]]:
    """`text` normalised character by character, and each result character's origin."""
    forms, changing, longer = _forms()
    if not longer.search(text) and not _ASTRAL.search(text):
        # Every character becomes exactly one (the usual case): it stays where it was.
        return changing.sub(lambda found: forms[ord(found.group())], text), range(len(text))
    parts: list[str] = []
    origin: list[int] = []
    for position, char in enumerate(text):
        form = forms.get(ord(char), char) if ord(char) < 0x10000 else normalize(char)
        parts.append(form)
        origin.extend([position] * len(form))
    return "".join(parts), origin


def _find_term(runs: list[tuple[int, str]], term: list[str]) -> list[Span]:
    """Where the term's runs occur in a row among the text's runs (normalised offsets).

    Chinese runs match inside runs (the first may end one, the last may begin one);
    words and numbers match whole, as in the index.
    """
    found: list[Span] = []
    size = len(term)
    first, last = term[0], term[-1]
    for index in range(len(runs) - size + 1):
        start, run = runs[index]
        if size == 1:
            if is_cjk(first):
                at = run.find(first)
                while at >= 0:
                    found.append((start + at, start + at + len(first)))
                    at = run.find(first, at + 1)
            elif run == first:
                found.append((start, start + len(run)))
            continue
        if not (run.endswith(first) if is_cjk(first) else run == first):
            continue
        if any(runs[index + k][1] != term[k] for k in range(1, size - 1)):
            continue
        end_start, end_run = runs[index + size - 1]
        if end_run.startswith(last) if is_cjk(last) else end_run == last:
            found.append((start + len(run) - len(first), end_start + len(last)))
    return found


def _matches(text: str, terms: Sequence[str]) -> list[Span]:
    """Merged, sorted spans of the original text where any term matches."""
    normalized, origin = _normalized(text)
    runs: list[tuple[int, str]] | None = None  # made when a term needs them
    spans: list[Span] = []
    for term in terms:
        for part in term.split():
            wanted = [run for _, run in token_runs(normalize(part))]
            if len(wanted) == 1 and is_cjk(wanted[0]):
                # One Chinese run matches anywhere inside Chinese text, and its characters
                # can only occur there: str.find over the whole text says the same, faster.
                at = normalized.find(wanted[0])
                while at >= 0:
                    spans.append((origin[at], origin[at + len(wanted[0]) - 1] + 1))
                    at = normalized.find(wanted[0], at + 1)
                continue
            if wanted:
                runs = token_runs(normalized) if runs is None else runs
                spans.extend(
                    (origin[start], origin[end - 1] + 1) for start, end in _find_term(runs, wanted)
                )
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _boundary(text: str, position: int) -> int:
    """Move a cut left off combining marks so no character loses its accents."""
    while 0 < position < len(text) and unicodedata.combining(text[position]):
        position -= 1
    return position


def _window(text: str, spans: list[Span], width: int) -> Span:
    """The `width` characters holding the most whole matches (the earliest such)."""
    if len(text) <= width:
        return 0, len(text)
    lead = width // 5  # some context before the first match
    # Spans are merged and sorted, so their ends are sorted too: the spans inside a window
    # are those after the ones starting before it, up to the last one ending in it.
    starts, ends = [s for s, _ in spans], [e for _, e in spans]
    best, best_count = 0, -1
    for span_start in starts or [0]:
        start = max(0, min(span_start - lead, len(text) - width))
        inside = bisect.bisect_right(ends, start + width) - bisect.bisect_left(starts, start)
        count = max(inside, 0)  # negative when one span is longer than the window
        if count > best_count:
            best, best_count = start, count
    start = _boundary(text, best)
    return start, _boundary(text, start + width)


def _render(text: str) -> str:
    return html.escape(_SPACE.sub(" ", text), quote=True)


def highlight(text: str, terms: Sequence[str], *, width: int = 120) -> str:
    """An HTML-safe excerpt of at most `width` characters with the terms in `<mark>`."""
    spans = _matches(text, terms)
    start, end = _window(text, spans, max(width, 1))
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    out: list[str] = [ELLIPSIS] if start > 0 else []
    position = start
    for span_start, span_end in spans:
        span_start, span_end = max(span_start, start), min(span_end, end)
        if span_start >= span_end:
            continue
        out.append(_render(text[position:span_start]))
        out.append(f"<mark>{_render(text[span_start:span_end])}</mark>")
        position = span_end
    out.append(_render(text[position:end]))
    if end < len(text.rstrip()):
        out.append(ELLIPSIS)
    return "".join(out)


def highlight_title(title: str, terms: Sequence[str]) -> str:
    """The whole title, HTML-safe, with the terms in `<mark>`."""
    return highlight(title, terms, width=max(len(title), 1))
