"""Text of attached documents: policy files published as attachments become searchable.

The kind is decided from the bytes (a `.doc` link often serves a DOCX, a `.xls` an XLSX),
the file name only tells the two legacy OLE kinds apart. PDF: pypdf; DOCX: python-docx;
XLSX: openpyxl (with defusedxml); XLS: xlrd; legacy Word `.doc`: Debian's antiword,
run as a separate process with a time limit, when it is installed (`scripts/browser` and
the Dockerfile install it). What cannot be read raises ExtractionError saying why.
"""

from __future__ import annotations

import io
import logging
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

import docx
import openpyxl
import xlrd
from docx.document import Document as DocxDocument
from docx.table import Table
from docx.text.paragraph import Paragraph
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from classifier.extraction.blocks import collapse
from hitwatch.errors import ExtractionError
from hitwatch.messages import Attachment, AttachmentFile

__all__ = [
    "DocumentKind",
    "attach_documents",
    "attach_pdf_text",
    "attach_text",
    "document_kind",
    "document_text",
    "pdf_text",
]

# pypdf reports recoverable oddities of real-world PDFs through logging; they are not ours.
logging.getLogger("pypdf").setLevel(logging.ERROR)

DocumentKind = Literal["pdf", "docx", "xlsx", "xls", "doc"]

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
# Extensions the OLE container is read as: spreadsheets (incl. WPS's .et) or Word (.wps).
_OLE_SHEETS = (".xls", ".et")
_OLE_WORD = (".doc", ".wps", ".dot")
# Attachment text beyond this is cut: it is for search, not for display.
MAX_TEXT_CHARS = 200_000
_ANTIWORD_SECONDS = 30


def _suffix(name: str) -> str:
    path = unquote(urlsplit(name).path or name).lower()
    return Path(path).suffix


def document_kind(data: bytes, name: str = "") -> DocumentKind:
    """What `data` is, from its magic bytes (and, for OLE files, the name's extension)."""
    head = data.lstrip()[:8]
    if head.startswith(b"%PDF"):
        return "pdf"
    if data.startswith(_ZIP_MAGIC):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except zipfile.BadZipFile as exc:
            raise ExtractionError(f"attachment is a damaged ZIP container: {exc}") from exc
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
        raise ExtractionError(
            "attachment is a ZIP archive but neither a Word (DOCX) nor an Excel (XLSX) file"
        )
    if data.startswith(_OLE_MAGIC):
        suffix = _suffix(name)
        if suffix in _OLE_WORD:
            return "doc"
        if suffix in _OLE_SHEETS:
            return "xls"
        # No telling extension: a workbook has a Workbook stream that xlrd can open.
        try:
            xlrd.open_workbook(file_contents=data, on_demand=True).release_resources()
        except xlrd.XLRDError:
            return "doc"
        return "xls"
    raise ExtractionError(
        "attachment type not supported: only PDF, DOC, DOCX, XLS and XLSX text is extracted"
    )


def _lines(texts: Iterable[str]) -> str:
    lines = (collapse(line) for text in texts for line in text.splitlines())
    return "\n".join(line for line in lines if line)[:MAX_TEXT_CHARS]


def pdf_text(data: bytes) -> str:
    """The text of a PDF, one line per non-empty line of each page; raises ExtractionError."""
    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise ExtractionError(
            "attachment is not a PDF (no %PDF header); only PDF text is extracted"
        )
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise ExtractionError(f"attachment PDF is damaged or encrypted: {exc}") from exc
    return _lines(pages)


def _docx_blocks(document: DocxDocument) -> Iterator[str]:
    """Paragraphs and table rows (cells joined by a tab) in document order."""
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            yield block.text
        elif isinstance(block, Table):
            for row in block.rows:
                cells: list[str] = []
                for cell in row.cells:  # merged cells repeat: keep one
                    if not cells or cells[-1] != cell.text:
                        cells.append(cell.text)
                yield "\t".join(cells)


