"""`extract_page`: one fetched page in, one clean article out.

Site rules (CSS selectors from the source definition) are tried first, field by field; a
field they do not yield comes from the generic extractor (trafilatura for the body plus our
own cleanup, and our own title, date, origin and author heuristics).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from itertools import chain, islice
from typing import Any, Literal
from urllib.parse import unquote, urljoin, urlsplit

import lxml.etree
import lxml.html
import trafilatura
from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura.settings import Document

from classifier.extraction.blocks import (
    clean_paragraphs,
    collapse,
    drop_elements,
    element_blocks,
    element_paragraphs,
    element_text,
    iter_blocks,
    iter_links,
    select,
    vocabulary,
)
from classifier.extraction.content import main_content, prose_blocks
from classifier.extraction.dates import BEIJING, parse_date, url_date
from classifier.extraction.encoding import decode_page, sniff_binary
from classifier.extraction.policy import PolicyFields, policy_from_body, policy_from_table
from classifier.extraction.wechat import (
    WECHAT_RULES,
    check_not_removed,
    content_images,
    page_link,
    script_time,
    wechat_outlet,
)
from hitwatch.errors import ExtractionError
from hitwatch.messages import Attachment, PolicyMeta
from hitwatch.sources import DetailRules, SourceDefinition, find_source
from hitwatch.sources.wechat import is_wechat_url

__all__ = ["ATTACHMENT_EXTENSIONS", "Extraction", "extract_page"]

ATTACHMENT_EXTENSIONS = (".pdf", ".doc", ".docx", ".xls", ".xlsx", ".wps", ".zip", ".et", ".ofd")
_NOT_HTML_TYPES = (
    "application/pdf",
    "image/",
    "audio/",
    "video/",
    "application/zip",
    "application/msword",
)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
# Server-side includes leave a header's own </body></html> mid-page; libxml2 stops there.
_CLOSING_DOCUMENT = re.compile(r"</(?:body|html)\s*>", re.IGNORECASE)
_TITLE_SEPARATORS = re.compile(r"\s*(?:_|\||｜|--|—|－|\s-\s)\s*")
_META_DATES = (
    "firstpublishedtime",
    "publishdate",
    "pubdate",
    "publish_date",
    "publishtime",
    "publish-date",
    "article:published_time",
    "og:release_date",
    "datepublished",
    "ptime",
    "dc.date.issued",
    "dc.date",
    "created",
)
_META_TITLES = ("articletitle", "og:title", "twitter:title", "title")
# Share of trafilatura's text that must lie in the voted container for the two to agree.
_AGREEMENT = 0.5
# A related-list line: a linked title (this long at least) plus a date / channel this long.
_MIN_LINK_TITLE = 6
_LINK_ITEM_EXTRA = 24
_SENTENCE_MARKS = re.compile(r"[，。！？；]")
_LIST_MARK = re.compile(r"^[-*•]\s+")
# Pages with less article text than this after extraction are furniture, not articles.
_MIN_BODY_CHARS = 10
# How many lines after the title the date/source/author line may sit.
_HEADER_LINES = 8
_HEADLINE_TAGS = ("h1", "h2", "h3")
# A kicker or subtitle is a short line; a headline block with more lines holds furniture.
_MAX_SUBTITLE_CHARS = 120
_MAX_SUBTITLES = 2


@dataclass(frozen=True)
class Extraction:
    """The article found on one page."""

    url: str
    title: str
    published_at: datetime | None
    source_name: str
    origin_name: str
    author: str
    paragraphs: list[str]
    attachments: list[Attachment] = field(default_factory=list)
    policy: PolicyMeta | None = None
    encoding: str = "utf-8"
    method: Literal["site", "fallback"] = "fallback"
    canonical_url: str = ""  # the article's URL as the page itself names it (WeChat)
    images: list[str] = field(default_factory=list)  # the body's images (WeChat: data-src)

    @property
    def body(self) -> str:
        return "\n".join(self.paragraphs)

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "source_name": self.source_name,
            "origin_name": self.origin_name,
            "author": self.author,
            "body": self.body,
            "attachments": [a.model_dump() for a in self.attachments],
            "policy": self.policy.model_dump() if self.policy else None,
            "encoding": self.encoding,
            "method": self.method,
            "canonical_url": self.canonical_url,
            "images": self.images,
        }


def _check_bytes(raw: bytes, content_type: str) -> None:
    if not raw or not raw.strip():
        raise ExtractionError(
            "empty response body: nothing to extract (was the page fetched completely?)"
        )
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind and kind.startswith(_NOT_HTML_TYPES):
        raise ExtractionError(
            f"not HTML: content type {kind}; attachments are read with attach_pdf_text"
        )
    binary = sniff_binary(raw)
    if binary is not None:
        raise ExtractionError(f"not HTML: the body is {binary}")


def _parse(text: str, url: str) -> HtmlElement:
    text = _CLOSING_DOCUMENT.sub("", _XML_DECLARATION.sub("", text, count=1))
    if not text.strip():
        raise ExtractionError("empty page after decoding")
    try:
        root = lxml.html.document_fromstring(text)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise ExtractionError(f"not parseable as HTML: {exc}") from exc
    return root


def _base_url(root: HtmlElement, url: str) -> str:
    """What relative links on the page are relative to: its `<base href>`, else its URL."""
    base = next((b for b in root.iter("base") if b.get("href") is not None), None)
    href = base.get("href", "").strip() if base is not None else ""
    return _absolute(href, url) if href else url


def _absolute(href: str, base: str) -> str:
    # Links are resolved one by one where they are used (attachments): resolving every
    # link of a page with navigation and sidebars cost more than the rest of extraction.
    try:
        return urljoin(base, href) if base else href
    except ValueError:  # e.g. a malformed IPv6 host: keep the link as written
        return href


def _first(root: HtmlElement, selectors: Sequence[str]) -> tuple[HtmlElement, list[str]] | None:
    """The first element a selector finds with some text (or a meta tag), and its
    paragraphs: read once, for the test and for the field."""
    for selector in selectors:
        for element in select(root, selector):
            paragraphs = element_paragraphs(element)
            if paragraphs or element.tag == "meta":
                return element, paragraphs
    return None


def _first_text(root: HtmlElement, selectors: Sequence[str]) -> str:
    found = _first(root, selectors)
    return " ".join(found[1]) if found else ""


def _meta(root: HtmlElement, names: Sequence[str]) -> str:
    wanted = {name.lower(): rank for rank, name in enumerate(names)}
    best: tuple[int, str] | None = None
    for meta in root.iter("meta"):
        key = (meta.get("name") or meta.get("property") or meta.get("itemprop") or "").lower()
        content = (meta.get("content") or "").strip()
        if key in wanted and content and (best is None or wanted[key] < best[0]):
            best = (wanted[key], content)
    return best[1] if best else ""


def source_name_for(url: str, source: SourceDefinition | None) -> str:
    """The outlet's display name: the definition's, the vocabulary's, or the bare host."""
    if source is not None:
        return source.name
    host = (urlsplit(url).hostname or "").lower()
    outlets = vocabulary().outlets
    parts = host.split(".")
    for start in range(len(parts) - 1):
        name = outlets.get(".".join(parts[start:]))
        if name:
            return name
    return host.removeprefix("www.")


