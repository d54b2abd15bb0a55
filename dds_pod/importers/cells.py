"""The typed values in a CSV row's cells: timestamps written three different ways, counters and amounts
as pandas writes them, language tags, URLs and per-language columns. Each parser raises
:class:`~.rows.RowError` naming the column and the value, so the row is reported rather than imported
with a wrong value."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation

from .rows import Row, RowError

_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?"
    r"\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?",
    re.IGNORECASE,
)
# pandas writes time-of-day columns as timedeltas: ``0 days 10:50:19`` (sometimes with microseconds).
_DURATION = re.compile(r"(?:(\d+) days?,?\s+)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?")
_COUNT = re.compile(r"\d+(?:\.0*)?")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")
_URL = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
_URL_SEPARATORS = re.compile(r"[\s,;]+")


def timestamp(value: str, time_of_day: str = "", zone: tzinfo = UTC) -> str:
    """An ``xsd:dateTime`` from ``2016-07-29 10:58:41 UTC``, ``2016-07-29T10:58:41+02:00``, or a bare date
    (midnight) plus an optional time of day such as pandas' ``0 days 10:50:19``. A value without an
    offset is read in ``zone``; UTC is written ``Z``."""
    match = _TIMESTAMP.fullmatch(value.strip())
    if not match:
        raise RowError(f"unparseable date {value!r}")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
                          _microseconds(fraction), tzinfo=_zone(offset) if offset else zone)
    except ValueError:
        raise RowError(f"impossible date {value!r}") from None
    if time_of_day.strip():
        if hour:
            raise RowError(f"date {value!r} already has a time, and a time of day {time_of_day!r} was given")
        moment += _time_of_day(time_of_day)
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _microseconds(fraction: str | None) -> int:
    return int((fraction or "0")[:6].ljust(6, "0"))


def _zone(offset: str) -> tzinfo:
    if offset.upper() in ("Z", "UTC", "GMT"):
        return UTC
    return datetime.strptime(offset.replace(":", ""), "%z").tzinfo or UTC


def _time_of_day(value: str) -> timedelta:
    match = _DURATION.fullmatch(value.strip())
    if not match:
        raise RowError(f"unparseable time {value!r}")
    days, hours, minutes, seconds, fraction = match.groups()
    if int(minutes) > 59 or int(seconds) > 59:
        raise RowError(f"impossible time {value!r}")
    return timedelta(days=int(days or 0), hours=int(hours), minutes=int(minutes), seconds=int(seconds),
                     microseconds=_microseconds(fraction))


def count(row: Row, column: str) -> int | None:
    """A non-negative counter; an empty cell is unknown (``None``), ``12.0`` (pandas' floats) is 12."""
    value = row.get(column)
    if not value:
        return None
    if not _COUNT.fullmatch(value):
        raise RowError(f"{column} {value!r} is not a non-negative whole number")
    return int(value.split(".", 1)[0])


def amount(row: Row, column: str) -> int | float | None:
    """A non-negative amount of money, as a JSON number (an int when whole, so no float noise)."""
    value = row.get(column)
    if not value:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise RowError(f"{column} {value!r} is not an amount") from None
    if not number.is_finite() or number < 0:
        raise RowError(f"{column} {value!r} is not a non-negative amount")
    return int(number) if number == number.to_integral_value() else float(number)


def language(value: str, column: str = "locale") -> str:
    if not _LANGUAGE.fullmatch(value):
        raise RowError(f"{column} {value!r} is not a language tag")
    return value


def urls(row: Row, column: str) -> list[str]:
    """The http(s) URLs of a cell that lists them separated by spaces, ``,`` or ``;``."""
    found = [token for token in _URL_SEPARATORS.split(row.get(column)) if token]
    for token in found:
        if not _URL.fullmatch(token):
            raise RowError(f"{column} holds {token!r}, which is not an http(s) URL")
    return found


def url(value: str, column: str) -> str:
    if not _URL.fullmatch(value):
        raise RowError(f"{column} {value!r} is not an http(s) URL")
    return value


def locale_columns(header: Iterable[str], prefix: str) -> dict[str, str]:
    """``{"ca": "title/ca", "es": "title/es"}`` for columns ``title/<language>``, in header order
    (``title/machine_translations/...`` and other sub-keys are not languages and are left out)."""
    found = {}
    for column in header:
        head, _, tail = column.rpartition("/")
        if head == prefix and _LANGUAGE.fullmatch(tail):
            found[tail] = column
    return found
