"""Paragraph text out of HTML elements, and the line-level cleanup every body gets.

A paragraph is the text of one block element with its whitespace collapsed. Chinese is
written without spaces, so the spaces that HTML source indentation puts between two CJK
characters are removed, while spaces between Latin words stay.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import ahocorasick_rs
import lxml.etree
import yaml
from lxml.cssselect import CSSSelector
from lxml.html import HtmlElement

__all__ = [
    "BLOCK_TAGS",
    "Vocabulary",
    "clean_paragraphs",
    "collapse",
    "drop_elements",
    "element_blocks",
    "element_paragraphs",
    "element_text",
    "iter_blocks",
    "iter_links",
    "select",
    "vocabulary",
]

_BLOCK_TAG_NAMES = (
    "address article aside blockquote center dd details dialog div dl dt fieldset "
    "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre "
    "section summary table tbody thead tfoot tr td th ul br"
)
BLOCK_TAGS = frozenset(_BLOCK_TAG_NAMES.split())
_SKIP_TAG_NAMES = (
    "script style noscript iframe template svg canvas video audio object embed map head title"
)
_SKIP_TAGS = frozenset(_SKIP_TAG_NAMES.split())
# Form controls: their own text is a label, not prose, but broken markup (`<button />`)
# makes the parser nest the rest of the page inside them, so their children are walked.
_SILENT_TAGS = frozenset(["button", "select", "option", "input", "textarea"])

_CJK = r"\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
_SPACES = re.compile(r"[\s\u00a0\u3000\u200b\ufeff]+")
_ANY_SPACE = re.compile(r"\s")


class Vocabulary:
    """The data file `vocabulary.yaml`, compiled once."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.outlets: dict[str, str] = dict(data["outlets"])
        self.outlet_aliases: dict[str, str] = dict(data["outlet_aliases"])
        self.policy_labels: dict[str, str] = dict(data["policy_labels"])
        # Every label found in one pass (overlaps included: 文号 inside 发文字号).
        self.policy_label_matcher = ahocorasick_rs.AhoCorasick(list(self.policy_labels))
        self.policy_label_fields = list(self.policy_labels.values())
        self.origin_patterns = [re.compile(p) for p in data["origin_patterns"]]
        self.author_patterns = [re.compile(p) for p in data["author_patterns"]]
        self.date_label = re.compile(data["date_labels"])
        # Most furniture patterns hold at the line's start only: tried there alone (a
        # match) rather than at every character with the few that may stand anywhere.
        lines = data["furniture_lines"]
        self._furniture_start = _alternatives(p for p in lines if p.startswith("^"))
        self._furniture_anywhere = _alternatives(p for p in lines if not p.startswith("^"))
        self.end_markers = re.compile("|".join(f"(?:{p})" for p in data["end_markers"]))
        self.subtitle_markers = re.compile(data["subtitle_markers"])

    def is_furniture(self, line: str) -> bool:
        """Does one of the `furniture_lines` patterns match in `line`?"""
        return bool(self._furniture_start.match(line) or self._furniture_anywhere.search(line))


def _alternatives(patterns: Iterable[str]) -> re.Pattern[str]:
    """One pattern matching where any of `patterns` does (none: one that never matches)."""
    return re.compile("|".join(f"(?:{p})" for p in patterns) or r"(?!)")


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    path = Path(__file__).with_name("vocabulary.yaml")
    return Vocabulary(yaml.safe_load(path.read_text("utf-8")))


def collapse(text: str) -> str:
    """Collapse whitespace runs to one space, drop it between CJK characters, strip."""
    text = _SPACES.sub(" ", text).strip()
    return _SPACE_BETWEEN_CJK.sub("", text)


def _piece(text: str) -> str:
    """A text node with line-wrap spaces between CJK characters removed.

    Whitespace between two elements (`<a>甲</a> <a>乙</a>`) is kept as one space: it
    separates items on screen, while a line break inside one text node does not.
    """
    if text.isascii() or not _ANY_SPACE.search(text):  # nothing the pattern could remove
        return text
    return _SPACE_BETWEEN_CJK.sub("", text)


def _block(chunk: list[tuple[str, bool]]) -> tuple[str, float] | None:
    """(text, share of it inside links) of one block's text pieces; None when blank."""
    text = _SPACES.sub(" ", "".join(piece for piece, _ in chunk)).strip()
    if not text:
        return None
    linked = sum(len(piece.strip()) for piece, link in chunk if link)
    return text, min(linked / len(text), 1.0)


