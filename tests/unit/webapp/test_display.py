from datetime import UTC, date, datetime

import pytest

from webapp.display import day_range, local_time, paragraphs, parse_day, plain_value
from webapp.pagination import Pagination, page_number


def test_local_time_is_shanghai_wall_time() -> None:
    assert local_time(datetime(2024, 7, 3, 16, 30, tzinfo=UTC)) == "2024-07-04 00:30"
    assert local_time(None) == ""


def test_day_range_covers_whole_shanghai_days() -> None:
    start, end = day_range(date(2024, 7, 1), date(2024, 7, 31))
    assert start is not None and end is not None
    assert start.astimezone(UTC) == datetime(2024, 6, 30, 16, 0, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2024, 7, 31, 16, 0, tzinfo=UTC)
    assert day_range(None, None) == (None, None)


def test_parse_day_accepts_iso_dates_only() -> None:
    assert parse_day(" 2024-07-01 ") == date(2024, 7, 1)
    assert parse_day("") is None
    with pytest.raises(ValueError):
        parse_day("2024年7月1日")


def test_paragraphs_drop_blank_lines() -> None:
    assert paragraphs("第一段\n\n  第二段  \n") == ["第一段", "第二段"]


def test_plain_value_flattens_evidence() -> None:
    assert (
        plain_value({"D": ["电子病历", "评级"], "score": 0.91234})
        == "D: 电子病历、评级；score: 0.912"
    )


@pytest.mark.parametrize(
    ("page", "total", "pages", "prev", "next_"),
    [
        (1, 0, 1, False, False),
        (1, 21, 2, False, True),
        (2, 21, 2, True, False),
        (2, 40, 2, True, False),
    ],
)
def test_pagination(page: int, total: int, pages: int, prev: bool, next_: bool) -> None:
    pagination = Pagination(page, 20, total)
    assert (pagination.pages, pagination.has_prev, pagination.has_next) == (pages, prev, next_)
    assert pagination.offset == (page - 1) * 20


def test_page_number_is_forgiving() -> None:
    assert [page_number(raw) for raw in (None, "", "3", "-2", "abc")] == [1, 1, 3, 1, 1]
