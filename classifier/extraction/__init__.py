"""Article extraction: page bytes -> title, date, clean paragraphs, policy metadata.

Runs inside the classifier worker (crawl -> **classify** -> index -> publish) before
classification and dedupe; site rules from the source definitions first, a generic
extractor second.
"""

from classifier.extraction.attachments import attach_documents, attach_pdf_text, document_text
from classifier.extraction.page import Extraction, extract_page

__all__ = ["Extraction", "attach_documents", "attach_pdf_text", "document_text", "extract_page"]
