"""When to poll a feed next, and how healthy it is: pure functions of the last outcome.

Nothing here reads a clock or touches the network: callers pass ``now`` (an aware UTC
``datetime``) and, for failures, a ``random.Random`` for the jitter, so every decision can be
replayed in a test.

Health follows a weight of consecutive failures, reset by any success:

==============  =========================================================================
weight          health
==============  =========================================================================
< 1.0           ``healthy``: at most one transient blip (a timeout, a 5xx, a 429).
1.0 to < 4.0    ``degraded``: one hard failure, or two transient ones in a row.
>= 4.0          ``broken``: four hard failures (404, 410, not a feed) in a row, or eight
                transient ones; with a 15-minute interval that is about 4 hours of 404s, or
                about a day and a half of outages.
==============  =========================================================================

A hard failure weighs ``HARD_FAILURE_WEIGHT`` (1.0) and a transient one
``TRANSIENT_FAILURE_WEIGHT`` (0.5): a server that is down usually comes back by itself, while
a 404 rarely does. Failed feeds back off exponentially with jitter, at most ``MAX_DELAY``
apart, and are never dropped: a broken feed is still tried once a day so that it can recover.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Literal

#: The longest any feed waits between two polls, whatever the server or the backoff says.
MAX_DELAY = timedelta(hours=24)
HARD_FAILURE_WEIGHT = 1.0
TRANSIENT_FAILURE_WEIGHT = 0.5
DEGRADED_AT = 1.0
BROKEN_AT = 4.0
#: Delays after a failure are drawn from [(1 - JITTER) * d, d], so that feeds that failed
#: together (one outage, one host) do not all retry in the same second.
JITTER = 0.25

Health = Literal["healthy", "degraded", "broken"]
Event = Literal["broken", "recovered"]

_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)\"?\s*(?:,|$)", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|,)\s*(?:no-cache|no-store)\s*(?:[,=]|$)", re.IGNORECASE)


@dataclass(frozen=True)
class FeedHealth:
    """How a feed has been doing, as stored between polls."""

    #: ``healthy``, ``degraded`` or ``broken`` (thresholds in the module docstring).
    health: Health = "healthy"
    #: Failures since the last success.
    consecutive_failures: int = 0
    #: Sum of the weights of those failures; decides ``health``.
    failure_weight: float = 0.0


@dataclass(frozen=True)
class ServerHints:
    """What a response said about when to come back, as delays counted from the response."""

    #: ``Retry-After``, when the server sent one.
    retry_after: timedelta | None = None
    #: How long the response stays fresh: ``Cache-Control: max-age``, else ``Expires``.
    fresh_for: timedelta | None = None

    @property
    def not_before(self) -> timedelta:
        """The lower bound the hints put on the next poll, capped at ``MAX_DELAY``."""
        delays = [d for d in (self.retry_after, self.fresh_for) if d is not None]
        return min(max(delays, default=timedelta(0)), MAX_DELAY)


@dataclass(frozen=True)
class ScheduleDecision:
    """What to store after a poll."""

    #: When the feed is due again.
    next_check_at: datetime
    #: The feed's health after this poll.
    health: FeedHealth
    #: Set only on the poll that made the feed broken, or that brought a broken one back.
    event: Event | None


def parse_http_date(value: str | None) -> datetime | None:
    """An HTTP date (RFC 9110, and the obsolete forms) as an aware UTC datetime, or None."""
    if not value or not value.strip():
        return None
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    # A date without a zone is GMT by definition in HTTP.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """``Retry-After`` (delta-seconds or an HTTP date) in seconds from ``now``, never negative."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return min(float(text), MAX_DELAY.total_seconds())
    when = parse_http_date(text)
    if when is None:
        return None
    seconds = (when - now).total_seconds()
    return min(max(seconds, 0.0), MAX_DELAY.total_seconds())