def _clean_title(title: str) -> str:
    return collapse(title).strip("　 ")


def _generic_title(root: HtmlElement) -> str:
    page_title = _clean_title(root.findtext(".//title") or "")
    meta_title = _clean_title(_meta(root, _META_TITLES))
    headings = [element_text(h) for h in root.iter("h1", "h2")]
    headings = [h for h in headings if 4 <= len(h) <= 120]
    reference = meta_title or page_title
    for heading in headings:
        if reference and (heading in reference or reference in heading):
            return heading
    if meta_title:
        return meta_title
    if page_title:
        parts = [p for p in _TITLE_SEPARATORS.split(page_title) if p]
        return max(parts, key=len) if parts else page_title
    return headings[0] if headings else ""


def _date_from_text(lines: Sequence[str], year: int | None, reference: datetime) -> datetime | None:
    """A labelled date (发布时间：…) first, then any full date, then dates without a year."""
    label = vocabulary().date_label
    for context in ({}, {"year": year, "reference": reference}):
        for line in lines:
            match = label.search(line)
            found = parse_date(line[match.end() :], **context) if match else None  # type: ignore[arg-type]
            if found:
                return found
        for line in lines:
            found = parse_date(line, **context)  # type: ignore[arg-type]
            if found:
                return found
    return None