def iter_blocks(element: HtmlElement) -> Iterator[tuple[str, float]]:
    """(text, share of it inside links) of every non-empty block inside `element` (and
    its tail), in reading order, produced as the walk goes: a caller that needs the first
    blocks only leaves the rest of the page unwalked."""
    chunk: list[tuple[str, bool]] = []
    in_link = [False]  # per element open in the walk: is it inside a link?
    walker = lxml.etree.iterwalk(element, events=("start", "end", "comment", "pi"))
    for event, node in walker:
        tag = node.tag
        if event == "start":
            link = in_link[-1]
            if tag in _SKIP_TAGS:
                walker.skip_subtree()
                in_link.append(link)
                continue
            link = link or tag == "a"
            in_link.append(link)
            if tag in BLOCK_TAGS and chunk:
                done, chunk = _block(chunk), []
                if done:
                    yield done
            text = node.text
            if text and tag not in _SILENT_TAGS:
                chunk.append((_piece(text), link))
            continue
        if event == "end":  # a comment or processing instruction has no end event
            in_link.pop()
            if tag in BLOCK_TAGS and chunk:
                done, chunk = _block(chunk), []
                if done:
                    yield done
        tail = node.tail
        if tail and node is not element:
            chunk.append((_piece(tail), in_link[-1]))
    if element.tail:
        chunk.append((_piece(element.tail), False))
    done = _block(chunk)
    if done:
        yield done


def element_blocks(element: HtmlElement) -> list[tuple[str, float]]:
    """(text, share of it inside links) of every non-empty block inside `element`."""
    return list(iter_blocks(element))


def element_paragraphs(element: HtmlElement) -> list[str]:
    """The non-empty block texts inside `element`, in reading order."""
    return [text for text, _ in element_blocks(element)]


def element_text(element: HtmlElement) -> str:
    """All text of `element` on one line (a title, a table cell)."""
    return " ".join(element_paragraphs(element))


@lru_cache(maxsize=1024)
def _compiled(selector: str) -> CSSSelector:
    return CSSSelector(selector, translator="html")


def select(root: HtmlElement, selector: str) -> list[HtmlElement]:
    """`root.cssselect(selector)` with the selector compiled once per process: translating
    CSS to XPath costs more than running it on an article page."""
    return _compiled(selector)(root)  # type: ignore[no-any-return]


def drop_elements(root: HtmlElement, selectors: Iterable[str]) -> None:
    """Remove every element matching one of the CSS `selectors` (their tails stay)."""
    selectors = list(selectors)
    # Without pseudo-classes and sibling combinators, whether an element matches does not
    # depend on the elements dropped before it: one query finds them all.
    if not any(mark in selector for selector in selectors for mark in ":+~"):
        selectors = [", ".join(selectors)] if selectors else []
    for selector in selectors:
        for element in select(root, selector):
            element.drop_tree()


def clean_paragraphs(paragraphs: Iterable[str], *, drop_lines: Iterable[str] = ()) -> list[str]:
    """Drop furniture lines, exact repeats and lines listed in `drop_lines` (e.g. the title).

    A related-stories heading (an end marker) after some article text ends the article.
    """
    voc = vocabulary()
    skip = {collapse(line) for line in drop_lines if line}
    seen: set[str] = set()
    kept: list[str] = []
    for paragraph in paragraphs:
        line = paragraph.strip()
        if voc.end_markers.search(line):
            if kept:
                break
            continue
        if not line or line in skip or voc.is_furniture(line):
            continue
        if line in seen and len(line) > 1:
            continue
        seen.add(line)
        kept.append(line)
    return kept


# Browsers drop ASCII tab and newline anywhere in a URL and spaces around it, so
# " Java\tScript:x" runs as javascript:x; a link is judged after the same cleaning.
_URL_NOISE = re.compile(r"[\t\n\r]")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")


def iter_links(root: HtmlElement) -> Iterator[tuple[HtmlElement, str]]:
    """(anchor, href) of every link under `root` to an http(s) page or a relative one;
    javascript:, data:, mailto: and fragment-only links are none."""
    for anchor in root.iter("a"):
        href = _URL_NOISE.sub("", anchor.get("href") or "").strip()
        scheme = _SCHEME.match(href)
        if not href or href.startswith("#"):
            continue
        if scheme is None or scheme.group(1).lower() in ("http", "https"):
            yield anchor, href
