"""What a Vigie database must look like after any run, crashed or concurrent: the checks.

Used by ``bench/chaos.py`` after every crash trial and by the guarantee tests:

- ``snapshot``: every row of the content tables, keyed by natural keys (URLs, guids, dedup
  keys) instead of ids, so that two databases (SQLite and PostgreSQL, crashed and not) can be
  compared, and so can one database before and after a run;
- ``duplicates``: ``GROUP BY … HAVING COUNT(*) > 1`` over what must be unique, including
  duplicates no unique constraint would catch (two articles with one text from one feed item);
- ``check``: the invariants a crash must never break (every article has a current version or
  a recorded reason, evidence complete for its taxonomy, alerts have subjects, the outbox
  drained, nothing a feed offered lost).
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from db.base import MENTION_FIELDS
from parsers.evidence import sentence_at
from parsers.tagging import Tagger
from parsers.urls import canonical_url

Row = tuple[Any, ...]
Snapshot = dict[str, list[Row]]

#: Columns a run moves by design even when nothing changed: when an article was last looked
#: at and when to look again. Every re-check and every re-parse of a feed sets them.
BOOKKEEPING = frozenset({"articles.last_checked_at", "articles.next_check_at"})

#: Alert columns that record how delivery went rather than what the alert says: a crash
#: costs an attempt, a takeover changes the note.
_DELIVERY_HISTORY = ("attempts", "last_error", "note", "delivered_channels")

# One query per table. Ids are replaced by natural keys; the first columns are the key.
_QUERIES: dict[str, str] = {
    "feeds": """
        SELECT f.url, f.name, f.language, f.enabled, f.health, f.consecutive_failures,
               f.last_error
        FROM feeds f""",
    "articles": """
        SELECT a.canonical_url, a.title, a.source, a.site, a.language, a.published_at,
               a.first_seen_at, a.last_checked_at, a.next_check_at, a.page_etag,
               a.page_last_modified, a.page_hash, a.suspect_reason, cv.n AS current_n
        FROM articles a LEFT JOIN article_versions cv ON cv.id = a.current_version_id""",
    "entries": """
        SELECT f.url AS feed_url, e.guid, a.canonical_url, e.url, e.first_seen_at
        FROM entries e JOIN feeds f ON f.id = e.feed_id JOIN articles a ON a.id = e.article_id""",
    "article_versions": """
        SELECT a.canonical_url, v.n, v.content_hash, v.title, v.text, v.origin,
               v.fallback_reason, v.fetched_at, v.change_kinds, v.relevance, v.relevant,
               v.topics, v.tag_note, v.taxonomy_version
        FROM article_versions v JOIN articles a ON a.id = v.article_id""",
    "mentions": """
        SELECT a.canonical_url, v.n, t.key, m.field, m.start, m."end", m.sentence_start,
               m.sentence_end, m.matched, m.sentence, m.value, m.unit, m.topic, m.scope
        FROM mentions m JOIN article_versions v ON v.id = m.version_id
        JOIN articles a ON a.id = v.article_id JOIN tags t ON t.id = m.tag_id""",
    "alerts": """
        SELECT al.dedup_key, al.kind, al.severity, a.canonical_url, f.url AS feed_url,
               al.payload, al.status, al.created_at, al.sent_at, al.attempts, al.last_error,
               al.note, al.delivered_channels, lead.dedup_key AS merged_into,
               dig.dedup_key AS digest
        FROM alerts al LEFT JOIN articles a ON a.id = al.article_id
        LEFT JOIN feeds f ON f.id = al.feed_id
        LEFT JOIN alerts lead ON lead.id = al.merged_into_id
        LEFT JOIN alerts dig ON dig.id = al.digest_id""",
    "tracked_figures": """
        SELECT tf.key, tf.value, tf.matched, tf.sentence, a.canonical_url, v.n, tf.updated_at
        FROM tracked_figures tf LEFT JOIN articles a ON a.id = tf.article_id
        LEFT JOIN article_versions v ON v.id = tf.version_id""",
    "figure_statements": """
        SELECT fs.key, a.canonical_url, v.n, fs.value, fs.matched, fs.sentence, fs.stated_at,
               fs.wrong_at
        FROM figure_statements fs JOIN articles a ON a.id = fs.article_id
        JOIN article_versions v ON v.id = fs.version_id""",
    "tags": "SELECT t.key, t.kind, t.label_en, t.label_fr FROM tags t",
    "raw_documents": """
        SELECT a.canonical_url, v.n, r.url, r.content_type, r.compressed
        FROM raw_documents r JOIN article_versions v ON v.id = r.version_id
        JOIN articles a ON a.id = v.article_id""",
}

# Alert payload keys that carry a clock reading (a feed's next check), not content.
_TIMED_PAYLOAD_KEYS = frozenset({"next_check_at"})


def snapshot(
    engine: Engine, *, timeless: bool = False, ignore: Iterable[str] = BOOKKEEPING
) -> Snapshot:
    """Every row of the content tables, sorted, ids replaced by natural keys.

    ``ignore`` names ``table.column``s left out. ``timeless`` also leaves out every clock
    reading and the alerts' delivery history, so that runs made at different times (a
    reference run and a crashed one, a sequential and a concurrent one) compare equal when
    they stored the same things.
    """
    ignored = frozenset(ignore)
    with engine.connect() as connection:
        names = _Names.read(connection)
        return {
            table: sorted(
                (
                    _normalise(table, names.rename(row), ignored, timeless)
                    for row in _rows(connection, query)
                ),
                key=repr,
            )
            for table, query in _QUERIES.items()
        }


# Ids inside alert dedup keys ("new_relevant_article:article:12"). PostgreSQL spends a sequence
# value on every INSERT … ON CONFLICT DO NOTHING, so ids differ between databases that store
# the same things: keys are compared with the article's or feed's URL in place of its id.
_ID_IN_KEY = re.compile(r"\b(article|feed):(\d+)")
_KEY_COLUMNS = ("dedup_key", "merged_into", "digest")


@dataclass(frozen=True)
class _Names:
    """Article and feed ids -> URLs, to name rows without ids."""

    articles: dict[int, str]
    feeds: dict[int, str]

    @classmethod
    def read(cls, connection: Connection) -> _Names:
        articles = connection.execute(text("SELECT id, canonical_url FROM articles"))
        feeds = connection.execute(text("SELECT id, url FROM feeds"))
        return cls(dict(articles.tuples().all()), dict(feeds.tuples().all()))

    def rename(self, row: dict[str, Any]) -> dict[str, Any]:
        for column in _KEY_COLUMNS:
            if isinstance(row.get(column), str):
                row[column] = _ID_IN_KEY.sub(self._url, row[column])
        return row

    def _url(self, match: re.Match[str]) -> str:
        kind, number = match.group(1), int(match.group(2))
        names = self.articles if kind == "article" else self.feeds
        return f"{kind}:{names.get(number, f'#{number}')}"


def _rows(connection: Connection, query: str) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in connection.execute(text(query))]


def _normalise(table: str, row: dict[str, Any], ignored: frozenset[str], timeless: bool) -> Row:
    values: list[Any] = []
    for column, value in row.items():
        if f"{table}.{column}" in ignored:
            continue
        if timeless and (isinstance(value, datetime) or _is_time_column(column)):
            continue
        if timeless and table == "alerts" and column in _DELIVERY_HISTORY:
            continue
        values.append((column, _plain(table, column, value, timeless)))
    return tuple(values)


def _is_time_column(column: str) -> bool:
    # SQLite returns the timestamps of raw SQL as strings; their names say what they are.
    return column.endswith("_at")


def _plain(table: str, column: str, value: Any, timeless: bool) -> Any:
    if column == "compressed" and isinstance(value, bytes | memoryview):
        return hashlib.sha256(zlib.decompress(bytes(value))).hexdigest()
    if column == "payload":
        payload = _json(value)
        if timeless and isinstance(payload, dict):
            payload = {k: v for k, v in payload.items() if k not in _TIMED_PAYLOAD_KEYS}
        payload = _without_ids(payload)
        return repr(sorted(payload.items())) if isinstance(payload, dict) else repr(payload)
    if column in ("delivered_channels",):
        return repr(_json(value))
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        return round(value, 9)
    return value


def _without_ids(value: Any) -> Any:
    """``value`` without the articles' ids it names (``also_covered_by``): ids follow the
    order in which concurrent passes stored the articles, which their URLs beside them do not."""
    if isinstance(value, dict):
        return {k: _without_ids(v) for k, v in value.items() if k != "article_id"}
    if isinstance(value, list):
        return [_without_ids(v) for v in value]
    return value


def _json(value: Any) -> Any:
    if isinstance(value, str):
        import json

        return json.loads(value)
    return value


# How many leading columns name a row, to pair a changed row's two states in ``diff``.
_KEY_WIDTH = {"entries": 2, "article_versions": 2, "raw_documents": 2, "mentions": 6}


def diff(before: Snapshot, after: Snapshot, limit: int = 5) -> list[str]:
    """Readable lines: per table, rows that changed (only the columns that did), rows gone
    and rows added."""
    lines: list[str] = []
    for table in sorted(set(before) | set(after)):
        old, new = Counter(before.get(table, [])), Counter(after.get(table, []))
        gone, added = list(old - new), list(new - old)
        if not gone and not added:
            continue
        lines.append(f"{table}: {len(gone)} rows only before, {len(added)} after")
        width = _KEY_WIDTH.get(table, 1)
        twins = {row[:width]: row for row in added}
        shown = 0
        for row in gone:
            twin = twins.pop(row[:width], None)
            if shown < limit:
                lines.append(_changed(row, twin, width) if twin else f"  - {row}"[:400])
                shown += 1
        lines += [f"  + {row}"[:400] for row in list(twins.values())[:limit]]
    return lines


def _changed(row: Row, twin: Row, width: int) -> str:
    key = ", ".join(str(value) for _column, value in row[:width])
    changes = [
        f"{column}: {value!r:.120} -> {other!r:.120}"
        for (column, value), (_same, other) in zip(row, twin, strict=False)
        if value != other
    ]
    return f"  ~ {key}: " + "; ".join(changes)


def counts(engine: Engine) -> dict[str, int]:
    """Rows per content table."""
    with engine.connect() as connection:
        return {
            table: int(connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())
            for table in (*_QUERIES, "fetches")
        }


# --- duplicates ----------------------------------------------------------------------------

#: What must be unique, as GROUP BY … HAVING COUNT(*) > 1 queries (and one join). The last
#: three are not enforced by any constraint: they are what a race between two runs, or feed
#: and page text versioned against each other, would leave behind.
DUPLICATE_QUERIES: dict[str, str] = {
    "articles by canonical URL": (
        "SELECT canonical_url FROM articles GROUP BY canonical_url HAVING COUNT(*) > 1"
    ),
    "entries by feed and guid": (
        "SELECT feed_id, guid FROM entries GROUP BY feed_id, guid HAVING COUNT(*) > 1"
    ),
    "versions by article and number": (
        "SELECT article_id, n FROM article_versions GROUP BY article_id, n HAVING COUNT(*) > 1"
    ),
    "mentions by version, tag, field and offset": (
        'SELECT version_id, tag_id, field, start, "end" FROM mentions '
        'GROUP BY version_id, tag_id, field, start, "end" HAVING COUNT(*) > 1'
    ),
    "alerts by dedup key": ("SELECT dedup_key FROM alerts GROUP BY dedup_key HAVING COUNT(*) > 1"),
    "new-article alerts by article": (
        "SELECT article_id FROM alerts WHERE kind = 'new_relevant_article' "
        "GROUP BY article_id HAVING COUNT(*) > 1"
    ),
    "tracked figures by key": "SELECT key FROM tracked_figures GROUP BY key HAVING COUNT(*) > 1",
    "figure statements of one version": (
        "SELECT version_id, key FROM figure_statements GROUP BY version_id, key HAVING COUNT(*) > 1"
    ),
    "articles of one feed item": (
        "SELECT e.feed_id, e.guid FROM entries e JOIN articles a ON a.id = e.article_id "
        "GROUP BY e.feed_id, e.guid HAVING COUNT(DISTINCT a.id) > 1"
    ),
    # A text may come back (a publisher reverting an edit, since migration 0005), but only
    # from the source that changed it: never the text it replaces, nor an older text brought
    # back by the page against the feed's edit, or the other way round.
    "versions repeating a text, not as a revert": (
        "SELECT v.article_id, v.n FROM article_versions v JOIN article_versions p "
        "ON p.article_id = v.article_id AND p.n = v.n - 1 "
        "WHERE p.content_hash = v.content_hash OR (p.origin <> v.origin AND EXISTS ("
        "SELECT 1 FROM article_versions e WHERE e.article_id = v.article_id "
        "AND e.n < v.n AND e.content_hash = v.content_hash))"
    ),
    "articles with one current text": (
        "SELECT v.content_hash FROM articles a JOIN article_versions v "
        "ON v.id = a.current_version_id GROUP BY v.content_hash, v.title "
        "HAVING COUNT(*) > 1 AND MIN(LENGTH(v.text)) > 400"
    ),
}


def duplicates(engine: Engine) -> dict[str, int]:
    """How many duplicate groups each uniqueness query finds (all zero when healthy)."""
    with engine.connect() as connection:
        return {
            name: len(connection.execute(text(query)).all())
            for name, query in DUPLICATE_QUERIES.items()
        }


# --- invariants after a crash --------------------------------------------------------------


@dataclass
class Expectations:
    """What the outside world knows, to check the database against."""

    #: (feed URL, guid, item URL) of every item the feeds served, in any state.
    served: set[tuple[str, str, str]] = field(default_factory=set)
    #: Webhook deliveries counted by Idempotency-Key; None when delivery is not checked.
    hits: Mapping[str, int] | None = None
    #: Dedup keys of alerts that were ``sending`` when the process died: each may have
    #: reached the receiver once before the crash and once after (the documented bound).
    in_flight: frozenset[str] = frozenset()
    #: Dedup keys of alerts already sent before this trial (their hits were not counted).
    sent_before: frozenset[str] = frozenset()


def check(engine: Engine, tagger: Tagger, expected: Expectations) -> list[str]:
    """Every invariant a crash or a race must not break; the problems found (empty: none)."""
    with engine.connect() as connection:
        problems = _articles_have_versions(connection)
        problems += _versions_numbered(connection)
        problems += _evidence_complete(connection, tagger)
        problems += _alerts_have_subjects(connection)
        problems += _nothing_lost(connection, expected.served)
        if expected.hits is not None:
            problems += _delivered_once(connection, expected)
    problems += [f"duplicate {name}: {n}" for name, n in duplicates(engine).items() if n]
    return problems


def _articles_have_versions(connection: Connection) -> list[str]:
    rows = connection.execute(
        text(
            "SELECT a.canonical_url FROM articles a LEFT JOIN article_versions v "
            "ON v.id = a.current_version_id AND v.article_id = a.id "
            "WHERE v.id IS NULL AND a.suspect_reason IS NULL"
        )
    ).all()
    return [f"article {url} has no current version and no recorded reason" for (url,) in rows]


def _versions_numbered(connection: Connection) -> list[str]:
    rows = connection.execute(
        text(
            "SELECT a.canonical_url, COUNT(v.id), MAX(v.n), MAX(CASE WHEN v.id = "
            "a.current_version_id THEN v.n END) FROM articles a JOIN article_versions v "
            "ON v.article_id = a.id GROUP BY a.id, a.canonical_url"
        )
    ).all()
    return [
        f"article {url}: versions {n} numbered up to {top}, current {current}"
        for url, n, top, current in rows
        if n != top or current is None
    ]


def _evidence_complete(connection: Connection, tagger: Tagger) -> list[str]:
    """Re-tag every version and compare with its stored mentions and relevance."""
    stored: dict[int, Counter[Row]] = {}
    for row in connection.execute(
        text(
            'SELECT m.version_id, t.key, m.field, m.start, m."end", m.matched, m.sentence, '
            "m.value, m.unit, m.topic, m.scope, m.sentence_start, m.sentence_end, v.title, "
            "v.text FROM mentions m JOIN tags t ON t.id = m.tag_id "
            "JOIN article_versions v ON v.id = m.version_id"
        )
    ):
        # The words and the sentence as the application reads them: from the offsets into
        # the version's own title or text, unless stored as text.
        key, code, start, end, matched, sentence = row[1:7]
        field = MENTION_FIELDS[code]  # stored as its code (db.base.FieldCode)
        source = row.title if field == "title" else row.text
        if matched is None:
            matched = source[start:end]
        if sentence is None:
            sentence = sentence_at(source, row.sentence_start or 0, row.sentence_end or 0)
        values = (key, field, start, end, matched, sentence, *row[7:11])
        stored.setdefault(row[0], Counter())[_mention_row(values)] += 1
    problems = []
    versions = connection.execute(
        text(
            "SELECT v.id, a.canonical_url, v.n, v.title, v.text, v.relevant, v.taxonomy_version "
            "FROM article_versions v JOIN articles a ON a.id = v.article_id"
        )
    ).all()
    for vid, url, n, title, body, relevant, taxonomy in versions:
        result = tagger.tag(title, body)
        if taxonomy != result.taxonomy_version:
            continue  # tagged under another taxonomy: re-tagging would not reproduce it
        expected = Counter(_found_row(m) for m in result.mentions)
        if expected != stored.get(vid, Counter()):
            missing = sum((expected - stored.get(vid, Counter())).values())
            extra = sum((stored.get(vid, Counter()) - expected).values())
            problems.append(f"version {url} v{n}: {missing} mentions missing, {extra} extra")
        if bool(relevant) != result.relevant:
            problems.append(f"version {url} v{n}: stored relevant={relevant}, re-tag says not")
    return problems


def _found_row(m: Any) -> Row:
    fields = (m.concept, m.field, m.start, m.end, m.text, m.sentence, m.value, m.unit, m.topic)
    return _mention_row((*fields, m.scope))


def _mention_row(values: Iterable[Any]) -> Row:
    return tuple(round(v, 6) if isinstance(v, float) else v for v in values)


# Alert kinds about an article, and about a feed: each must name one that exists.
_ARTICLE_KINDS = ("new_relevant_article", "article_edited", "figure_changed")
_FEED_KINDS = ("feed_broken", "feed_recovered")


def _alerts_have_subjects(connection: Connection) -> list[str]:
    article_kinds = ", ".join(f"'{k}'" for k in _ARTICLE_KINDS)
    feed_kinds = ", ".join(f"'{k}'" for k in _FEED_KINDS)
    rows = connection.execute(
        text(
            "SELECT al.dedup_key FROM alerts al LEFT JOIN articles a ON a.id = al.article_id "
            "LEFT JOIN feeds f ON f.id = al.feed_id WHERE "
            f"(al.kind IN ({article_kinds}) AND a.id IS NULL) OR "
            f"(al.kind IN ({feed_kinds}) AND f.id IS NULL)"
        )
    ).all()
    return [f"alert {key} has lost its subject" for (key,) in rows]


def _nothing_lost(connection: Connection, served: set[tuple[str, str, str]]) -> list[str]:
    entries = set(
        connection.execute(
            text("SELECT f.url, e.guid FROM entries e JOIN feeds f ON f.id = e.feed_id")
        ).tuples()
    )
    urls = set(connection.execute(text("SELECT canonical_url FROM articles")).scalars())
    return [
        f"item {guid} of {feed} ({url}) maps to no article"
        for feed, guid, url in sorted(served)
        if (feed, guid) not in entries and canonical_url(url) not in urls
    ]


def _delivered_once(connection: Connection, expected: Expectations) -> list[str]:
    assert expected.hits is not None
    statuses = {
        key: status
        for key, status in connection.execute(text("SELECT dedup_key, status FROM alerts"))
    }
    problems = [
        f"alert {key} is still {status} after a complete pass"
        for key, status in statuses.items()
        if status in ("pending", "sending")
    ]
    for key, status in statuses.items():
        hits = expected.hits.get(key, 0)
        allowed = 2 if key in expected.in_flight else 1
        if hits > allowed:
            problems.append(f"alert {key} reached the receiver {hits} times (allowed {allowed})")
        if status == "sent" and hits == 0 and key not in expected.sent_before:
            problems.append(f"alert {key} is marked sent but never reached the receiver")
    problems += [
        f"the receiver got {key}, which no alert has"
        for key in expected.hits
        if key not in statuses
    ]
    return problems