def _strip_meta_lines(
    paragraphs: list[str], outlet_patterns: Sequence[re.Pattern[str]]
) -> list[str]:
    """Drop the date / 来源 line that generic extraction keeps above the first paragraph."""
    head = 0
    while head < min(3, len(paragraphs) - 1):
        line = paragraphs[head]
        meta = parse_date(line) is not None or any(p.search(line) for p in outlet_patterns)
        if not meta or len(line) > 60 or "。" in line:
            break
        head += 1
    return paragraphs[head:]


def _subtitle_line(line: str) -> bool:
    voc = vocabulary()
    return (
        2 <= len(line) <= _MAX_SUBTITLE_CHARS
        and not voc.is_furniture(line)
        and not voc.date_label.search(line)
        and not any(p.search(line) for p in voc.origin_patterns)
        and parse_date(line) is None
    )


def _subtitles(root: HtmlElement, title: str) -> list[str]:
    """Kicker (引题) and subtitle (副标题) printed with the headline, in reading order.

    Either further lines inside the headline element itself, or siblings of the headline
    whose class/id names them a subtitle (vocabulary `subtitle_markers`).
    """
    if not title:
        return []
    markers = vocabulary().subtitle_markers
    for heading in root.iter(*_HEADLINE_TAGS):
        lines = element_paragraphs(heading)
        if title not in lines and element_text(heading) != title:
            continue
        extra = [line for line in lines if line != title]
        if not extra:
            parent = heading.getparent()
            siblings = [
                sibling
                for sibling in (parent if parent is not None else [])
                if sibling is not heading
                and isinstance(sibling.tag, str)
                and markers.search(f"{sibling.get('class', '')} {sibling.get('id', '')}")
            ]
            extra = [element_text(sibling) for sibling in siblings]
        extra = [line for line in extra if line]
        if len(extra) > _MAX_SUBTITLES or not all(map(_subtitle_line, extra)):
            return []
        return extra
    return []


def _named(lines: Sequence[str], patterns: Sequence[re.Pattern[str]]) -> str:
    for line in lines:
        for pattern in patterns:
            match = pattern.search(line)
            if match:
                return match["name"].strip()
    return ""


def _normalise_origin(text: str, outlet: str) -> str:
    name = re.sub(r"^(?:文章|信息|本文)?来源\s*[:：]?", "", collapse(text)).strip(" :：|｜")
    name = re.split(r"\s|　|作者|编辑|时间|发布", name, maxsplit=1)[0]
    # A date glued to the name ("办公室2024-07-30") belongs to the page's date line.
    name = re.sub(r"\d{2,4}[-/.年]\d{1,2}(?:[-/.月]\d{1,2}日?)?.*$", "", name).strip()
    if not re.search(r"[^\W\d_]", name):  # nothing but digits and punctuation: not a name
        return ""
    if vocabulary().outlet_aliases.get(name) == outlet:
        return ""
    return "" if not name or name == outlet or outlet.startswith(name) else name


def _is_origin_line(line: str, origin: str) -> bool:
    """The 来源 name split from its label by markup (`来源: <a>name</a>`) is no body text."""
    return line.startswith(origin) and len(line) <= len(origin) + 8 and "。" not in line


def _attachments(scope: HtmlElement, base: str) -> list[Attachment]:
    found: dict[str, Attachment] = {}
    for anchor, link in iter_links(scope):
        href = _absolute(link, base)
        path = unquote(urlsplit(href).path).lower()
        if not path.endswith(ATTACHMENT_EXTENSIONS) or href in found:
            continue
        title = element_text(anchor) or anchor.get("title", "") or path.rsplit("/", 1)[-1]
        found[href] = Attachment(url=href, title=title)
    return list(found.values())


