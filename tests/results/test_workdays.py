"""Notice periods in working days, against the State Council's published holiday schedules.

国办发明电〔2024〕12号 (2025): Spring Festival 28 Jan – 4 Feb off, Sun 26 Jan and Sat 8 Feb worked;
National Day and Mid-Autumn 1–8 Oct off, Sun 28 Sep and Sat 11 Oct worked.
国办发明电〔2025〕7号 (2026): Spring Festival 15–23 Feb off, Sat 14 Feb and Sat 28 Feb worked;
National Day 1–7 Oct off, Sun 20 Sep and Sat 10 Oct worked.
The expected last days below were counted by hand from those schedules.
"""

from datetime import date, datetime, timezone

import pytest

from challenge.results import workdays

CASES = [
    # start, working days, last working day of the period, the days counted (for the reader)
    (date(2025, 1, 24), 5, date(2025, 2, 6)),    # 24, Sun 26 (make-up), 27, [28 Jan–4 Feb off], 5, 6
    (date(2025, 1, 25), 3, date(2025, 2, 5)),    # Sat 25 off → Sun 26, 27, [off], 5 Feb
    (date(2025, 2, 7), 2, date(2025, 2, 8)),     # Fri 7, Sat 8 (make-up)
    (date(2025, 9, 26), 5, date(2025, 10, 9)),   # 26, Sun 28 (make-up), 29, 30, [1–8 Oct off], 9
    (date(2025, 10, 9), 5, date(2025, 10, 14)),  # 9, 10, Sat 11 (make-up), 13, 14
    (date(2025, 10, 1), 1, date(2025, 10, 9)),   # a start inside the holiday waits for its end
    (date(2026, 2, 12), 5, date(2026, 2, 25)),   # 12, 13, Sat 14 (make-up), [15–23 Feb off], 24, 25
    (date(2026, 2, 26), 3, date(2026, 2, 28)),   # 26, 27, Sat 28 (make-up)
    (date(2026, 9, 18), 5, date(2026, 9, 23)),   # 18, Sun 20 (make-up), 21, 22, 23
    (date(2026, 9, 28), 5, date(2026, 10, 9)),   # 28, 29, 30, [1–7 Oct off], 8, 9
    (date(2026, 10, 8), 3, date(2026, 10, 10)),  # 8, 9, Sat 10 (make-up)
]


@pytest.mark.parametrize("start, days, last", CASES)
def test_notice_period_counts_working_days_of_the_official_calendar(start, days, last):
    period = workdays.notice_period(start, days)
    assert period.last_day == last
    assert period.first_day >= start and workdays.is_working_day(period.first_day)


def test_the_period_ends_at_17_00_beijing_time_on_its_last_working_day():
    period = workdays.notice_period(date(2026, 2, 12), 5)
    assert period.first_day == date(2026, 2, 12)
    assert period.ends_at == datetime(2026, 2, 25, 9, 0, tzinfo=timezone.utc)  # 17:00 in Beijing


def test_make_up_days_are_working_days_and_holidays_are_not():
    assert workdays.is_working_day(date(2026, 2, 14))  # Saturday, worked for the Spring Festival
    assert not workdays.is_working_day(date(2026, 2, 20))  # Friday, off
    assert not workdays.is_working_day(date(2025, 10, 8))  # Wednesday, off
    assert workdays.next_working_day(date(2026, 9, 30)) == date(2026, 10, 8)
    assert workdays.next_working_day(date(2025, 1, 24)) == date(2025, 1, 26)
