"""Where every feed of a measured pass ended: the check behind "no feed is lost silently".

After a pass, each feed must be in one of these places, read from Vigie's database and the
counts the pass returned:

- ``stored``: it has entries;
- ``failed``: its last recorded fetch has an error (the reason a person acts on);
- ``nothing_new``: fetched without error and nothing stored (a 304, an unchanged body, an
  empty feed);
- ``not_polled``: no fetch recorded at all. The pass says how many of those it meant: the
  feeds it postponed at its deadline (they stay due), and the failures it could not record
  because Vigie's own database failed.

A feed ``not_polled`` beyond what the pass reported is ``unaccounted``: it ended with no
entries and no recorded reason, which Vigie promises never happens.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import create_engine, text

_FEEDS = text(
    """
    SELECT f.url,
           EXISTS (SELECT 1 FROM entries e WHERE e.feed_id = f.id) AS stored,
           (SELECT COUNT(*) FROM fetches x WHERE x.feed_id = f.id) AS fetches,
           (SELECT x.error FROM fetches x WHERE x.feed_id = f.id
            ORDER BY x.started_at DESC, x.id DESC LIMIT 1) AS last_error
    FROM feeds f
    ORDER BY f.url
    """
)


@dataclass
class FeedAccount:
    """How many feeds ended where, and the URLs of those no one can account for."""

    stored: int = 0
    failed: int = 0
    nothing_new: int = 0
    not_polled: list[str] = field(default_factory=list)
    #: Feeds the pass reported as not recorded: postponed, or failed without a record.
    reported_unrecorded: int = 0
    unaccounted: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def account_feeds(database_url: str, counts: Mapping[str, Any]) -> FeedAccount:
    """Where each feed of the database ended, against the ``counts`` of the pass that ran
    on it (``monitor_feeds``'s return value)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(_FEEDS).all()
    finally:
        engine.dispose()
    account = FeedAccount()
    for url, stored, fetches, last_error in rows:
        if stored:
            account.stored += 1
        elif not fetches:
            account.not_polled.append(url)
        elif last_error is not None:
            account.failed += 1
        else:
            account.nothing_new += 1
    # A failure whose record the database refused is reported by the pass, not stored.
    failed_unrecorded = max(0, int(counts.get("feeds_failed", 0)) - account.failed)
    account.reported_unrecorded = int(counts.get("feeds_postponed", 0)) + failed_unrecorded
    if len(account.not_polled) > account.reported_unrecorded:
        # Which of them the pass meant cannot be told from the database: all are listed.
        account.unaccounted = list(account.not_polled)
    return account