def _header_lines(page_lines: Iterator[str], title: str, first_paragraph: str) -> list[str]:
    """The lines between the title and the body: where dates, 来源 and bylines are printed.

    `page_lines` are read only as far as needed when the title is among them.
    """
    seen: list[str] = []
    following: Iterator[str] | None = None
    if title:
        for line in page_lines:
            seen.append(line)
            if line == title or (len(line) < 2 * len(title) and title in line):
                following = chain([line], islice(page_lines, _HEADER_LINES))
                break
    if following is None:
        seen.extend(page_lines)
        start = next((i for i, line in enumerate(seen) if line == first_paragraph), None)
        if start is None or not first_paragraph:
            return []
        start = max(start - _HEADER_LINES, 0)
        following = iter(seen[start : start + _HEADER_LINES + 1])
    header: list[str] = []
    for line in following:
        if line == first_paragraph and header:
            break
        header.append(line)
    return header


def trafilatura_document(
    page: str | bytes, url: str = "", *, metadata: bool = True
) -> Document | None:
    """trafilatura's article (and metadata) for `page` (text, or bytes it decodes itself)."""
    document = trafilatura.bare_extraction(
        page, url=url or None, with_metadata=metadata, include_comments=False, include_tables=True
    )
    return document if isinstance(document, Document) else None


def _trafilatura_body(text: str, url: str) -> tuple[list[str], str, str]:
    """(paragraphs, title, ISO date) as trafilatura finds them."""
    # Its metadata pass (htmldate + dateparser) costs three quarters of the time and our
    # own title and date heuristics run anyway; htmldate is asked below only when needed.
    document = trafilatura_document(text, url, metadata=False)
    if document is None:
        return [], "", ""
    lines = [_LIST_MARK.sub("", collapse(line)) for line in (document.text or "").splitlines()]
    return [line for line in lines if line], document.title or "", document.date or ""


def _table_cells(lines: Sequence[str]) -> list[str]:
    """trafilatura renders tables as `| a | b |` rows: one line per cell, rules dropped."""
    cells: list[str] = []
    for line in lines:
        parts = line.strip("|").split("|") if line.startswith("|") else [line]
        cells.extend(p.strip() for p in parts if p.strip() and not set(p.strip()) <= set("-: "))
    return cells


def _prose_marks(lines: Sequence[str]) -> int:
    return sum(len(_SENTENCE_MARKS.findall(line)) for line in lines)


def _trim_link_tail(lines: list[str], root: HtmlElement) -> list[str]:
    """Drop the run of link lines (related stories, channel names) ending the body.

    A link line is a block that is mostly link text, or a linked title followed by no more
    than its date and channel. Only at the end: the article's own last line ((完), a
    credit) is plain text, and links inside paragraphs make no link line.
    """
    body = root.body if root.body is not None else root
    blocks = {"".join(text.split()) for text, share in element_blocks(body) if share > 0.5}
    anchors = {"".join(a.text_content().split()) for a in body.iter("a")}
    titles = [text for text in anchors if len(text) >= _MIN_LINK_TITLE]

    def is_link(line: str) -> bool:
        compact = "".join(line.split())
        if compact in blocks or compact in anchors:
            return True
        return any(
            compact.startswith(title) and len(compact) - len(title) <= _LINK_ITEM_EXTRA
            for title in titles
        )

    end = len(lines)
    while end > 1 and is_link(lines[end - 1]):
        end -= 1
    return lines[:end]


def _fallback_body(text: str, url: str, root: HtmlElement) -> tuple[list[str], str, str]:
    """Body lines trafilatura keeps that also lie inside the container our prose vote found.

    trafilatura is good at dropping boilerplate but takes whole layout tables (old
    portals, NetEase 2015) with their navigation; the prose vote finds the right container
    but keeps its furniture. Their intersection beats both on the corpus.
    """
    lines, title, date = _trafilatura_body(text, url)
    cells = _table_cells(lines)
    container = main_content(root)
    if container is None:
        return cells, title, date
    own = prose_blocks(container)
    inside_text = "".join("".join(own).split())
    inside = [c for c in cells if "".join(c.split()) in inside_text]
    if not cells:
        return own, title, date
    # When the two disagree wholesale one of them picked a wrong block: usually the vote,
    # unless trafilatura's pick holds less prose (a navigation bar beside a one-paragraph
    # decision, say).
    if sum(map(len, inside)) < _AGREEMENT * sum(map(len, cells)):
        return (cells if _prose_marks(cells) >= _prose_marks(own) else own), title, date
    return inside, title, date


