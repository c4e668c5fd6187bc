"""Text of attached documents (PDF): policy files published as attachments become searchable."""

from __future__ import annotations

import io
import logging

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from classifier.extraction.blocks import collapse
from hitwatch.errors import ExtractionError
from hitwatch.messages import Attachment

__all__ = ["attach_pdf_text", "pdf_text"]

# pypdf reports recoverable oddities of real-world PDFs through logging; they are not ours.
logging.getLogger("pypdf").setLevel(logging.ERROR)


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
    lines = (collapse(line) for page in pages for line in page.splitlines())
    return "\n".join(line for line in lines if line)


def attach_pdf_text(attachment: Attachment, data: bytes) -> Attachment:
    """A copy of `attachment` carrying the text of its PDF bytes."""
    return attachment.model_copy(update={"text": pdf_text(data)})
