"""Turn page bytes into text, trusting the bytes over what the page declares.

Chinese sites often declare `gb2312` over UTF-8 bytes (templates copied from old sites),
and a GB2312 declaration over GBK bytes is the norm. So a strict UTF-8 decode wins when it
succeeds, GB declarations are read as GB18030 (a superset of both), and only an undeclared,
non-UTF-8 page is left to statistical detection.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

from hitwatch.errors import ExtractionError

__all__ = ["DecodedPage", "declared_charset", "decode_page", "sniff_binary"]

_GB_FAMILY = {"gb2312", "gbk", "gb18030", "x-gbk", "cp936", "gb_2312-80", "euc-cn", "hz-gb-2312"}
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([\w.:-]+)", re.IGNORECASE)
# More replacement characters than this share of the text means the bytes are not text
# in any encoding we tried; extracting from them would index garbage.
_MAX_REPLACEMENT_SHARE = 0.02
_MAX_REPLACEMENTS_ALLOWED_ANYWAY = 20

_BINARY_SIGNATURES = {
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive (or DOCX/XLSX)",
    b"\xd0\xcf\x11\xe0": "an MS Office (DOC/XLS/WPS) document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\x1f\x8b": "gzip-compressed data (the response was not decompressed)",
}


@dataclass(frozen=True)
class DecodedPage:
    text: str
    encoding: str
    replacements: int


def sniff_binary(raw: bytes) -> str | None:
    """What the bytes are when they are clearly not a text page, else None."""
    head = raw[:16].lstrip()
    for signature, what in _BINARY_SIGNATURES.items():
        if head.startswith(signature):
            return what
    if b"\x00" in raw[:2048] and not raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "binary data (NUL bytes)"
    return None


def declared_charset(raw: bytes, content_type: str = "") -> str:
    """The charset named by the HTTP header, else by a `<meta>` tag, lower-cased; '' if none."""
    match = _HEADER_CHARSET.search(content_type)
    if match:
        return match.group(1).lower()
    meta = _META_CHARSET.search(raw[:8192])
    return meta.group(1).decode("ascii", "ignore").lower() if meta else ""


def _codec(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_page(raw: bytes, content_type: str = "", forced: str = "") -> DecodedPage:
    """Decode `raw`; raises ExtractionError when the result would be mostly garbage."""
    if forced:
        codec = _codec(forced)
        if codec is None:
            raise ExtractionError(f"the source definition forces unknown encoding {forced!r}")
        return _checked(raw.decode(codec, errors="replace"), codec)
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if raw.startswith(bom):
            return _checked(raw.decode(codec, errors="replace"), codec.removesuffix("-sig"))
    try:
        return DecodedPage(raw.decode("utf-8"), "utf-8", 0)
    except UnicodeDecodeError:
        pass
    declared = declared_charset(raw, content_type)
    if declared in _GB_FAMILY:
        return _checked(raw.decode("gb18030", errors="replace"), "gb18030")
    codec = _codec(declared) if declared else None
    if codec is not None and codec not in {"utf-8", "ascii"}:
        try:
            return DecodedPage(raw.decode(codec), codec, 0)
        except UnicodeDecodeError:
            pass  # the declaration is wrong too; let detection decide
    best = from_bytes(raw[:200_000]).best()
    if best is not None:
        guessed = _codec(best.encoding) or "utf-8"
        # A Chinese page detected as GB2312/GBK decodes more of its bytes as GB18030.
        if guessed in _GB_FAMILY:
            guessed = "gb18030"
        return _checked(raw.decode(guessed, errors="replace"), guessed)
    return _checked(raw.decode("utf-8", errors="replace"), "utf-8")


def _checked(text: str, encoding: str) -> DecodedPage:
    replacements = text.count("\ufffd")
    if (
        replacements > _MAX_REPLACEMENTS_ALLOWED_ANYWAY
        and replacements > _MAX_REPLACEMENT_SHARE * len(text)
    ):
        raise ExtractionError(
            f"page bytes do not decode as {encoding}: {replacements} of {len(text)} characters "
            "are invalid; set `detail.encoding` in the source definition "
            "if the site's encoding is known"
        )
    return DecodedPage(text, encoding, replacements)