@dataclass(frozen=True)
class _RuleFields:
    """What the site rules read before furniture is dropped (dates sit in share bars)."""

    title: str
    date_text: str
    origin: str
    author: str
    table: PolicyFields | None


def _rule_fields(root: HtmlElement, rules: DetailRules) -> _RuleFields:
    rule_date = _first(root, rules.published_at)
    date_text = ""
    if rule_date is not None:
        date, paragraphs = rule_date
        date_text = date.get("content", "") if date.tag == "meta" else " ".join(paragraphs)
    return _RuleFields(
        title=_first_text(root, rules.title),
        date_text=date_text,
        origin=_first_text(root, rules.origin),
        author=_first_text(root, rules.author),
        table=policy_from_table(root, rules.policy_table),
    )


@dataclass(frozen=True)
class _Body:
    """The article's paragraphs, by the site rules or else the generic extractor (which
    also offers a title and a date)."""

    paragraphs: list[str]
    element: HtmlElement | None  # the rules' body element
    method: Literal["site", "fallback"]
    fallback_title: str = ""
    fallback_date: str = ""


def _body(root: HtmlElement, rules: DetailRules, text: str, url: str) -> _Body:
    found = _first(root, rules.body)
    if found is None:
        paragraphs, title, date = _fallback_body(text, url, root)
        return _Body(paragraphs, None, "fallback", title, date)
    body_element, paragraphs = found
    nested = select(body_element, ", ".join(rules.policy_table)) if rules.policy_table else []
    for table in nested:
        table.drop_tree()
    if nested:  # the policy table is read apart, not as body text
        paragraphs = element_paragraphs(body_element)
    return _Body(paragraphs, body_element, "site")


def _title(root: HtmlElement, fields: _RuleFields, body: _Body, hints: Mapping[str, str]) -> str:
    title = fields.title
    if not title and fields.table is not None:
        title = fields.table.title
    if not title:
        title = _generic_title(root) or body.fallback_title or hints.get("title", "")
    return title


def _clean_body(root: HtmlElement, body: _Body, title: str) -> list[str]:
    paragraphs = clean_paragraphs(body.paragraphs, drop_lines=[title])
    if body.method == "fallback":
        paragraphs = _strip_meta_lines(paragraphs, vocabulary().origin_patterns)
        paragraphs = _trim_link_tail(paragraphs, root)
    return paragraphs


def _check_found(url: str, method: str, title: str, paragraphs: Sequence[str]) -> None:
    if sum(len(p) for p in paragraphs) < _MIN_BODY_CHARS:
        raise ExtractionError(
            f"no article text found on {url or 'the page'} ({method} extraction); "
            "if this is an article page, check the source definition's detail.body selectors"
        )
    if not title:
        raise ExtractionError(
            f"no title found on {url or 'the page'}; set detail.title in the source definition"
        )


def _published_at(
    root: HtmlElement,
    url: str,
    hints: Mapping[str, str],
    reference: datetime,
    fields: _RuleFields,
    header_after_title: Sequence[str],
    fallback_date: str,
) -> datetime | None:
    """The first date found of: site rule, meta tags (the time from the line under the
    title when they give the day only), the policy table, htmldate, the URL, the list."""
    from_url = url_date(url)
    hint_date = parse_date(hints.get("date", ""), reference=reference)
    year = from_url.year if from_url else hint_date.year if hint_date else None
    published_at = parse_date(fields.date_text, year=year, reference=reference) or parse_date(
        _meta(root, _META_DATES), year=year, reference=reference
    )
    # Meta tags often carry the day only; the printed line under the title has the time
    # (read only when it can matter: no date yet, or one at midnight).
    if published_at is None or published_at.time() == time(0):
        in_text = _date_from_text(header_after_title, year, reference)
        if published_at is None or (in_text is not None and in_text.date() == published_at.date()):
            published_at = in_text or published_at
    if published_at is None and fields.table is not None and fields.table.meta.publish_date:
        published_at = parse_date(fields.table.meta.publish_date)
    if published_at is None:
        iso = (
            fallback_date
            or find_date(root, extensive_search=False, original_date=True, url=url or None)
            or ""
        )
        published_at = parse_date(iso)
    if published_at is None and from_url is not None and from_url.day is not None:
        published_at = datetime(from_url.year, from_url.month, from_url.day, tzinfo=BEIJING)
    if published_at is None:
        published_at = hint_date
    return published_at


