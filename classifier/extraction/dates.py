"""Publication dates in every form Chinese pages write them, as pure functions.

Local times on Chinese sites are Beijing time (UTC+8, no daylight saving since 1991), so a
fixed offset is exact and needs no time-zone database.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import NamedTuple

__all__ = [
    "BEIJING",
    "PartialDate",
    "find_dates",
    "parse_date",
    "url_date",
]

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")

_MIN_YEAR = 1990
_MAX_YEAR = 2100

# Chinese numerals as written in signature blocks (二〇一九年一月十六日).
_CN_DIGITS = {"〇": 0, "○": 0, "零": 0, "Ｏ": 0, "O": 0, "一": 1, "二": 2, "三": 3, "四": 4}
_CN_DIGITS |= {"五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUM = "〇○零ＯO一二三四五六七八九十"

_TIME = (
    r"(?:[T\s]*(?P<hour>\d{1,2})\s*[:时]\s*(?P<minute>\d{1,2})(?:\s*[:分]\s*(?P<second>\d{1,2}))?)?"
)
_TZ = r"(?P<tz>Z|[+-]\d{2}:?\d{2})?"

_FULL = re.compile(
    r"(?<!\d)(?P<year>(?:19|20)\d{2})\s*(?P<sep>[-/.年])\s*(?P<month>\d{1,2})\s*(?:[-/.月])\s*"
    r"(?P<day>\d{1,2})(?!\d)\s*日?"
    # gov.cn meta tags join date and time with a hyphen: 2019-01-30-17:46:00
    r"(?:-(?=\d{1,2}:))?" + _TIME + _TZ
)
_CHINESE = re.compile(
    rf"(?P<year>[{_CN_NUM}]{{4}})\s*年\s*(?P<month>[{_CN_NUM}]{{1,2}})\s*月\s*(?P<day>[{_CN_NUM}]{{1,3}})\s*日"
)
# Month and day only (07-03 10:21, 7月3日): the year must come from elsewhere.
_NO_YEAR = re.compile(
    r"(?<![\d\-/.年])(?P<month>\d{1,2})\s*(?P<sep>[-/月])\s*(?P<day>\d{1,2})(?![\d\-/])\s*日?"
    + _TIME
)


class PartialDate(NamedTuple):
    """A date as far as it is known: URLs often carry the year and month only."""

    year: int
    month: int
    day: int | None = None


def _valid(year: int, month: int, day: int) -> date | None:
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _cn_number(text: str) -> int:
    """一九 -> 19 digit by digit for years; 十六 / 二十 / 三十一 by value for months and days."""
    if "十" not in text:
        value = 0
        for char in text:
            value = value * 10 + _CN_DIGITS[char]
        return value
    tens, _, units = text.partition("十")
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[units] if units else 0)


def _at(
    day: date, hour: str | None, minute: str | None, second: str | None, tz: str | None
) -> datetime | None:
    h, m, s = int(hour or 0), int(minute or 0), int(second or 0)
    if h > 23 or m > 59 or s > 59:
        h = m = s = 0
    zone: timezone = BEIJING
    if tz:
        if tz == "Z":
            zone = UTC
        else:
            sign = -1 if tz[0] == "-" else 1
            digits = tz[1:].replace(":", "")
            zone = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    return datetime(day.year, day.month, day.day, h, m, s, tzinfo=zone)


def find_dates(
    text: str, *, year: int | None = None, reference: datetime | None = None
) -> Iterator[datetime]:
    """Every date in `text`, in reading order, as an aware datetime (Beijing time unless stated).

    Dates without a year (07-03, 7月3日) take `year` when given, else the latest year that
    does not put them after `reference` (a page is not published in the future); without
    either they are skipped.
    """
    text = unicodedata.normalize("NFKC", text)
    found: list[tuple[int, datetime]] = []
    taken: list[tuple[int, int]] = []
    for match in _FULL.finditer(text):
        day = _valid(int(match["year"]), int(match["month"]), int(match["day"]))
        if day is None:
            continue
        moment = _at(day, match["hour"], match["minute"], match["second"], match["tz"])
        if moment is not None:
            found.append((match.start(), moment))
            taken.append(match.span())
    for match in _CHINESE.finditer(text):
        try:
            day = _valid(*(_cn_number(match[g]) for g in ("year", "month", "day")))
        except KeyError:
            continue
        if day is not None:
            found.append((match.start(), datetime(day.year, day.month, day.day, tzinfo=BEIJING)))
            taken.append(match.span())
    if year is not None or reference is not None:
        for match in _NO_YEAR.finditer(text):
            if any(start <= match.start() < end for start, end in taken):
                continue
            if match["sep"] == "月" and "日" not in match[0]:
                continue  # 7月3 without 日 is too often something else
            month, day_of_month = int(match["month"]), int(match["day"])
            guess = year if year is not None else reference.year if reference else None
            if guess is None:
                continue
            day = _valid(guess, month, day_of_month)
            if day is None:
                continue
            if year is None and reference is not None and day > reference.date():
                day = _valid(guess - 1, month, day_of_month)
                if day is None:
                    continue
            moment = _at(day, match["hour"], match["minute"], match["second"], None)
            if moment is not None:
                found.append((match.start(), moment))
    found.sort(key=lambda pair: pair[0])
    return (moment for _, moment in found)


def parse_date(
    text: str, *, year: int | None = None, reference: datetime | None = None
) -> datetime | None:
    """The first date in `text` (see `find_dates`), or None."""
    return next(find_dates(text, year=year, reference=reference), None)


_URL_PATTERNS = (
    # /2024/07-03/ (chinanews), /2019-01/30/ (gov.cn), /2024/0703/, /2024/7/3/ (Hanweb art/)
    re.compile(r"/(?P<year>(?:19|20)\d{2})[/-](?P<month>\d{1,2})[/-](?P<day>\d{1,2})(?=[/_])"),
    re.compile(r"/(?P<year>(?:19|20)\d{2})/(?P<month>[01]\d)(?P<day>[0-3]\d)/"),
    # t20240703_123.shtml (TRS), /20240703/, _20240703
    re.compile(
        r"(?:^|[/_t])(?P<year>(?:19|20)\d{2})(?P<month>[01]\d)(?P<day>[0-3]\d)(?=[/_.]|\d{2,})"
    ),
    # /202407/ and /2024-07/ carry the month only
    re.compile(r"/(?P<year>(?:19|20)\d{2})-?(?P<month>[01]\d)/"),
)


def url_date(url: str) -> PartialDate | None:
    """The date an article URL carries, as precise as the URL is."""
    path = url.split("?", 1)[0]
    for pattern in _URL_PATTERNS:
        for match in pattern.finditer(path):
            year, month = int(match["year"]), int(match["month"])
            groups = match.groupdict()
            if groups.get("day") is not None:
                if _valid(year, month, int(groups["day"])) is not None:
                    return PartialDate(year, month, int(groups["day"]))
            elif _valid(year, month, 1) is not None:
                return PartialDate(year, month)
    return None
