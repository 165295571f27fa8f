"""``bench.store_size`` on a real, migrated SQLite file: each table's bytes with its indexes
and its FTS5 shadow tables, adding up to the vacuumed file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bench.store_size import measure
from db import repo
from db.engine import make_engine, make_sessions
from db.intents import ArticleIntent
from db.migrate import upgrade
from parsers.tagging import TagResult
from parsers.text import content_hash

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _intent(n: int) -> ArticleIntent:
    title, text = f"Story {n}", f"Text number {n} about asylum seekers in Quebec. " * 20
    tags = TagResult(
        topics=(), actors=(), organisations=(), places=(), programmes=(), figures=(),
        mentions=(), score=0.0, relevant=False, taxonomy_version="t",
    )  # fmt: skip
    url = f"https://news.example/{n}"
    return ArticleIntent(
        canonical_url=url, url=url, title=title, text=text,
        content_hash=content_hash(title, text), language="en", published_at=NOW,
        source="news", site="news.example", origin="feed", tags=tags,
    )  # fmt: skip


def test_every_page_of_the_file_is_counted_once_under_its_table(tmp_path: Path) -> None:
    db = tmp_path / "vigie.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    with make_sessions(engine).begin() as session:
        repo.store_articles(session, [_intent(n) for n in range(40)], {}, NOW)
    engine.dispose()
    before = db.stat().st_size

    size = measure(db)

    by_name = {t.name: t for t in size.tables}
    assert size.articles == 40 and size.bytes_per_article == size.file_bytes / 40
    # The FTS5 index's shadow tables count under article_search, not apart.
    assert by_name["article_search"].rows == 40
    assert not any(name.startswith("article_search_") for name in by_name)
    assert by_name["article_versions"].rows == 40 and by_name["articles"].rows == 40
    # Each table at least one page, with its indexes, and every page counted once.
    assert all(t.bytes >= 4096 for t in size.tables)
    assert sum(t.bytes for t in size.tables) == size.file_bytes
    assert db.stat().st_size == before  # measured on a copy
    report = size.as_dict()
    assert report["rows_per_article_by_table"]["articles"] == 1.0  # type: ignore[index]
