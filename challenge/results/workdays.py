"""The notice period (公示期) counted in working days of the official Chinese calendar.

Public holidays and the make-up working days (调休上班) come from the `holidays` package, which
follows the State Council's schedule published each year; nothing here is typed by hand. A
period of N working days begins on the first working day on or after its start date and ends at
17:00 Beijing time, the programme office's closing time, on its N-th working day. The notice
page prints both.
"""

from dataclasses import dataclass
from datetime import date, datetime, time
from functools import cache

import holidays

from challenge.web.timefmt import beijing_to_utc

CLOSING_TIME = time(17, 0)
MAX_WORKING_DAYS = 30


@cache
def _calendar() -> holidays.HolidayBase:
    return holidays.country_holidays("CN")


def is_working_day(day: date) -> bool:
    return _calendar().is_working_day(day)


def next_working_day(day: date) -> date:
    """The first working day after `day`: the default start of a notice published on `day`."""
    return _calendar().get_nth_working_day(day, 1)


@dataclass(frozen=True)
class Period:
    first_day: date
    last_day: date
    working_days: int
    ends_at: datetime  # UTC: CLOSING_TIME in Beijing on `last_day`


def notice_period(starts_on: date, working_days: int) -> Period:
    calendar = _calendar()
    first = calendar.get_nth_working_day(starts_on, 0)
    last = calendar.get_nth_working_day(first, working_days - 1)
    return Period(first_day=first, last_day=last, working_days=working_days,
                  ends_at=beijing_to_utc(datetime.combine(last, CLOSING_TIME)))
