"""XML Schema ``dateTime`` / ``dateTimeStamp`` parsing for ``validFrom``, ``validUntil``, ``created``, ``expires``.

VC Data Model 2.0 §4.9 requires ``validFrom``/``validUntil`` to be ``xsd:dateTimeStamp`` (a dateTime with a
time zone); Data Integrity 1.0 §2.1 requires the same of ``created`` and ``expires``. VC 1.1 used
``issuanceDate``/``expirationDate`` as ``xsd:dateTime`` (zone optional; we then read it as UTC).
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta, timezone

from chopmark.errors import MalformedValueError

# XML Schema 1.1 Part 2 §3.3.7 dateTime lexical space, with an optional zone (§3.3.28 dateTimeStamp requires it).
_DATETIME = re.compile(
    r"^(?P<year>-?(?:[1-9][0-9]{3,}|0[0-9]{3}))-(?P<month>0[1-9]|1[0-2])-(?P<day>0[1-9]|[12][0-9]|3[01])"
    r"T(?:(?P<hour>[01][0-9]|2[0-3]):(?P<minute>[0-5][0-9]):(?P<second>[0-5][0-9])(?:\.(?P<frac>[0-9]+))?"
    r"|(?P<midnight>24:00:00(?:\.0+)?))"
    r"(?P<tz>Z|[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))?$"
)

#: Years beyond what ``datetime`` holds are clamped to this instant; only ordering matters for them.
FAR_FUTURE = datetime.max.replace(tzinfo=UTC)


def parse_datetime(value: object, *, require_zone: bool = True, name: str = "value") -> datetime:
    """Parse an XML Schema dateTime(Stamp) into an aware ``datetime``.

    Raises :class:`MalformedValueError` when ``value`` is not a string in the lexical space, or has no zone
    while ``require_zone`` is set. Parsing is pure and results are immutable, so successes are memoised.
    """
    if not isinstance(value, str):
        raise MalformedValueError(f"{name} must be an XML Schema dateTime string", pointer=name)
    return _parse_cached(value, require_zone, name)


@functools.lru_cache(maxsize=4096)
def _parse_cached(value: str, require_zone: bool, name: str) -> datetime:
    m = _DATETIME.match(value)
    if m is None:
        raise MalformedValueError(f"{name} {value!r} is not an XML Schema dateTimeStamp", pointer=name)
    tz = m.group("tz")
    if tz is None and require_zone:
        raise MalformedValueError(f"{name} {value!r} has no time zone (dateTimeStamp required)", pointer=name)
    year = int(m.group("year"))
    if year > 9999:
        return FAR_FUTURE
    if year < 1:
        return datetime.min.replace(tzinfo=UTC)
    try:
        return _build(m, year, tz)
    except OverflowError:  # 9999-12-31T24:00:00 or a zone pushing past the last representable instant
        return FAR_FUTURE
    except ValueError as exc:  # e.g. 2023-02-30
        raise MalformedValueError(f"{name} {value!r} is not a valid date: {exc}", pointer=name) from None


def _build(m: re.Match[str], year: int, tz: str | None) -> datetime:
    zone = _zone(tz)
    month, day = int(m.group("month")), int(m.group("day"))
    if m.group("midnight"):
        return datetime(year, month, day, tzinfo=zone) + timedelta(days=1)
    frac = (m.group("frac") or "0")[:6].ljust(6, "0")
    return datetime(year, month, day, int(m.group("hour")), int(m.group("minute")), int(m.group("second")),
                    int(frac), tzinfo=zone)


def _zone(tz: str | None) -> timezone:
    if tz is None or tz == "Z":
        return UTC
    sign = 1 if tz[0] == "+" else -1
    hours, minutes = int(tz[1:3]), int(tz[4:6])
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def format_datetime(moment: datetime) -> str:
    """Format an aware datetime as ``YYYY-MM-DDTHH:MM:SSZ`` (UTC, whole seconds)."""
    if moment.tzinfo is None:
        raise MalformedValueError("datetime must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