def _byline(
    fields: _RuleFields, header: Sequence[str], paragraphs: list[str], outlet: str
) -> tuple[str, str, list[str]]:
    """Origin (来源) and author, and the paragraphs without a leading origin line."""
    voc = vocabulary()
    origin_name = _normalise_origin(fields.origin, outlet) if fields.origin else ""
    if not fields.origin:
        tail = paragraphs[-3:]
        origin_name = _normalise_origin(_named([*header, *tail], voc.origin_patterns), outlet)
    author = _named([fields.author], voc.author_patterns) or fields.author
    if origin_name and len(paragraphs) > 1 and _is_origin_line(paragraphs[0], origin_name):
        paragraphs = paragraphs[1:]
    if not author:
        author = _named(header, voc.author_patterns)
    return origin_name, author, paragraphs


def _policy(
    url: str,
    source: SourceDefinition | None,
    fields: _RuleFields,
    title: str,
    paragraphs: Sequence[str],
    published_at: datetime | None,
) -> PolicyMeta | None:
    """The policy table's metadata, or what the text of an official page says."""
    if fields.table is not None:
        return fields.table.meta
    host = urlsplit(url).hostname or ""
    official = (source.kind == "government") if source is not None else host.endswith(".gov.cn")
    return policy_from_body(title, paragraphs, published_at, official=official)


def extract_page(
    raw: bytes,
    url: str,
    *,
    content_type: str = "",
    hints: Mapping[str, str] | None = None,
    source: SourceDefinition | None = None,
    now: datetime | None = None,
    sources: tuple[SourceDefinition, ...] | None = None,
) -> Extraction:
    """Extract the article of one page; raises ExtractionError saying why it cannot.

    `source=None` looks the definition up by URL; an unknown host gets the generic
    extractor only; `sources` replaces the shipped definitions for that look-up. `hints`
    are what the list page said (title, date); `now` anchors dates printed without a year
    (defaults to the current time). A WeChat article is read by the WeChat rule
    (`classifier.extraction.wechat`) whichever source found it; one whose page says it was
    removed raises ArticleRemovedError.
    """
    hints = hints or {}
    if source is None:
        source = find_source(url, sources)
    wechat = is_wechat_url(url)
    if wechat:
        rules = WECHAT_RULES
    else:
        rules = source.detail if source is not None else DetailRules.model_validate({})
    _check_bytes(raw, content_type)
    decoded = decode_page(raw, content_type, rules.encoding)
    if wechat:
        check_not_removed(decoded.text, url)
    root = _parse(decoded.text, url)
    reference = now or datetime.now(BEIJING)
    outlet = wechat_outlet(root, decoded.text, source) if wechat else source_name_for(url, source)
    images = content_images(root) if wechat else []

    fields = _rule_fields(root, rules)
    drop_elements(root, rules.drop)
    body = _body(root, rules, decoded.text, url)
    title = _title(root, fields, body, hints)
    paragraphs = _clean_body(root, body, title)
    subtitles = [line for line in _subtitles(root, title) if line not in paragraphs]
    _check_found(url, body.method, title, paragraphs)

    page_lines = (text for text, _ in iter_blocks(root.body)) if root.body is not None else iter(())
    header = _header_lines(page_lines, title, paragraphs[0])
    header_after_title = header[1:] if header and title in header[0] else header
    published_at = _published_at(
        root, url, hints, reference, fields, header_after_title, body.fallback_date
    )
    if wechat:
        published_at = script_time(decoded.text) or published_at
    origin_name, author, paragraphs = _byline(fields, header, paragraphs, outlet)
    scope = body.element if body.element is not None else root

    return Extraction(
        url=url,
        title=title,
        published_at=published_at,
        source_name=outlet,
        origin_name=origin_name,
        author=author,
        paragraphs=[*subtitles, *paragraphs],
        attachments=_attachments(scope, _base_url(root, url)),
        policy=_policy(url, source, fields, title, paragraphs, published_at),
        encoding=decoded.encoding,
        method=body.method,
        canonical_url=page_link(decoded.text) if wechat else "",
        images=images,
    )
