"""The digest as a PDF that reads like an office document, with a table of contents.

WeasyPrint lays out our own HTML template (templates/pdf.html): an A4 title page with the
publisher, the issue number and the period; 一、信息目录 whose page numbers come from
CSS `target-counter`; one section per item; page numbers in the footer. The text is set
in Noto CJK, which WeasyPrint subsets and embeds, so the file reads the same on a
machine without Chinese fonts. WeasyPrint needs Pango (Debian: libpango-1.0-0,
libpangoft2-1.0-0) and the fonts (fonts-noto-cjk); `scripts/browser` installs them.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from hitwatch.digest.build import Digest
from hitwatch.digest.render import item_groups, lead, masthead, wording

__all__ = ["PdfUnavailableError", "render_pdf"]


class PdfUnavailableError(RuntimeError):
    """WeasyPrint cannot load: the system's Pango libraries are missing."""


@cache
def _template_env() -> Environment:
    env = Environment(
        loader=PackageLoader("hitwatch.digest", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["wording"] = wording()
    return env


def _html_class() -> Any:
    # Imported on first use: WeasyPrint loads Pango through ctypes when imported, and
    # every other format must keep working on a machine without it.
    try:
        from weasyprint import HTML
    except OSError as error:
        raise PdfUnavailableError(
            f"PDF needs Pango ({error}); on Debian run: "
            "apt-get install libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk"
        ) from error
    return HTML


def render_pdf_html(digest: Digest) -> str:
    """The HTML that `render_pdf` lays out (useful to inspect the layout in a browser)."""
    words = wording()
    lines = masthead(digest)
    if digest.publisher:
        lines = lines[1:]  # the title page shows the publisher and the period word apart
    note = words["editor_note"].format(note=" ".join(digest.editor_note.split()))
    return (
        _template_env()
        .get_template("pdf.html")
        .render(
            digest=digest,
            number=lines[0],
            meta=lines[1:],
            groups=item_groups(digest),
            lead=lead(digest),
            editor_note=note if digest.editor_note else "",
        )
    )


def render_pdf(digest: Digest) -> bytes:
    """The issue as PDF bytes. Raises PdfUnavailableError when Pango is missing."""
    pdf: bytes = _html_class()(string=render_pdf_html(digest)).write_pdf()
    return pdf
