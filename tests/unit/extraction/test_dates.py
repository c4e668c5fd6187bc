from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from classifier.extraction.dates import BEIJING, PartialDate, find_dates, parse_date, url_date

REFERENCE = datetime(2024, 7, 15, 12, 0, tzinfo=BEIJING)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024年7月3日", datetime(2024, 7, 3, tzinfo=BEIJING)),
        ("2024年07月03日 10:21", datetime(2024, 7, 3, 10, 21, tzinfo=BEIJING)),
        ("发布时间：2024-07-03 10:21:05", datetime(2024, 7, 3, 10, 21, 5, tzinfo=BEIJING)),
        ("2024/07/03", datetime(2024, 7, 3, tzinfo=BEIJING)),
        ("2022.01.20 16:31", datetime(2022, 1, 20, 16, 31, tzinfo=BEIJING)),
        ("2019-01-30-17:46:00", datetime(2019, 1, 30, 17, 46, tzinfo=BEIJING)),
        ("２０２４年７月３日", datetime(2024, 7, 3, tzinfo=BEIJING)),
        ("二〇〇四年十二月十七日", datetime(2004, 12, 17, tzinfo=BEIJING)),
        ("二〇一九年一月三十一日", datetime(2019, 1, 31, tzinfo=BEIJING)),
        ("2024年7月3日 10时21分", datetime(2024, 7, 3, 10, 21, tzinfo=BEIJING)),
        ("2024-07-03T02:21:00Z", datetime(2024, 7, 3, 2, 21, tzinfo=UTC)),
        (
            "2024-07-03T10:21:00+09:00",
            datetime(2024, 7, 3, 10, 21, tzinfo=timezone(timedelta(hours=9))),
        ),
    ],
)
def test_full_dates(text: str, expected: datetime) -> None:
    assert parse_date(text) == expected


def test_results_are_timezone_aware_beijing_time() -> None:
    found = parse_date("2024-07-03 10:21")
    assert found is not None
    assert found.utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize(
    "text", ["2024-13-03", "2024年2月30日", "1888-01-01", "no date here", "", "4.66万座"]
)
def test_invalid_or_absent_dates_give_none(text: str) -> None:
    assert parse_date(text) is None


def test_month_day_takes_the_given_year() -> None:
    assert parse_date("07-03 10:21", year=2019) == datetime(2019, 7, 3, 10, 21, tzinfo=BEIJING)


def test_month_day_without_year_is_never_in_the_future() -> None:
    assert parse_date("7月3日", reference=REFERENCE) == datetime(2024, 7, 3, tzinfo=BEIJING)
    assert parse_date("12月30日", reference=REFERENCE) == datetime(2023, 12, 30, tzinfo=BEIJING)


def test_month_day_without_any_year_source_is_skipped() -> None:
    assert parse_date("07-03 10:21") is None


def test_full_dates_come_in_reading_order_and_are_not_read_twice() -> None:
    text = "成文日期：2019年01月16日 发布日期：2019-01-30"
    days = [d.date().isoformat() for d in find_dates(text, reference=REFERENCE)]
    assert days == ["2019-01-16", "2019-01-30"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://www.chinanews.com.cn/sh/2024/07-03/10245.shtml", PartialDate(2024, 7, 3)),
        ("http://bj.wenming.cn/chy/wmbb/202407/t20240703_8559911.shtml", PartialDate(2024, 7, 3)),
        (
            "https://www.gov.cn/zhengce/content/2019-01/30/content_5362266.htm",
            PartialDate(2019, 1, 30),
        ),
        ("https://www.nhsa.gov.cn/art/2024/7/3/art_105_13191.html", PartialDate(2024, 7, 3)),
        (
            "https://www.nhc.gov.cn/wjw/c100175/202407/0123456789abcdef0123456789abcdef.shtml",
            PartialDate(2024, 7),
        ),
        ("https://news.example.com/20240703/a.html", PartialDate(2024, 7, 3)),
        ("https://www.bjnews.com.cn/detail/1709600000168930.html", None),
        ("https://www.163.com/dy/article/J5Q3ABCD0514R9P4.html", None),
    ],
)
def test_url_dates(url: str, expected: PartialDate | None) -> None:
    assert url_date(url) == expected
