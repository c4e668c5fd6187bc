"""Attached documents the mirror serves, generated from an article's own text.

Government pages link their files (PDF, Word, Excel); the mirror makes them on request
with the libraries that write those formats (python-docx, openpyxl, xlwt, pypdf), so no
binary file is kept in the repository. Legacy Word `.doc` has no writer library and is
not served.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import docx
import openpyxl
import xlwt
from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    ContentStream,
    DictionaryObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

__all__ = ["DOCUMENT_TYPES", "document_bytes"]

DOCUMENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xls": "application/vnd.ms-excel",
}
# A4 in points, and the text layout of the generated PDF.
_PAGE = (595, 842)
_LINE_POINTS = 16
_MARGIN = 56
_CHARS_PER_LINE = 38


def _docx(title: str, paragraphs: Sequence[str]) -> bytes:
    document = docx.Document()
    document.add_heading(title, level=1)
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _rows(paragraphs: Sequence[str]) -> list[tuple[int, str]]:
    return [(number, text) for number, text in enumerate(paragraphs, start=1)]


def _xlsx(title: str, paragraphs: Sequence[str]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Sheet1"
    sheet.append([title])
    for row in _rows(paragraphs):
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xls(title: str, paragraphs: Sequence[str]) -> bytes:
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Sheet1")
    sheet.write(0, 0, title)
    for index, (number, text) in enumerate(_rows(paragraphs), start=1):
        sheet.write(index, 0, number)
        sheet.write(index, 1, text)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _wrap(text: str) -> list[str]:
    return [text[i : i + _CHARS_PER_LINE] for i in range(0, len(text), _CHARS_PER_LINE)] or [""]


def _pdf(title: str, paragraphs: Sequence[str]) -> bytes:
    """One page of text in Adobe's predefined STSong-Light (no font file embedded)."""
    lines = [title, *(line for p in paragraphs for line in _wrap(p))]
    top = _PAGE[1] - _MARGIN
    commands = ["BT", "/F1 12 Tf", f"{_LINE_POINTS} TL", f"{_MARGIN} {top} Td"]
    commands += [f"<{line.encode('utf-16-be').hex()}> Tj T*" for line in lines]
    commands.append("ET")
    content = ContentStream(None, None)
    content.set_data("\n".join(commands).encode("ascii"))
    song = NameObject("/STSong-Light")
    cid_font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/CIDFontType0"),
            NameObject("/BaseFont"): song,
            NameObject("/CIDSystemInfo"): DictionaryObject(
                {
                    NameObject("/Registry"): TextStringObject("Adobe"),
                    NameObject("/Ordering"): TextStringObject("GB1"),
                    NameObject("/Supplement"): NumberObject(4),
                }
            ),
            NameObject("/FontDescriptor"): DictionaryObject(
                {
                    NameObject("/Type"): NameObject("/FontDescriptor"),
                    NameObject("/FontName"): song,
                    NameObject("/Flags"): NumberObject(6),
                    NameObject("/FontBBox"): ArrayObject(
                        [NumberObject(v) for v in (-25, -254, 1000, 880)]
                    ),
                    NameObject("/ItalicAngle"): NumberObject(0),
                    NameObject("/Ascent"): NumberObject(880),
                    NameObject("/Descent"): NumberObject(-120),
                    NameObject("/CapHeight"): NumberObject(880),
                    NameObject("/StemV"): NumberObject(93),
                }
            ),
        }
    )
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type0"),
            NameObject("/BaseFont"): song,
            NameObject("/Encoding"): NameObject("/UniGB-UTF16-H"),
            NameObject("/DescendantFonts"): ArrayObject([cid_font]),
        }
    )
    writer = PdfWriter()
    page = writer.add_blank_page(*_PAGE)
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
    )
    page.replace_contents(content)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


_WRITERS = {"pdf": _pdf, "docx": _docx, "xlsx": _xlsx, "xls": _xls}


def document_bytes(kind: str, title: str, paragraphs: Sequence[str]) -> bytes:
    """A `kind` file (pdf, docx, xlsx, xls) holding `title` and then `paragraphs`."""
    return _WRITERS[kind](title, paragraphs)
