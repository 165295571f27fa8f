"""Scheduling and feed health: pure functions, driven with an injected clock and seeded RNG."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parsers.schedule import (
    MAX_DELAY,
    FeedHealth,
    ScheduleDecision,
    ServerHints,
    after_failure,
    after_success,
    backoff_delay,
    hints_from_headers,
    parse_http_date,
    parse_max_age,
    parse_retry_after,
)

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
INTERVAL = timedelta(minutes=15)


def http_date(when: datetime) -> str:
    return format_datetime(when, usegmt=True)


# --- Server hints -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        (http_date(NOW + timedelta(seconds=90)), 90.0),
        (http_date(NOW - timedelta(hours=1)), 0.0),  # a date in the past: come back now
        ("999999999", MAX_DELAY.total_seconds()),
        ("9" * 5000, MAX_DELAY.total_seconds()),
        ("soon", None),
        ("-5", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("max-age=300", timedelta(seconds=300)),
        ("public, max-age=600, must-revalidate", timedelta(seconds=600)),
        ('max-age="60"', timedelta(seconds=60)),
        ("s-maxage=900", None),  # for shared caches only
        ("no-cache", timedelta(0)),
        ("private, no-store", timedelta(0)),
        ("max-age=31536000", MAX_DELAY),
        ("", None),
        (None, None),
    ],
)
def test_max_age(value: str | None, expected: timedelta | None) -> None:
    assert parse_max_age(value) == expected


def test_http_date_forms() -> None:
    expected = datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)
    assert parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == expected
    assert parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT") == expected  # RFC 850
    assert parse_http_date("Sun Nov  6 08:49:37 1994") == expected  # asctime
    assert parse_http_date("yesterday") is None


def test_max_age_wins_over_expires() -> None:
    headers = {"Cache-Control": "max-age=60", "Expires": http_date(NOW + timedelta(hours=2))}
    assert hints_from_headers(headers, NOW).fresh_for == timedelta(seconds=60)


def test_expires_counts_from_the_servers_date() -> None:
    # The server's clock is an hour behind ours; Expires is 30 min after *its* now.
    server_now = NOW - timedelta(hours=1)
    headers = {
        "date": http_date(server_now),
        "expires": http_date(server_now + timedelta(minutes=30)),
    }
    assert hints_from_headers(headers, NOW).fresh_for == timedelta(minutes=30)


def test_invalid_expires_means_already_expired() -> None:
    assert hints_from_headers({"Expires": "0"}, NOW).fresh_for == timedelta(0)


def test_hints_lower_bound_is_the_largest_and_capped() -> None:
    hints = hints_from_headers({"retry-after": "7200", "cache-control": "max-age=60"}, NOW)
    assert hints.not_before == timedelta(hours=2)
    assert ServerHints(fresh_for=timedelta(days=30)).not_before == MAX_DELAY
    assert ServerHints().not_before == timedelta(0)


# --- Success ----------------------------------------------------------------------------


def test_success_waits_the_interval() -> None:
    decision = after_success(FeedHealth(), NOW, interval=INTERVAL)
    assert decision == ScheduleDecision(NOW + INTERVAL, FeedHealth(), None)


def test_success_honours_a_longer_server_hint_but_never_a_shorter_one() -> None:
    longer = ServerHints(fresh_for=timedelta(hours=1))
    shorter = ServerHints(fresh_for=timedelta(minutes=1))
    assert after_success(FeedHealth(), NOW, interval=INTERVAL, hints=longer).next_check_at == (
        NOW + timedelta(hours=1)
    )
    assert after_success(FeedHealth(), NOW, interval=INTERVAL, hints=shorter).next_check_at == (
        NOW + INTERVAL
    )


def test_per_feed_interval_override_is_the_interval_argument() -> None:
    decision = after_success(FeedHealth(), NOW, interval=timedelta(hours=3))
    assert decision.next_check_at == NOW + timedelta(hours=3)


# --- Failures ---------------------------------------------------------------------------


def fail(
    state: FeedHealth, now: datetime, rng: random.Random, *, transient: bool = True
) -> ScheduleDecision:
    return after_failure(
        state, now, interval=INTERVAL, transient=transient, retry_after=None, rng=rng
    )


def test_a_500_streak_backs_off_caps_breaks_and_recovers_with_two_events() -> None:
    rng = random.Random(42)
    state, now = FeedHealth(), NOW
    delays: list[timedelta] = []
    healths: list[str] = []
    events: list[str] = []
    for _ in range(20):  # 20 consecutive HTTP 500s
        decision = fail(state, now, rng)
        delays.append(decision.next_check_at - now)
        healths.append(decision.health.health)
        events += [decision.event] if decision.event else []
        state, now = decision.health, decision.next_check_at
    recovered = after_success(state, now, interval=INTERVAL)
    events += [recovered.event] if recovered.event else []

    # Exponential: each uncapped delay is at least 1.5x the previous (2x, minus 25% jitter).
    uncapped = [d for d in delays if d < MAX_DELAY * (1 - 0.25)]
    assert len(uncapped) >= 5
    assert all(b >= a * 1.5 for a, b in itertools.pairwise(uncapped))
    assert max(delays) <= MAX_DELAY  # capped at 24 h ...
    assert delays[-1] > MAX_DELAY * 0.74  # ... and still polled: never given up on
    # Jitter: the capped delays are not all the same.
    assert len({d for d in delays[-8:]}) == 8
    assert healths[0] == "healthy"  # one transient blip is not a problem yet
    assert "degraded" in healths
    assert healths[-1] == "broken"
    assert events == ["broken", "recovered"]
    assert recovered.health == FeedHealth()
    assert recovered.next_check_at == now + INTERVAL


def test_hard_failures_break_a_feed_sooner_than_transient_ones() -> None:
    def failures_until_broken(transient: bool) -> int:
        state, rng = FeedHealth(), random.Random(1)
        for n in range(1, 100):
            decision = fail(state, NOW, rng, transient=transient)
            if decision.event == "broken":
                return n
            state = decision.health
        raise AssertionError("never broke")

    assert failures_until_broken(transient=False) == 4
    assert failures_until_broken(transient=True) == 8


def test_degraded_recovers_silently() -> None:
    degraded = fail(FeedHealth(), NOW, random.Random(0), transient=False).health
    assert degraded.health == "degraded"
    assert after_success(degraded, NOW, interval=INTERVAL).event is None


def test_retry_after_is_a_lower_bound_on_the_next_attempt() -> None:
    decision = after_failure(
        FeedHealth(), NOW, interval=INTERVAL, transient=True, retry_after=3600, rng=random.Random(0)
    )
    assert decision.next_check_at == NOW + timedelta(hours=1)
    capped = after_failure(
        FeedHealth(), NOW, interval=INTERVAL, transient=True, retry_after=1e12, rng=random.Random(0)
    )
    assert capped.next_check_at == NOW + MAX_DELAY


@given(
    failures=st.integers(min_value=0, max_value=10_000),
    minutes=st.integers(min_value=1, max_value=60 * 24 * 365),
    seed=st.integers(),
)
def test_backoff_is_always_positive_and_capped(failures: int, minutes: int, seed: int) -> None:
    delay = backoff_delay(failures, timedelta(minutes=minutes), random.Random(seed))
    assert timedelta(0) < delay <= MAX_DELAY
