"""When a rule's matches may go out: at once or bundled, quiet hours, muted weekdays, a
minimum interval. Pure: the time is passed in; local times are Asia/Shanghai.

A held match is never dropped: it waits (`waiting` delivery row) until the scheduler's
tick finds the rule `due`. An immediate rule is due whenever it is open and its minimum
interval has passed. A bundled rule sends, at the first open tick after each slot (every
full hour, or daily at `daily_at`), one message with every match from before that slot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from hitwatch.errors import PermanentError

__all__ = ["CADENCES", "SHANGHAI", "Timing", "TimingError", "parse_clock"]

SHANGHAI = ZoneInfo("Asia/Shanghai")
CADENCES = ("immediate", "hourly", "daily")


class TimingError(PermanentError):
    """A rule's timing is malformed (a clock time that is not HH:MM, an unknown cadence)."""


def parse_clock(text: str) -> time:
    """ "08:30" -> time(8, 30); TimingError otherwise."""
    try:
        hours, minutes = text.strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise TimingError(f"{text!r} is not a time of day (HH:MM)") from None


@dataclass(frozen=True)
class Timing:
    cadence: str = "immediate"
    daily_at: time = time(8, 0)
    quiet_start: time | None = None
    quiet_end: time | None = None
    muted_weekdays: frozenset[int] = frozenset()  # 0 = Monday
    min_interval: timedelta = timedelta(0)

    @classmethod
    def parse(
        cls,
        cadence: str = "immediate",
        daily_at: str = "08:00",
        quiet_start: str = "",
        quiet_end: str = "",
        muted_weekdays: list[int] | tuple[int, ...] = (),
        min_interval_minutes: int = 0,
    ) -> Timing:
        if cadence not in CADENCES:
            raise TimingError(f"unknown cadence {cadence!r}")
        if bool(quiet_start.strip()) != bool(quiet_end.strip()):
            raise TimingError("quiet hours need a start and an end")
        if any(not 0 <= int(day) <= 6 for day in muted_weekdays):
            raise TimingError("weekdays are 0 (Monday) to 6 (Sunday)")
        if len(set(muted_weekdays)) == 7:
            raise TimingError("muting every weekday would hold every match for ever")
        if not 0 <= min_interval_minutes <= 7 * 24 * 60:
            raise TimingError("the minimum interval is 0 to 10080 minutes")
        return cls(
            cadence,
            parse_clock(daily_at or "08:00"),
            parse_clock(quiet_start) if quiet_start.strip() else None,
            parse_clock(quiet_end) if quiet_end.strip() else None,
            frozenset(int(day) for day in muted_weekdays),
            timedelta(minutes=min_interval_minutes),
        )

    @property
    def bundled(self) -> bool:
        return self.cadence != "immediate"

    def is_open(self, now: datetime) -> bool:
        """Not a muted weekday and not within quiet hours (which may span midnight)."""
        local = now.astimezone(SHANGHAI)
        if local.weekday() in self.muted_weekdays:
            return False
        if self.quiet_start is None or self.quiet_end is None:
            return True
        clock = local.time()
        start, end = self.quiet_start, self.quiet_end
        quiet = start <= clock < end if start <= end else clock >= start or clock < end
        return not quiet

    def last_slot(self, now: datetime) -> datetime | None:
        """The latest slot at or before `now` (None for an immediate rule)."""
        local = now.astimezone(SHANGHAI)
        if self.cadence == "hourly":
            return local.replace(minute=0, second=0, microsecond=0)
        if self.cadence == "daily":
            return self.daily_slot(now)
        return None

    def daily_slot(self, now: datetime) -> datetime:
        """The latest `daily_at` at or before `now` (the heartbeat's slot, too)."""
        local = now.astimezone(SHANGHAI)
        today = datetime.combine(local.date(), self.daily_at, SHANGHAI)
        return today if today <= local else today - timedelta(days=1)

    def holds(self, now: datetime, last_sent_at: datetime | None) -> bool:
        """A match found now waits (bundled, closed, or too soon after the last message)."""
        return self.bundled or not self.is_open(now) or self._too_soon(now, last_sent_at)

    def cutoff(self, now: datetime, last_sent_at: datetime | None) -> datetime | None:
        """Matches found before this moment go out in a message now; None: nothing now."""
        if not self.is_open(now) or self._too_soon(now, last_sent_at):
            return None
        return self.last_slot(now) or now

    def _too_soon(self, now: datetime, last_sent_at: datetime | None) -> bool:
        return last_sent_at is not None and now - last_sent_at < self.min_interval
