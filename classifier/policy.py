"""Policy metadata normalised to one spelling: 发文字号, issuer names and dates.

Extraction copies the fields as the page prints them; alerts and search need one form:
发文字号 with 〔YYYY〕 brackets and no spaces, each issuing body under its one display
name from `entities.yaml`, dates as YYYY-MM-DD.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from classifier.terms import nfkc
from hitwatch.messages import PolicyMeta
from hitwatch.policies import normalize_doc_number

__all__ = ["find_doc_number", "normalize_date", "normalize_doc_number", "normalize_policy"]

_DOC_NUMBER = re.compile(
    r"[\u4e00-\u9fa5]{1,16}\s*[\[(【〔]\s*(?:19|20)\d{2}\s*[\])】〕]\s*第?\s*\d{1,5}\s*号"
    r"|[\u4e00-\u9fa5]{1,16}令\s*\(?\s*第\s*\d{1,5}\s*号"
)
# The part of a 发文字号 after the issuer's characters. Searching for it first and then
# for the whole number just before it spares the full pattern's attempt at every
# character of a long text.
_DOC_NUMBER_TAIL = re.compile(
    r"(?:[\[(【〔]\s*(?:19|20)\d{2}\s*[\])】〕]\s*第?|令\s*\(?\s*第)\s*\d{1,5}\s*号"
)
_ISSUER_CHARS = 16
_ISSUER_SEPARATORS = re.compile(r"[、,，;；/\s]+")
_NUMERIC_DATE = re.compile(r"((?:19|20)\d{2})\s*[年./-]\s*(\d{1,2})\s*[月./-]\s*(\d{1,2})")
_CHINESE_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"零": 0, "○": 0}
_CHINESE_DATE = re.compile(
    r"([〇○零一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})日"
)


def find_doc_number(text: str) -> str:
    """The first 发文字号 written in `text` (normalised), or ""."""
    if "号" not in text:  # every 发文字号 ends in 号 (NFKC leaves it as it is)
        return ""
    text = nfkc(text)
    for tail in _DOC_NUMBER_TAIL.finditer(text):
        start = tail.start()
        while start > 0 and text[start - 1].isspace():
            start -= 1
        match = _DOC_NUMBER.search(text, max(0, start - _ISSUER_CHARS), tail.end())
        if match:
            return normalize_doc_number(match.group())
    return ""


def _chinese_number(text: str) -> int:
    if len(text) > 1 and "十" not in text:
        return int("".join(str(_CHINESE_DIGITS[c]) for c in text))
    tens, _, ones = text.partition("十")
    if not _:
        return _CHINESE_DIGITS[text]
    return (_CHINESE_DIGITS[tens] if tens else 1) * 10 + (_CHINESE_DIGITS[ones] if ones else 0)


def normalize_date(text: str) -> str:
    """2019年1月10日 / 2019.1.10 / 二〇一九年一月十日 -> 2019-01-10; "" when no date is found."""
    text = unicodedata.normalize("NFKC", text)
    match = _NUMERIC_DATE.search(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        chinese = _CHINESE_DATE.search(text)
        if not chinese:
            return ""
        year = int("".join(str(_CHINESE_DIGITS[c]) for c in chinese.group(1)))
        month, day = _chinese_number(chinese.group(2)), _chinese_number(chinese.group(3))
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return ""
    return f"{year:04d}-{month:02d}-{day:02d}"


def normalize_policy(meta: PolicyMeta, government_name: Callable[[str], str]) -> PolicyMeta:
    """`meta` with 发文字号, issuers (via `government_name`) and dates in one spelling."""
    issuers = [government_name(part) for part in _ISSUER_SEPARATORS.split(meta.issuer) if part]
    return meta.model_copy(
        update={
            "doc_number": normalize_doc_number(meta.doc_number),
            "issuer": "、".join(dict.fromkeys(issuers)),
            "written_date": normalize_date(meta.written_date),
            "publish_date": normalize_date(meta.publish_date),
            "index_number": meta.index_number.strip(),
            "topic": unicodedata.normalize("NFKC", meta.topic).strip(),
        }
    )
