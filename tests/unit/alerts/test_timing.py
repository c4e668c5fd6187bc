"""Rule timing: bundled windows, quiet hours across midnight, muted weekdays, minimum
interval; nothing is dropped, only held."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from hitwatch.alerts.timing import SHANGHAI, Timing, TimingError


def at(day: int, hour: int, minute: int = 0) -> datetime:
    # December 2026: the 7th is a Monday.
    return datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI)


def test_an_immediate_rule_holds_nothing_when_open():
    timing = Timing.parse()
    assert not timing.holds(at(7, 10), None)
    assert timing.cutoff(at(7, 10), None) == at(7, 10)


def test_hourly_sends_what_came_before_the_full_hour():
    timing = Timing.parse("hourly")
    assert timing.holds(at(7, 10, 5), None)
    assert timing.cutoff(at(7, 10, 5), None) == at(7, 10)
    assert timing.cutoff(at(7, 11, 0), at(7, 10, 1)) == at(7, 11)


def test_daily_at_a_chosen_time_in_shanghai():
    timing = Timing.parse("daily", "08:30")
    assert timing.cutoff(at(7, 8, 29), None) == at(6, 8, 30)
    assert timing.cutoff(at(7, 8, 31), None) == at(7, 8, 30)
    from datetime import UTC

    utc = datetime(2026, 12, 7, 0, 31, tzinfo=UTC)  # 08:31 in Shanghai
    assert timing.daily_slot(utc) == at(7, 8, 30)


def test_quiet_hours_across_midnight_and_muted_weekdays_hold_matches():
    timing = Timing.parse(quiet_start="22:00", quiet_end="07:00", muted_weekdays=[5, 6])
    assert timing.holds(at(7, 23), None) and timing.holds(at(8, 6, 59), None)
    assert not timing.holds(at(8, 7, 0), None)
    assert timing.cutoff(at(7, 23), None) is None
    assert timing.holds(at(12, 12), None)  # a Saturday
    assert timing.cutoff(at(14, 12), None) == at(14, 12)  # Monday: what waited goes out


def test_a_minimum_interval_spaces_messages():
    timing = Timing.parse(min_interval_minutes=30)
    assert timing.holds(at(7, 10, 20), at(7, 10))
    assert timing.cutoff(at(7, 10, 29), at(7, 10)) is None
    assert timing.cutoff(at(7, 10, 30), at(7, 10)) == at(7, 10, 30)
    assert timing.min_interval == timedelta(minutes=30)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"cadence": "weekly"},
        {"daily_at": "25:00"},
        {"daily_at": "8"},
        {"quiet_start": "22:00"},
        {"muted_weekdays": [7]},
        {"muted_weekdays": list(range(7))},
        {"min_interval_minutes": -1},
    ],
)
def test_malformed_timing_is_refused(kwargs):
    with pytest.raises(TimingError):
        Timing.parse(**kwargs)
