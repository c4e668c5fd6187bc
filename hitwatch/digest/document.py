"""The digest as a Word document (.docx) with a table of contents.

Same wording and order as the text bulletin. Items are level-2 headings, so Word's
navigation pane and the TOC field list them; Word fills the TOC field when the file is
opened (the document asks it to update fields), other readers show the 信息目录 list.
"""

from __future__ import annotations

from io import BytesIO

from docx import Document
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

    head = masthead(digest)
    document.add_heading(head[0] if digest.publisher else digest.title, level=0)
    for line in head[1:] if digest.publisher else head:
        document.add_paragraph(line)
    _toc_field(document.add_paragraph())
    document.add_paragraph().add_run(words["lead_label"]).bold = True
    document.add_paragraph(lead(digest))
    if digest.editor_note:
        document.add_paragraph(
            words["editor_note"].format(note=" ".join(digest.editor_note.split()))
        )

    groups = item_groups(digest)
    document.add_heading(words["toc_heading"], level=1)
    for group in groups:
        if group.heading:
            document.add_paragraph().add_run(group.heading).bold = True
        for number, item in group.items:
            document.add_paragraph(
                words["toc_line"].format(number=number, title=item.title, source=item.source_name)
            )
    document.add_heading(words["content_heading"], level=1)
    for group in groups:
        if group.heading:
            document.add_paragraph().add_run(group.heading).bold = True
        for number, item in group.items:
            document.add_heading(words["title_label"].format(number=number) + item.title, level=2)
            document.add_paragraph(words["source_label"] + item.source_name)
            document.add_paragraph(words["link_label"] + item.url)
            document.add_paragraph(words["body_label"])
            document.add_paragraph().add_run(item.title).bold = True
            document.add_paragraph(
                words["date_line"].format(date=item.local_date.isoformat(), source=item.source_name)
            )
            for text in item.paragraphs:
                paragraph = document.add_paragraph(text)
                paragraph.paragraph_format.first_line_indent = Pt(22)
    out = BytesIO()
    document.save(out)
    return out.getvalue()