def docx_text(data: bytes) -> str:
    try:
        document = docx.Document(io.BytesIO(data))
    except (ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise ExtractionError(f"attachment DOCX is damaged: {exc}") from exc
    return _lines(_docx_blocks(document))


def _cell(value: object) -> str:
    # Spreadsheets store every number as a float: 3.0 is the 3 the sheet shows.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _row_line(values: Iterable[object]) -> str:
    return "\t".join(_cell(v) for v in values if v is not None and _cell(v))


def xlsx_text(data: bytes) -> str:
    """Every sheet: its name, then one line per row (non-empty cells joined by a tab)."""
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (ValueError, KeyError, OSError, zipfile.BadZipFile) as exc:
        raise ExtractionError(f"attachment XLSX is damaged: {exc}") from exc
    try:
        lines: list[str] = []
        for sheet in book.worksheets:
            lines.append(sheet.title)
            lines.extend(_row_line(row) for row in sheet.iter_rows(values_only=True))
    finally:
        book.close()
    return _lines(lines)


def xls_text(data: bytes) -> str:
    try:
        book = xlrd.open_workbook(file_contents=data)
    except xlrd.XLRDError as exc:
        raise ExtractionError(f"attachment XLS is damaged: {exc}") from exc
    lines: list[str] = []
    for sheet in book.sheets():
        lines.append(sheet.name)
        lines.extend(_row_line(sheet.row_values(row)) for row in range(sheet.nrows))
    return _lines(lines)


def doc_text(data: bytes) -> str:
    """Legacy Word text through antiword (a separate process with a time limit)."""
    antiword = shutil.which("antiword")
    if antiword is None:
        raise ExtractionError(
            "legacy Word (.doc) attachments need antiword, which is not installed "
            "(scripts/browser and the Docker image install it; or: apt-get install antiword)"
        )
    with tempfile.NamedTemporaryFile(suffix=".doc") as handle:
        handle.write(data)
        handle.flush()
        try:
            done = subprocess.run(
                [antiword, "-m", "UTF-8.txt", "-w", "0", handle.name],
                capture_output=True,
                timeout=_ANTIWORD_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ExtractionError(f"antiword took over {_ANTIWORD_SECONDS}s on the .doc") from exc
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip() or f"exit {done.returncode}"
        raise ExtractionError(f"attachment .doc is not readable by antiword: {reason}")
    return _lines([done.stdout.decode("utf-8", "replace")])


_READERS = {"pdf": pdf_text, "docx": docx_text, "xlsx": xlsx_text, "xls": xls_text, "doc": doc_text}


def document_text(data: bytes, name: str = "") -> str:
    """The text of an attached document (`name`: its URL or file name, for OLE files)."""
    if not data:
        raise ExtractionError("attachment is empty")
    return _READERS[document_kind(data, name)](data)


def attach_text(attachment: Attachment, data: bytes) -> Attachment:
    """A copy of `attachment` carrying the text of its document bytes."""
    return attachment.model_copy(update={"text": document_text(data, attachment.url)})


def attach_pdf_text(attachment: Attachment, data: bytes) -> Attachment:
    """A copy of `attachment` carrying the text of its PDF bytes."""
    return attachment.model_copy(update={"text": pdf_text(data)})


def attach_documents(
    attachments: Sequence[Attachment], files: Sequence[AttachmentFile]
) -> tuple[list[Attachment], list[str]]:
    """The page's attachments with the text of the files fetched with it, and the problems.

    Files are matched to links by URL; a fetched file the extraction did not list (linked
    outside the article body) is added under its file name. A file that cannot be read
    leaves its attachment without text and says why: the article is never lost for it.
    """
    by_url = {file.url: file for file in files}
    problems: list[str] = []
    result: list[Attachment] = []

    def read(attachment: Attachment, file: AttachmentFile) -> Attachment:
        try:
            return attach_text(attachment, file.data())
        except ExtractionError as exc:
            problems.append(f"{file.url}: {exc}")
            return attachment

    for attachment in attachments:
        file = by_url.pop(attachment.url, None)
        result.append(read(attachment, file) if file is not None else attachment)
    for url, file in by_url.items():
        name = unquote(urlsplit(url).path).rsplit("/", 1)[-1]
        result.append(read(Attachment(url=url, title=name), file))
    return result, problems