def parse_max_age(cache_control: str | None) -> timedelta | None:
    """``Cache-Control: max-age`` as a delay; ``no-cache``/``no-store`` mean zero."""
    if not cache_control:
        return None
    if _NO_CACHE.search(cache_control):
        return timedelta(0)
    match = _MAX_AGE.search(cache_control)
    if match is None:
        return None
    # float() because a hostile header may carry thousands of digits, which int() refuses.
    return timedelta(seconds=min(float(match.group(1)), MAX_DELAY.total_seconds()))


def hints_from_headers(headers: Mapping[str, str], now: datetime) -> ServerHints:
    """Read ``Retry-After``, ``Cache-Control`` and ``Expires`` from response headers."""
    lowered = {name.lower(): value for name, value in headers.items()}
    retry_after = parse_retry_after(lowered.get("retry-after"), now)
    fresh_for = parse_max_age(lowered.get("cache-control"))
    if fresh_for is None:  # max-age wins over Expires when both are sent (RFC 9111)
        fresh_for = _expires_in(lowered, now)
    return ServerHints(
        retry_after=None if retry_after is None else timedelta(seconds=retry_after),
        fresh_for=fresh_for,
    )


def _expires_in(headers: Mapping[str, str], now: datetime) -> timedelta | None:
    expires = parse_http_date(headers.get("expires"))
    if expires is None:
        # An unparsable Expires (often "0" or "-1") means "already expired" (RFC 9111 5.3).
        return timedelta(0) if "expires" in headers else None
    # Count from the server's own Date when it sent one, so a skewed server clock does not
    # turn into a skewed delay on ours.
    origin = parse_http_date(headers.get("date")) or now
    return min(max(expires - origin, timedelta(0)), MAX_DELAY)


def after_success(
    state: FeedHealth, now: datetime, *, interval: timedelta, hints: ServerHints | None = None
) -> ScheduleDecision:
    """A poll succeeded (200 or 304): reset health; wait the interval, or what the server asks."""
    delay = min(max(interval, hints.not_before if hints else timedelta(0)), MAX_DELAY)
    event: Event | None = "recovered" if state.health == "broken" else None
    return ScheduleDecision(next_check_at=now + delay, health=FeedHealth(), event=event)


def after_failure(
    state: FeedHealth,
    now: datetime,
    *,
    interval: timedelta,
    transient: bool,
    retry_after: float | None,
    rng: random.Random,
) -> ScheduleDecision:
    """A poll failed: add the failure's weight, and back off exponentially with jitter."""
    weight = TRANSIENT_FAILURE_WEIGHT if transient else HARD_FAILURE_WEIGHT
    failed = replace(
        state,
        consecutive_failures=state.consecutive_failures + 1,
        failure_weight=state.failure_weight + weight,
    )
    failed = replace(failed, health=health_for(failed.failure_weight))
    delay = backoff_delay(failed.consecutive_failures, interval, rng)
    if retry_after is not None and retry_after > 0:  # also skips NaN
        delay = max(delay, timedelta(seconds=min(retry_after, MAX_DELAY.total_seconds())))
    event: Event | None = (
        "broken" if failed.health == "broken" and state.health != "broken" else None
    )
    return ScheduleDecision(next_check_at=now + delay, health=failed, event=event)


def health_for(failure_weight: float) -> Health:
    """The health a feed has after failures of this total weight."""
    if failure_weight >= BROKEN_AT:
        return "broken"
    if failure_weight >= DEGRADED_AT:
        return "degraded"
    return "healthy"


def backoff_delay(failures: int, interval: timedelta, rng: random.Random) -> timedelta:
    """``interval * 2**(failures - 1)``, jittered down by up to ``JITTER``, capped at ``MAX_DELAY``.

    The first retry comes after about one interval, so a failing feed is never polled more
    often than a healthy one.
    """
    # Work in float seconds and cap the exponent: a long streak times a long interval does not
    # fit in a timedelta.
    exponent = min(max(failures - 1, 0), 64)
    base = min(interval.total_seconds() * 2.0**exponent, MAX_DELAY.total_seconds())
    return timedelta(seconds=base * rng.uniform(1 - JITTER, 1))
