"""Times as people read them: in one time zone (``VIGIE_TIMEZONE``), to the minute, named.

The command line, alert messages, the digest and run artifacts all show times through these
functions, so that one moment reads the same everywhere: ``21 Nov 2026 09:15 EST``. Stored
times and JSON output stay in UTC; only what a person reads is converted.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from parsers.exceptions import ConfigError

#: The zone of the people Vigie was written for (Ottawa, Toronto, Montreal, Quebec City).
DEFAULT_TIMEZONE = "America/Toronto"


def time_zone(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (``America/Toronto``); ``ConfigError`` says what to write."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"unknown time zone {name!r}: use an IANA name such as {DEFAULT_TIMEZONE}"
        ) from exc


def local_time(moment: datetime, zone: tzinfo) -> str:
    """``21 Nov 2026 09:15 EST``: short, unambiguous, in ``zone`` (a naive time is UTC)."""
    local = _aware(moment).astimezone(zone)
    return f"{local.day} {local:%b %Y %H:%M} {local.tzname() or ''}".strip()


def published_time(moment: datetime, zone: tzinfo) -> str:
    """A publication time: ``14 Jun 2024`` when it has no time of day, else ``local_time``.

    Seeds, many pages (``datePublished: "2024-06-14"``), feeds and imported files give a date
    only. It is stored as midnight UTC in a plain timestamp column with nothing to tell it
    from a real time, so exactly 00:00:00 UTC is taken as a date without a time: converted to
    the analyst's zone it would read as the evening before, at an hour nobody wrote. The rare
    real timestamp at exactly midnight UTC is shown as its (UTC) date, which is still true.
    """
    utc = _aware(moment).astimezone(UTC)
    if utc.time() == time(0):
        return f"{utc.day} {utc:%b %Y}"
    return local_time(moment, zone)


def _aware(moment: datetime) -> datetime:
    # SQLite gives stored times back without a zone; Vigie stores them all in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
