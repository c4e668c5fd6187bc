"""The digest as a Word document (.docx) with a table of contents.

Same wording and order as the text bulletin. Items are level-2 headings, so Word's
navigation pane and the TOC field list them; Word fills the TOC field when the file is
opened (the document asks it to update fields), other readers show the 信息目录 list.
"""

from __future__ import annotations

from io import BytesIO

from docx import Document
from docx.document import Document as DocxDocument
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.text.paragraph import Paragraph

from hitwatch.digest.build import Digest
from hitwatch.digest.render import item_groups, lead, masthead, wording

__all__ = ["render_docx"]

FONT = "Noto Sans CJK SC"


def _toc_field(paragraph: Paragraph) -> None:
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), 'TOC \\o "1-2" \\h \\z \\u')
    paragraph._p.append(field)


class _Body:
    """Appends paragraphs in constant time. python-docx's `add_paragraph` looks for the
    section properties among all of the body's children on every call, and resolves the
    style by name through the whole styles part: quadratic and slow for a 5,000-item month.
    """

    def __init__(self, document: DocxDocument) -> None:
        self.document = document
        self.anchor = document.element.body.sectPr  # the body's last child
        self.style_ids: dict[str, str] = {}

    def paragraph(self, text: str = "", style: str = "") -> Paragraph:
        element = OxmlElement("w:p")
        if self.anchor is not None:
            self.anchor.addprevious(element)
        else:
            self.document.element.body.append(element)
        paragraph = Paragraph(element, self.document._body)
        if text:
            paragraph.add_run(text)
        if style:
            if style not in self.style_ids:
                self.style_ids[style] = self.document.styles[style].style_id
            element.get_or_add_pPr().style = self.style_ids[style]
        return paragraph

    def heading(self, text: str, level: int) -> Paragraph:
        return self.paragraph(text, "Title" if level == 0 else f"Heading {level}")


def render_docx(digest: Digest) -> bytes:
    words = wording()
    document = Document()
    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(11)
    # East Asian text uses its own font slot; without it Word falls back to a Latin font.
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    update = OxmlElement("w:updateFields")
    update.set(qn("w:val"), "true")
    document.settings.element.append(update)
    body = _Body(document)

    head = masthead(digest)
    body.heading(head[0] if digest.publisher else digest.title, 0)
    for line in head[1:] if digest.publisher else head:
        body.paragraph(line)
    _toc_field(body.paragraph())
    body.paragraph().add_run(words["lead_label"]).bold = True
    body.paragraph(lead(digest))
    if digest.editor_note:
        body.paragraph(words["editor_note"].format(note=" ".join(digest.editor_note.split())))

    groups = item_groups(digest)
    body.heading(words["toc_heading"], 1)
    for group in groups:
        if group.heading:
            body.paragraph().add_run(group.heading).bold = True
        for number, item in group.items:
            body.paragraph(
                words["toc_line"].format(number=number, title=item.title, source=item.source_name)
            )
    body.heading(words["content_heading"], 1)
    indent = Pt(22)
    for group in groups:
        if group.heading:
            body.paragraph().add_run(group.heading).bold = True
        for number, item in group.items:
            body.heading(words["title_label"].format(number=number) + item.title, 2)
            body.paragraph(words["source_label"] + item.source_name)
            body.paragraph(words["link_label"] + item.url)
            body.paragraph(words["body_label"])
            body.paragraph().add_run(item.title).bold = True
            body.paragraph(
                words["date_line"].format(date=item.local_date.isoformat(), source=item.source_name)
            )
            for text in item.paragraphs:
                body.paragraph(text).paragraph_format.first_line_indent = indent
    out = BytesIO()
    document.save(out)
    return out.getvalue()
