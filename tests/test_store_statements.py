"""The store's cheaper statements write what SQLAlchemy's own did, on both databases.

ON CONFLICT DO NOTHING inserts are compiled once per statement shape, not at each execution;
evidence rows go in one DB-API ``executemany`` with each column's bind processing; a
sentence's span is found with one pattern over its words.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, bindparam, event, insert, select, text, update
from sqlalchemy.orm import Session

from db.base import core_table
from db.engine import make_sessions
from db.intents import ArticleIntent
from db.models import Article, ArticleVersion, Mention, Tag
from db.upsert import dialect_insert, dialect_name, execute_many, insert_many
from db.versions import version_row
from parsers.evidence import sentence_at, sentence_span
from parsers.tagging import TagResult


def _compiled_of_each_execution(engine: Engine) -> list[Any]:
    compiled: list[Any] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _note(_conn: Any, _cursor: Any, _sql: str, _params: Any, context: Any, _many: bool) -> None:
        if context.isinsert:
            compiled.append(context.compiled)

    return compiled


def _tag(key: str, label: str) -> dict[str, str]:
    return {"key": key, "kind": "topic", "label_en": label, "label_fr": label}


def test_an_insert_ignoring_conflicts_compiles_once_and_still_ignores_them(
    engine: Engine,
) -> None:
    compiled = _compiled_of_each_execution(engine)
    with make_sessions(engine).begin() as session:
        dialect = dialect_name(session)
        by_key = core_table(Tag).c.key

        def insert(target: list[str] | None, rows: list[dict[str, str]]) -> list[str]:
            statement = dialect_insert(dialect, Tag).on_conflict_do_nothing(index_elements=target)
            return list(session.scalars(statement.returning(by_key), rows))

        assert insert(["key"], [_tag("asylum", "Asylum"), _tag("asile", "Asile")]) == [
            "asylum",
            "asile",
        ]
        assert insert(["key"], [_tag("asylum", "Other"), _tag("visas", "Visas")]) == ["visas"]
        assert insert(None, [_tag("visas", "Again"), _tag("study", "Study")]) == ["study"]
        labels = dict(session.execute(select(Tag.key, Tag.label_en)).tuples().all())

    assert labels == {"asylum": "Asylum", "asile": "Asile", "visas": "Visas", "study": "Study"}
    first, second, untargeted = compiled
    assert first is second  # the same statement shape reused its compiled form
    assert untargeted is not first
    assert "ON CONFLICT (key) DO NOTHING" in str(first).replace('"', "")
    assert "ON CONFLICT DO NOTHING" in str(untargeted)


def test_an_upsert_still_updates_the_row_it_meets(engine: Engine) -> None:
    with make_sessions(engine).begin() as session:
        statement = dialect_insert(dialect_name(session), Tag)
        for label in ("Asylum", "Asile"):
            session.execute(
                statement.on_conflict_do_update(index_elements=["key"], set_={"label_en": label}),
                _tag("asylum", label),
            )
        assert session.scalar(select(Tag.label_en)) == "Asile"


def _version_with_tag(session: Session) -> tuple[int, int]:
    now = datetime.now(UTC)
    article = {
        "canonical_url": "https://example.org/a",
        "title": "A",
        "source": "Example",
        "site": "example.org",
        "first_seen_at": now,
    }
    article_id = session.scalar(insert(core_table(Article)).returning(Article.id), article)
    version = version_row(article_id or 0, 1, _intent(), "h", "new", now)
    version_id = session.scalar(
        insert(core_table(ArticleVersion)).returning(ArticleVersion.id), version
    )
    tag_id = session.scalar(insert(core_table(Tag)).returning(Tag.id), _tag("asylum", "Asylum"))
    assert version_id is not None and tag_id is not None
    return version_id, tag_id


def _intent() -> ArticleIntent:
    return ArticleIntent(
        canonical_url="https://example.org/a",
        url="https://example.org/a",
        title="A",
        text="Text",
        content_hash="h",
        language="en",
        published_at=None,
        source="Example",
        site="example.org",
        origin="feed",
        tags=TagResult(
            topics=(),
            actors=(),
            organisations=(),
            places=(),
            programmes=(),
            figures=(),
            mentions=(),
            score=0.0,
            relevant=False,
            taxonomy_version="test-1",
        ),
    )


def _mention(version_id: int, tag_id: int, field: str, start: int, **more: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "version_id": version_id,
        "tag_id": tag_id,
        "field": field,
        "start": start,
        "end": start + 4,
        "sentence_start": None,
        "sentence_end": None,
        "matched": None,
        "sentence": "A sentence.",
        "value": None,
        "unit": None,
        "topic": None,
        "scope": None,
    }
    return row | more


def test_rows_inserted_many_at_once_read_back_as_inserted_one_by_one(engine: Engine) -> None:
    with make_sessions(engine).begin() as session:
        version_id, tag_id = _version_with_tag(session)
        rows = [
            _mention(version_id, tag_id, "title", 0),
            _mention(version_id, tag_id, "text", 5, value=1200.5, unit="people", matched="x"),
            _mention(version_id, tag_id, "text", 9, sentence=None, sentence_start=2),
        ]
        insert_many(session, Mention, rows)
        insert_many(session, Mention, [])  # nothing to write: no statement
        stored = session.scalars(select(Mention).order_by(Mention.start)).all()
        codes = session.scalars(text("SELECT field FROM mentions ORDER BY start")).all()
        assert [(m.field, m.start, m.end) for m in stored] == [
            ("title", 0, 4),
            ("text", 5, 9),
            ("text", 9, 13),
        ]
        assert codes == [0, 1, 1]  # the column type's bind processing ran: codes, not names
        assert (stored[1].value, stored[1].unit, stored[1].matched) == (1200.5, "people", "x")
        assert (stored[2].sentence_start, stored[2].sentence_end) == (2, None)


def test_a_statement_run_many_times_binds_each_rows_values_as_the_session_would(
    engine: Engine,
) -> None:
    articles = core_table(Article)
    seen = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    add = insert(articles).values(title=bindparam("named"))
    rename = update(articles).where(articles.c.id == bindparam("key"))
    rename = rename.values(title=bindparam("new_title"), first_seen_at=bindparam("seen"))
    with make_sessions(engine).begin() as session:
        rows = [{"canonical_url": f"https://example.org/{n}", "named": f"T{n}", "source": "S",
                 "site": "example.org", "first_seen_at": seen} for n in (1, 2)]  # fmt: skip
        execute_many(session, add, rows)
        ids = session.scalars(select(Article.id).order_by(Article.id)).all()
        later = seen.replace(hour=10)
        execute_many(session, rename, [{"key": ids[1], "new_title": "Renamed", "seen": later}])
        execute_many(session, rename, [])  # nothing to write: no statement
        stored = session.execute(select(Article.title, Article.first_seen_at).order_by(Article.id))
        assert [(title, when.replace(tzinfo=UTC)) for title, when in stored] == [
            ("T1", seen),
            ("Renamed", later),
        ]
        with pytest.raises(ValueError, match="not a row's key"):  # a value the statement holds
            execute_many(session, rename.values(title="fixed"), [{"key": 1, "seen": later}])


@pytest.mark.parametrize(
    "text_",
    [
        "First one.  The  quota\trises to\u00a0500 this year. Next.",
        "The quota rises to 500 this year",
        "\n\nThe quota\n rises to 500 this year.\u2003And more.",
    ],
)
def test_a_sentence_span_is_found_across_any_whitespace(text_: str) -> None:
    start = text_.index("500")
    sentence = " ".join(text_[text_.index("The") :].split()[:6])
    span = sentence_span(text_, start, start + 3, sentence)
    assert span is not None
    assert sentence_at(text_, *span) == sentence
    assert span[0] <= start and start + 3 <= span[1]


def test_no_span_when_the_text_runs_out_of_words() -> None:
    text_ = "The quota rises to 500"
    assert sentence_span(text_, 19, 22, "The quota rises to 500 this year") is None
