"""Times are stored in UTC and shown in Beijing time."""

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from challenge.web.i18n import get_locale

BEIJING = ZoneInfo("Asia/Shanghai")


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def to_beijing(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(BEIJING)


def beijing_to_utc(value: datetime) -> datetime:
    """A naive datetime typed by a user is Beijing wall time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=BEIJING)
    return value.astimezone(timezone.utc)


def end_of_day_beijing(day: date) -> datetime:
    return beijing_to_utc(datetime.combine(day, time(23, 59, 59)))


def format_datetime(value: datetime | None, with_zone: bool = True) -> str:
    if value is None:
        return ""
    local = to_beijing(value)
    if get_locale() == "en":
        text = local.strftime("%d %b %Y %H:%M")
        return f"{text} Beijing time" if with_zone else text
    text = f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
    return f"{text} 北京时间" if with_zone else text


def format_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_beijing(value).date()
    if get_locale() == "en":
        return value.strftime("%d %b %Y")
    return f"{value.year}年{value.month}月{value.day}日"


def input_value(value: datetime | None) -> str:
    """Value for an <input type=datetime-local>, in Beijing time."""
    if value is None:
        return ""
    return to_beijing(value).strftime("%Y-%m-%dT%H:%M")


def iso(value: datetime | None) -> str:
    return "" if value is None else to_beijing(value).isoformat()
