"""Policy metadata (发文字号, 发文机关, 成文日期 ...) from the 信息公开 table or the body.

gov.cn and the provincial portals print a label/value table (`table.bd1` and look-alikes
built of `td`, `li > span` or `dl > dt/dd`). Pages without it still carry the facts in
the document itself: the 发文字号 line under the title and the signature block (issuer,
then the date it was signed) at the end.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from lxml.html import HtmlElement

from classifier.extraction.blocks import collapse, element_text, select, vocabulary
from classifier.extraction.dates import parse_date
from hitwatch.messages import PolicyMeta

__all__ = ["PolicyFields", "find_doc_number", "policy_from_body", "policy_from_table"]

_BRACKETS = r"〔\[［(（【"
_CLOSE = r"〕\]］)）】"
_DOC_NUMBER = re.compile(
    rf"[\u4e00-\u9fa5]{{1,16}}\s*[{_BRACKETS}]\s*(?:19|20)\d{{2}}\s*[{_CLOSE}]\s*第?\s*\d{{1,5}}\s*号"
    r"|[\u4e00-\u9fa5]{1,16}令\s*(?:\(\s*)?第\s*\d{1,5}\s*号"
)
# The signature: an issuing body's name ends with one of these.
_ISSUER = re.compile(
    r"^[\u4e00-\u9fa5、（）()]{2,40}"
    r"(?:院|厅|部|委|委员会|局|署|办|办公室|政府|中心|会|总局|管理局|小组|军委|行|所|司|处|室)$"
)
_ONLY_DATE = re.compile(r"^[\d〇○零一二三四五六七八九十\s年月日./-]{6,20}$")


@dataclass(frozen=True)
class PolicyFields:
    """Table contents: the metadata plus the document title the table states."""

    meta: PolicyMeta
    title: str = ""


def _day(text: str) -> str:
    moment = parse_date(text)
    return moment.strftime("%Y-%m-%d") if moment else ""


def _compact(text: str) -> str:
    """`text` without whitespace and colons, as labels are compared (str.split() splits
    at exactly the characters a regex's \\s matches, \\u3000 and \\u00a0 among them)."""
    return "".join(text.split()).replace(":", "").replace("：", "")


def _label(text: str) -> str | None:
    return vocabulary().policy_labels.get(_compact(text))


def _pairs(root: HtmlElement) -> list[tuple[str, str]]:
    """(field, value) for every label element followed by a value element or text."""
    pairs: list[tuple[str, str]] = []
    for element in root.iter("td", "th", "span", "label", "b", "strong", "dt", "li", "p", "div"):
        own = collapse(element.text_content())
        if len(own) > 60:
            continue
        field = _label(own)
        if field is not None:
            value_element = element.getnext()
            parent = element.getparent()
            # <td><b>发文机关：</b></td><td>国务院</td>: the label sits inside a cell
            if value_element is None and parent is not None and element.tag in {"b", "strong"}:
                value_element = parent.getnext()
            if value_element is not None:
                pairs.append((field, element_text(value_element)))
            continue
        label, colon, value = own.partition("：") if "：" in own else own.partition(":")
        if colon and value.strip():
            field = _label(label)
            if field is not None and not any(
                _is_label(child) for child in element if isinstance(child.tag, str)
            ):
                pairs.append((field, value.strip()))
    return pairs


def _is_label(element: HtmlElement) -> bool:
    return _label(collapse(element.text_content())) is not None


def _names_two_fields(scope: HtmlElement) -> bool:
    """Could `scope` hold a table at all? Every label `_pairs` finds is a substring of
    the scope's text without its spaces and colons; one pass over that text spares the
    element-by-element walk on the common page, which has no such table."""
    voc = vocabulary()
    found = voc.policy_label_matcher.find_matches_as_indexes(
        _compact(scope.text_content()), overlapping=True
    )
    return len({voc.policy_label_fields[index] for index, _, _ in found} - {"title"}) >= 2


def policy_from_table(root: HtmlElement, selectors: Sequence[str] = ()) -> PolicyFields | None:
    """The metadata table under `root` (or the elements `selectors` name); None when absent.

    A table counts when it names at least two of the known fields, so a lone 标题 label
    elsewhere on the page does not make a news article a policy document.
    """
    scopes: list[HtmlElement] = []
    for selector in selectors:
        scopes.extend(select(root, selector))
    if not scopes:
        scopes = [root]
    if not any(_names_two_fields(scope) for scope in scopes):
        return None
    values: dict[str, str] = {}
    for scope in scopes:
        for field, value in _pairs(scope):
            if value and field not in values:
                values[field] = value
    if len(values.keys() - {"title"}) < 2:
        return None
    meta = PolicyMeta(
        doc_number=values.get("doc_number", ""),
        issuer=values.get("issuer", ""),
        index_number=values.get("index_number", ""),
        topic=values.get("topic", ""),
        written_date=_day(values.get("written_date", "")),
        publish_date=_day(values.get("publish_date", "")),
    )
    return PolicyFields(meta=meta, title=values.get("title", ""))


def find_doc_number(paragraphs: Sequence[str], *, head: int = 6) -> str:
    """The 发文字号 standing alone near the top of a document, e.g. 国办发〔2019〕4号."""
    for paragraph in paragraphs[:head]:
        # Every 发文字号 ends in 号: a line without it is spared the pattern's attempt
        # at each of its characters.
        if "号" not in paragraph:
            continue
        match = _DOC_NUMBER.search(paragraph)
        if match and len(paragraph) <= len(match[0]) + 12:
            return collapse(match[0])
    return ""


def _signature(paragraphs: Sequence[str], *, tail: int = 8) -> tuple[str, str]:
    """(issuer, signing date) from the signature block at the end, as far as found."""
    start = max(len(paragraphs) - tail, 0)
    for index in range(len(paragraphs) - 1, start - 1, -1):
        line = paragraphs[index].replace(" ", "")
        if not _ONLY_DATE.match(line):
            # issuer and date on one line: 国务院办公厅 2019年1月16日
            parts = paragraphs[index].rsplit(" ", 1)
            if (
                len(parts) == 2
                and _ISSUER.match(parts[0].replace(" ", ""))
                and _ONLY_DATE.match(parts[1])
            ):
                return parts[0].replace(" ", ""), _day(parts[1])
            continue
        written = _day(line)
        if not written:
            continue
        issuers: list[str] = []
        for previous in range(index - 1, max(index - 4, -1), -1):
            name = paragraphs[previous].replace(" ", "")
            if not _ISSUER.match(name):
                break
            issuers.insert(0, name)
        return "、".join(issuers), written
    return "", ""


def policy_from_body(
    title: str, paragraphs: Sequence[str], published_at: datetime | None, *, official: bool
) -> PolicyMeta | None:
    """Metadata read from the document text; None unless it looks like an official document.

    `official` (a government source) lets a signature block alone qualify; elsewhere a
    发文字号 is required, since news articles quote signature-like lines too.
    """
    doc_number = find_doc_number(paragraphs)
    issuer, written = _signature(paragraphs)
    if not doc_number and not (official and (issuer or written)):
        return None
    if not issuer:
        prefix = title.split("关于", 1)[0] if "关于" in title else ""
        if prefix and _ISSUER.match(prefix):
            issuer = prefix
    return PolicyMeta(
        doc_number=doc_number,
        issuer=issuer,
        written_date=written,
        publish_date=published_at.strftime("%Y-%m-%d") if published_at else "",
    )
