"""Find the article container in a page by where its prose is, not by its markup.

Every block of prose (text with sentence punctuation, little of it inside links) votes
for its parent and, at half weight, its grandparent, as Readability does; the container
with the most votes, discounted by its share of link text, holds the article. Chinese
prose is recognised by its full-width punctuation, which navigation and link lists lack.
"""

from __future__ import annotations

import re

from lxml.html import HtmlElement

from classifier.extraction.blocks import BLOCK_TAGS, element_blocks

__all__ = ["main_content", "prose_blocks"]

# Code and styles are not prose, however much punctuation they hold.
_NOT_TEXT = frozenset({"script", "style", "noscript", "template", "textarea"})
_PUNCTUATION = re.compile(r"[，。！？；：、“”,.!?;]")
_CONTAINERS = frozenset(
    {"div", "td", "article", "section", "main", "body", "font", "center", "span"}
)
_PARAGRAPH_TAGS = frozenset(
    {"p", "div", "td", "section", "font", "span", "li", "pre", "blockquote", "h2", "h3", "h4"}
)
_UNLIKELY = re.compile(
    r"comment|footer|header|nav|menu|sidebar|side|related|recommend|share|ad-|advert|banner|"
    r"breadcrumb|crumb|copyright|hot|rank|foot|login|tool",
    re.IGNORECASE,
)
# A block with fewer characters or a larger share of link text is not prose.
_MIN_PROSE_CHARS = 12
_MAX_LINK_SHARE = 0.5


def _own_text(element: HtmlElement) -> str:
    """Text directly in `element` and its inline children, not in nested blocks."""
    parts = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str) and child.tag not in BLOCK_TAGS | _NOT_TEXT:
            parts.append(child.text_content())
        parts.append(child.tail or "")
    return "".join(parts).strip()


def _link_chars(element: HtmlElement) -> int:
    return sum(len(a.text_content().strip()) for a in element.iter("a"))


def main_content(root: HtmlElement) -> HtmlElement | None:
    """The element most likely to hold the article, or None when the page has no prose."""
    scores: dict[HtmlElement, float] = {}
    for element in root.iter(*_PARAGRAPH_TAGS):
        text = _own_text(element)
        if len(text) < _MIN_PROSE_CHARS:
            continue
        punctuation = len(_PUNCTUATION.findall(text))
        if not punctuation:
            continue
        score = 1 + punctuation + min(len(text) / 100, 3)
        parent = element.getparent()
        voters: list[tuple[float, HtmlElement | None]] = [
            (1.0, parent),
            (0.5, parent.getparent() if parent is not None else None),
        ]
        if element.tag in _CONTAINERS and element.find("br") is not None:
            voters.append((1.0, element))  # paragraphs separated by <br> inside one cell
        for weight, candidate in voters:
            if candidate is not None and isinstance(candidate.tag, str):
                scores[candidate] = scores.get(candidate, 0.0) + weight * score
    best: HtmlElement | None = None
    best_score = 0.0
    for candidate, score in scores.items():
        marker = f"{candidate.get('class', '')} {candidate.get('id', '')}"
        if _UNLIKELY.search(marker) and not re.search(
            r"content|article|text|main|body", marker, re.I
        ):
            score *= 0.3
        length = len(candidate.text_content()) or 1
        score *= 1 - min(_link_chars(candidate) / length, 1.0)
        if score > best_score:
            best, best_score = candidate, score
    return best


def prose_blocks(element: HtmlElement) -> list[str]:
    """Paragraphs of `element` without link lists (blocks that are mostly link text)."""
    kept = []
    for text, link_share in element_blocks(element):
        if link_share > _MAX_LINK_SHARE and not (len(text) > 40 and _PUNCTUATION.search(text)):
            continue
        kept.append(text)
    return kept
