"""A digest as the bulletin's text, Markdown, HTML (page and e-mail) and Atom; its checks.

The text follows the July 2024 bulletin line for line (see `bulletin.yaml` for the
wording): 本期导语, 一、信息目录, 二、具体内容. `check_invariants` reads such a text back
and reports every way it breaks the bulletin's six invariants, so tests and the publish
step check the very text that readers get.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree

import yaml
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from hitwatch.digest.build import Digest, DigestItem, local_date

__all__ = [
    "ItemGroup",
    "check_invariants",
    "item_groups",
    "lead",
    "masthead",
    "render_atom",
    "render_email_html",
    "render_html",
    "render_html_fragment",
    "render_markdown",
    "render_plain",
    "render_text",
    "snapshot_body",
    "wording",
]


@cache
def wording() -> dict[str, str]:
    """The bulletin's labels and templates (hitwatch/digest/bulletin.yaml)."""
    text = resources.files("hitwatch.digest").joinpath("bulletin.yaml").read_text("utf-8")
    data: dict[str, str] = yaml.safe_load(text)
    return data


@cache
def _templates() -> Environment:
    env = Environment(
        loader=PackageLoader("hitwatch.digest", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["wording"] = wording()
    return env


def _ordinal(index: int) -> str:
    ordinals = wording()["ordinals"]
    return ordinals[index] if index < len(ordinals) else str(index + 1)


@dataclass(frozen=True)
class ItemGroup:
    """Numbered items under one section heading ("" when the digest has no sections)."""

    heading: str  # "" when the digest has no sections
    items: tuple[tuple[int, DigestItem], ...]


def item_groups(digest: Digest) -> list[ItemGroup]:
    """Items numbered 1..N across sections, grouped under their section headings."""
    numbered = list(enumerate(digest.items, start=1))
    if not any(item.section for item in digest.items):
        return [ItemGroup("", tuple(numbered))]
    groups: list[ItemGroup] = []
    for number, item in numbered:
        if not groups or groups[-1].items[-1][1].section != item.section:
            heading = wording()["section_line"].format(
                ordinal=_ordinal(len(groups)), name=item.section
            )
            groups.append(ItemGroup(heading, ()))
        groups[-1] = ItemGroup(groups[-1].heading, (*groups[-1].items, (number, item)))
    return groups


def lead(digest: Digest) -> str:
    return wording()["lead"].format(
        period_word=digest.period_word,
        count=len(digest.items),
        topic_scope=digest.topic_scope,
        start=digest.start,
        end=digest.end,
        monitoring_scope=digest.monitoring_scope,
    )


def masthead(digest: Digest) -> list[str]:
    """Publisher, number (or draft), revision and correction: what the bulletin lacked."""
    words = wording()
    lines: list[str] = []
    if digest.publisher:
        lines.append(f"{digest.publisher}{digest.period_word}")
    if digest.draft or digest.number is None:
        lines.append(words["masthead_draft"])
    else:
        number = words["masthead_number"].format(number=digest.number)
        if digest.revision > 1:
            number += " " + words["masthead_revision"].format(revision=digest.revision)
        lines.append(number)
    if digest.published_at is not None:
        lines.append(words["published_line"].format(date=local_date(digest.published_at)))
    if digest.correction_note:
        lines.append(words["correction_note"].format(note=_one_line(digest.correction_note)))
    return lines


def _one_line(text: str) -> str:
    return " ".join(text.split())


def render_text(digest: Digest, *, with_masthead: bool = True) -> str:
    """The bulletin as plain text: one line per label, title or paragraph."""
    words = wording()
    lines = masthead(digest) if with_masthead else []
    lines += [words["lead_label"], lead(digest)]
    if digest.editor_note:
        lines.append(words["editor_note"].format(note=_one_line(digest.editor_note)))
    groups = item_groups(digest)
    lines.append(words["toc_heading"])
    for group in groups:
        lines += [group.heading] if group.heading else []
        for number, item in group.items:
            lines.append(
                words["toc_line"].format(number=number, title=item.title, source=item.source_name)
            )
    lines.append(words["content_heading"])
    for group in groups:
        lines += [group.heading] if group.heading else []
        for number, item in group.items:
            lines += [
                words["title_label"].format(number=number) + item.title,
                words["source_label"] + item.source_name,
                words["link_label"] + item.url,
                words["body_label"],
                item.title,
                words["date_line"].format(
                    date=item.local_date.isoformat(), source=item.source_name
                ),
                *item.paragraphs,
            ]
    return "\n".join(lines) + "\n"


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


def _md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def render_markdown(digest: Digest) -> str:
    """The bulletin as Markdown: the same sections, the TOC linking to each item."""
    words = wording()
    out = [f"# {_md(digest.title)}", ""]
    for line in masthead(digest)[1:]:
        out += [f"> {_md(line)}", ""]
    out += [f"**{words['lead_label']}**{_md(lead(digest))}", ""]
    if digest.editor_note:
        out += [f"> {_md(words['editor_note'].format(note=_one_line(digest.editor_note)))}", ""]
    groups = item_groups(digest)
    out += [f"## {words['toc_heading']}", ""]
    for group in groups:
        out += [f"### {group.heading}", ""] if group.heading else []
        for number, item in group.items:
            out.append(f"{number}. [{_md(item.title)}](#item-{number})（{_md(item.source_name)}）")
        out.append("")
    out += [f"## {words['content_heading']}", ""]
    for group in groups:
        out += [f"### {group.heading}", ""] if group.heading else []
        for number, item in group.items:
            out += [
                f'<a id="item-{number}"></a>',
                "",
                f"#### {number}. {_md(item.title)}",
                "",
                f"- {words['source_label']}{_md(item.source_name)}",
                f"- {words['link_label']}<{item.url}>",
                f"- {item.local_date.isoformat()}",
                "",
                f"**{words['body_label']}**",
                "",
            ]
            for paragraph in item.paragraphs:
                out += [_md(paragraph), ""]
    return "\n".join(out).rstrip("\n") + "\n"


def _context(digest: Digest, **extra: Any) -> dict[str, Any]:
    return {
        "digest": digest,
        "masthead": masthead(digest),
        "lead": lead(digest),
        "groups": item_groups(digest),
        "editor_note": _one_line(digest.editor_note),
        **extra,
    }


def render_plain(template: str, **context: Any) -> str:
    """A plain-text template of this package (e-mail bodies), rendered without escaping."""
    env = _templates()
    return env.get_template(template).render(context)


def render_html_fragment(digest: Digest) -> Markup:
    """The issue as an HTML fragment (inline styles) for the web page and the feed."""
    # Safe: the template autoescapes every value it interpolates.
    html = _templates().get_template("fragment.html").render(_context(digest))
    return Markup(html)  # noqa: S704


def render_html(digest: Digest) -> str:
    """A standalone HTML document (the .html download)."""
    return (
        _templates()
        .get_template("page.html")
        .render(_context(digest, fragment=render_html_fragment(digest)))
    )


def render_email_html(
    digest: Digest, *, web_url: str = "", unsubscribe_url: str = "", preferences_url: str = ""
) -> str:
    """The HTML part of the digest e-mail: inline CSS, no tables, links back to the site."""
    return (
        _templates()
        .get_template("email.html")
        .render(
            _context(
                digest,
                fragment=render_html_fragment(digest),
                web_url=web_url,
                unsubscribe_url=unsubscribe_url,
                preferences_url=preferences_url,
            )
        )
    )


_ATOM = "http://www.w3.org/2005/Atom"


def render_atom(
    entries: Sequence[tuple[Digest, str, str]], *, feed_url: str, site_url: str, title: str
) -> str:
    """An Atom feed of published issues; each entry is (digest, page URL, HTML content).

    The content is passed in so a published issue's feed entry is its frozen snapshot.
    """
    ElementTree.register_namespace("", _ATOM)

    def sub(parent: ElementTree.Element, tag: str, text: str = "", **attrs: str) -> None:
        element = ElementTree.SubElement(parent, f"{{{_ATOM}}}{tag}", attrs)
        element.text = text or None

    def stamp(moment: datetime | None) -> str:
        return (moment or datetime(1970, 1, 1, tzinfo=UTC)).astimezone(UTC).isoformat()

    feed = ElementTree.Element(f"{{{_ATOM}}}feed")
    sub(feed, "id", feed_url)
    sub(feed, "title", title)
    newest = max((d.published_at for d, _, _ in entries if d.published_at), default=None)
    sub(feed, "updated", stamp(newest))
    sub(feed, "link", href=feed_url, rel="self")
    sub(feed, "link", href=site_url)
    for digest, url, content in entries:
        entry = ElementTree.SubElement(feed, f"{{{_ATOM}}}entry")
        sub(entry, "id", f"{url}#revision-{digest.revision}")
        sub(entry, "title", digest.title)
        sub(entry, "updated", stamp(digest.published_at))
        sub(entry, "link", href=url)
        author = ElementTree.SubElement(entry, f"{{{_ATOM}}}author")
        sub(author, "name", digest.publisher or digest.period_word)
        sub(entry, "content", content, type="html")
    body = ElementTree.tostring(feed, encoding="unicode")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n"


# ---- reading a text back: the six invariants of the bulletin ----------------------------

_LEAD = re.compile(
    r"共收集\s*(\d+)\s*篇.*?时间从\s*(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"
    r"至\s*(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"
)
_TOC = re.compile(r"^(\d+)\. (.*)（([^（）]+)）$")
_BLOCK = re.compile(r"^(\d+)\.标题：(.*)$")
_DATE_LINE = re.compile(r"^(\d{4}-\d{2}-\d{2}) 来源：(.*)$")
_SECTION = re.compile(r"^（[一二三四五六七八九十\d]+）\S")
_HTML = re.compile(r"<\s*/?\s*[a-zA-Z][^<>]*>|&(?:[a-zA-Z]+|#\d+);")
_SENTENCE_END = tuple("。！？!?；;：:”’」』）)…—")
_WRAP_WIDTH = 30


@dataclass
class _Block:
    number: int
    title: str
    lines: list[str]


def _problems_in_block(
    block: _Block, start: date | None, end: date | None
) -> tuple[list[str], date | None, str]:
    words = wording()
    where = f"item {block.number}"
    problems: list[str] = []
    fields = block.lines
    expected = [words["source_label"], words["link_label"], words["body_label"]]
    if len(fields) < 6:
        return [f"invariant 6: {where} is incomplete or empty ({len(fields)} lines)"], None, ""
    source = fields[0].removeprefix(words["source_label"])
    link = fields[1].removeprefix(words["link_label"])
    if not fields[0].startswith(expected[0]) or not fields[1].startswith(expected[1]):
        problems.append(f"invariant 4: {where} lacks its 来源：/链接： lines")
    if fields[2] != expected[2]:
        problems.append(f"invariant 6: {where} lacks the 主要内容： line")
    if fields[3] != block.title:
        problems.append(f"invariant 4: {where} repeated title {fields[3]!r} != {block.title!r}")
    day: date | None = None
    match = _DATE_LINE.match(fields[4])
    if match is None:
        problems.append(f"invariant 3: {where} date line {fields[4]!r} is not 'YYYY-MM-DD 来源：…'")
    else:
        day = date.fromisoformat(match.group(1))
        if match.group(2) != source:
            problems.append(
                f"invariant 4: {where} date-line source {match.group(2)!r} != {source!r}"
            )
        if start and end and not start <= day <= end:
            problems.append(f"invariant 3: {where} dated {day} is outside {start}..{end}")
    parts = urlsplit(link)
    if parts.scheme not in {"http", "https"} or not parts.netloc or re.search(r"\s", link):
        problems.append(f"invariant 5: {where} link {link!r} is not an absolute URL")
    body = fields[5:]
    if not body:
        problems.append(f"invariant 6: {where} has no text")
    run = 0
    for line in body:
        if _HTML.search(line):
            problems.append(f"invariant 6: {where} has HTML left in {line[:40]!r}")
        wrapped = len(line) >= _WRAP_WIDTH and not line.endswith(_SENTENCE_END)
        run = run + 1 if wrapped else 0
        if run == 2:
            problems.append(f"invariant 6: {where} looks hard-wrapped near {line[:20]!r}")
    return problems, day, source


def check_invariants(text: str, *, date_order: bool = True) -> list[str]:
    """Every way `text` breaks the bulletin's invariants; [] when it keeps them all.

    `date_order=False` accepts an editor's own order of items (still within the period).
    """
    words = wording()
    lines = text.splitlines()
    problems: list[str] = []
    try:
        lead_at = lines.index(words["lead_label"])
        toc_at = lines.index(words["toc_heading"])
        content_at = lines.index(words["content_heading"])
    except ValueError:
        return ["structure: missing 本期导语：, 一、信息目录 or 二、具体内容 line"]
    if not lead_at < toc_at < content_at:
        return ["structure: 本期导语：, 一、信息目录, 二、具体内容 are out of order"]
    match = _LEAD.search(lines[lead_at + 1]) if lead_at + 1 < toc_at else None
    count: int | None = None
    start = end = None
    if match is None:
        problems.append("invariant 1: the lead does not state the count and the period")
    else:
        count = int(match.group(1))
        numbers = [int(g) for g in match.groups()[1:]]
        try:
            start, end = date(*numbers[:3]), date(*numbers[3:])
        except ValueError:
            problems.append("invariant 3: the lead's period is not a valid date range")

    toc: list[tuple[int, str, str]] = []
    for line in lines[toc_at + 1 : content_at]:
        if not line.strip() or _SECTION.match(line):
            continue
        toc_match = _TOC.match(line)
        if toc_match is None:
            problems.append(f"invariant 4: TOC line {line!r} is not '{{i}}. 标题（来源）'")
            continue
        toc.append((int(toc_match.group(1)), toc_match.group(2), toc_match.group(3)))

    # A section heading is a TOC heading repeated right before an item: policy texts
    # have paragraphs like （一）总体要求 too, and those must stay body text.
    headings = {line for line in lines[toc_at + 1 : content_at] if _SECTION.match(line)}
    content = lines[content_at + 1 :]
    blocks: list[_Block] = []
    section_breaks: set[int] = set()
    for at, line in enumerate(content):
        block_match = _BLOCK.match(line)
        following = content[at + 1] if at + 1 < len(content) else ""
        if block_match:
            blocks.append(_Block(int(block_match.group(1)), block_match.group(2), []))
        elif line in headings and _BLOCK.match(following):
            section_breaks.add(len(blocks))
        elif blocks:
            blocks[-1].lines.append(line)
        elif line.strip():
            problems.append(f"structure: text before the first item: {line[:40]!r}")

    if count is not None and not count == len(toc) == len(blocks):
        problems.append(
            f"invariant 1: lead says {count}, TOC has {len(toc)} lines, content {len(blocks)} items"
        )
    if [n for n, _, _ in toc] != list(range(1, len(toc) + 1)):
        problems.append("invariant 2: TOC numbering is not 1..N")
    if [b.number for b in blocks] != list(range(1, len(blocks) + 1)):
        problems.append("invariant 2: item numbering is not 1..N")

    previous: date | None = None
    for index, block in enumerate(blocks):
        found, day, source = _problems_in_block(block, start, end)
        problems += found
        if index < len(toc):
            _, toc_title, toc_source = toc[index]
            if toc_title != block.title:
                problems.append(
                    f"invariant 4: item {block.number} title {block.title!r} != TOC {toc_title!r}"
                )
            if source and toc_source != source:
                problems.append(
                    f"invariant 4: item {block.number} source {source!r} != TOC {toc_source!r}"
                )
        if index in section_breaks:
            previous = None
        if date_order and day and previous and day < previous:
            problems.append(
                f"invariant 3: item {block.number} ({day}) is dated before the one above"
            )
        previous = day or previous
    return problems


def snapshot_body(html: str) -> Markup:
    """The issue inside a published HTML snapshot (what `render_html` put in <body>)."""
    start = html.find(">", html.find("<body")) + 1
    end = html.rfind("</body>")
    # Safe: the snapshot was rendered by our autoescaping template when it was published.
    return Markup(html[start:end] if 0 < start <= end else html)  # noqa: S704
