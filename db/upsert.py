"""Race-safe writes: insert a row unless a unique constraint says it exists already.

Two runs over the same feed converge on one row instead of failing or duplicating; the
outbox relies on it so that a re-run never alerts twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import cache, lru_cache
from typing import Any, cast

from sqlalchemy import ClauseElement, Dialect, Table, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import dml as postgresql_dml
from sqlalchemy.dialects.sqlite import dml as sqlite_dml
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

from db.base import Base, core_table
from db.base import dialect_name as dialect_name  # here for the write path; in base for reads
from db.models import Alert


def dialect_insert(dialect: str, model: type[Base]) -> Any:
    """An INSERT on ``model``'s Core table that can say ON CONFLICT in ``dialect``.

    The one place the dialect is chosen: PostgreSQL's insert, else SQLite's (the two
    databases Vigie runs on). The Core table, not the ORM class: the ORM's bulk-insert
    bookkeeping cost more than running the statement (measured on the cluster path).
    Its ``on_conflict_do_nothing`` is compiled once, not at each execution (see below).
    """
    statement_class = _PostgresqlInsert if dialect == "postgresql" else _SqliteInsert
    return statement_class(core_table(model))


# SQLAlchemy 2.0 gives the dialects' ON CONFLICT clauses no cache key, so a statement holding
# one was compiled again at every execution (articles, versions, entries, alerts, story
# members and passages: 13 compilations a feed of 50 new items). A DO NOTHING clause whose target is
# column names only is keyed by them (``_target``); any other clause (a constraint, a WHERE,
# DO UPDATE) keeps SQLAlchemy's behaviour, compiled each time. Only a class's own attributes
# count for its cache key, hence the repetition below.


_KEYED_BY_TARGET = [("_target", InternalTraversal.dp_plain_obj)]


class _SqliteDoNothing(sqlite_dml.OnConflictDoNothing):
    _target: tuple[str, ...]  # the conflict target's column names (empty: any)
    inherit_cache = False
    _cache_key_traversal = _KEYED_BY_TARGET


class _PostgresqlDoNothing(postgresql_dml.OnConflictDoNothing):
    _target: tuple[str, ...]
    inherit_cache = False
    _cache_key_traversal = _KEYED_BY_TARGET


class _SqliteDoUpdate(sqlite_dml.OnConflictDoUpdate):
    inherit_cache = False  # no key: compiled each time, as SQLAlchemy's own


class _PostgresqlDoUpdate(postgresql_dml.OnConflictDoUpdate):
    inherit_cache = False


def _keyed_target(clause: Any) -> tuple[str, ...] | None:
    """The conflict target as a tuple of column names, or None when it is not only that (a
    constraint, a WHERE)."""
    others = (getattr(clause, "constraint_target", None), clause.inferred_target_whereclause)
    if any(other is not None for other in others):
        return None
    index_elements = clause.inferred_target_elements
    if index_elements is None:
        return ()
    if not all(isinstance(name, str) for name in index_elements):
        return None
    return tuple(index_elements)


def _keyed_do_nothing(statement: Any, keyed_class: type[Any]) -> Any:
    """``statement`` with its DO NOTHING clause as ``keyed_class``, when its target is keyable."""
    target = _keyed_target(statement._post_values_clause)
    if target is not None:
        keyed = keyed_class(index_elements=list(target) or None)
        keyed._target = target
        statement._post_values_clause = keyed
    return statement


class _SqliteInsert(sqlite.Insert):
    """SQLite's INSERT whose ON CONFLICT DO NOTHING is compiled once (see above)."""

    inherit_cache = True  # Insert's key covers the ON CONFLICT clause (_post_values_clause)

    def on_conflict_do_nothing(self, *args: Any, **kwargs: Any) -> Any:
        statement = super().on_conflict_do_nothing(*args, **kwargs)
        return _keyed_do_nothing(statement, _SqliteDoNothing)

    def on_conflict_do_update(self, *args: Any, **kwargs: Any) -> Any:
        statement = super().on_conflict_do_update(*args, **kwargs)
        statement._post_values_clause = _SqliteDoUpdate(*args, **kwargs)
        return statement


class _PostgresqlInsert(postgresql.Insert):
    """PostgreSQL's INSERT whose ON CONFLICT DO NOTHING is compiled once (see above)."""

    inherit_cache = True  # Insert's key covers the ON CONFLICT clause (_post_values_clause)

    def on_conflict_do_nothing(self, *args: Any, **kwargs: Any) -> Any:
        statement = super().on_conflict_do_nothing(*args, **kwargs)
        return _keyed_do_nothing(statement, _PostgresqlDoNothing)

    def on_conflict_do_update(self, *args: Any, **kwargs: Any) -> Any:
        statement = super().on_conflict_do_update(*args, **kwargs)
        statement._post_values_clause = _PostgresqlDoUpdate(*args, **kwargs)
        return statement


def insert_many(session: Session, model: type[Base], rows: Sequence[Mapping[str, Any]]) -> None:
    """A plain INSERT of many rows, all with the same keys, as one DB-API ``executemany``.

    What ``session.execute(insert(table), rows)`` does, with SQLAlchemy's per-row work done
    once per column instead: it built each row's parameters anew (``construct_params``),
    which cost more than SQLite's own insert for the evidence rows (8 an article). Each
    value goes through its column type's bind processing, as there.
    """
    if not rows:
        return
    dialect = session.get_bind().dialect
    _execute_driver(session, _plain_insert(dialect, core_table(model), tuple(rows[0])), rows)


def execute_many(
    session: Session, statement: ClauseElement, rows: Sequence[Mapping[str, Any]]
) -> None:
    """``session.execute(statement, rows)`` for a statement that returns nothing and binds
    only the rows' keys (an UPDATE by id, an INSERT ... DO NOTHING), as ``insert_many`` runs
    an INSERT: one DB-API ``executemany``, each parameter's bind processing looked up once.

    ``statement`` is compiled once per dialect: pass one built once (a module constant).
    """
    if not rows:
        return
    dialect = session.get_bind().dialect
    _execute_driver(session, _driver_form(dialect, statement, tuple(rows[0])), rows)


#: A statement as the driver takes it: its SQL; each bound parameter with its type's bind
#: processor (None: the value goes as it is), in parameter order; whether that order is
#: positional.
_DriverForm = tuple[str, tuple[tuple[str, Callable[[Any], Any] | None], ...], bool]


def _execute_driver(session: Session, form: _DriverForm, rows: Sequence[Mapping[str, Any]]) -> None:
    sql, binds, positional = form
    values: list[Any]
    if positional:
        values = [tuple([row[k] if p is None else p(row[k]) for k, p in binds]) for row in rows]
    else:
        values = [{k: row[k] if p is None else p(row[k]) for k, p in binds} for row in rows]
    session.connection().exec_driver_sql(sql, values)


@lru_cache(maxsize=64)
def _plain_insert(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> _DriverForm:
    """The dialect's form of an INSERT of ``columns``."""
    compiled = insert(table).compile(dialect=dialect, column_keys=list(columns))
    keys = tuple(compiled.positiontup or ()) if compiled.positional else columns
    if sorted(keys) != sorted(columns):
        raise ValueError(f"an INSERT of {columns} binds {keys}")
    binds = tuple(
        (key, table.c[key].type.dialect_impl(dialect).bind_processor(dialect)) for key in keys
    )
    return compiled.string, binds, compiled.positional


@lru_cache(maxsize=64)
def _driver_form(dialect: Dialect, statement: ClauseElement, keys: tuple[str, ...]) -> _DriverForm:
    """The dialect's form of ``statement`` given rows of ``keys`` (an INSERT's columns are
    those it is given), each parameter processed as its type says."""
    compiled = cast(SQLCompiler, statement.compile(dialect=dialect, column_keys=list(keys)))
    names = tuple(compiled.positiontup or ()) if compiled.positional else tuple(compiled.binds)
    binds = []
    for name in names:
        bind = compiled.binds[name]
        if not bind.required or bind.callable is not None or name != bind.key:
            # A value the statement carries, or a name the compiler changed: not a row's key.
            raise ValueError(f"{name!r} of {compiled.string!r} is not a row's key")
        binds.append((name, bind.type.dialect_impl(dialect).bind_processor(dialect)))
    return compiled.string, tuple(binds), compiled.positional


def insert_ignore(
    session: Session,
    model: type[Base],
    values: Mapping[str, Any],
    conflict: Sequence[str] | None,
) -> int | None:
    """Insert a row unless it collides; the new id, or None when it existed.

    ``conflict`` names the unique columns that decide; None means any unique constraint.
    """
    statement = _insert_ignore_statement(
        dialect_name(session), model, tuple(conflict) if conflict else None
    )
    return session.execute(statement, dict(values)).scalar_one_or_none()


@cache
def _insert_ignore_statement(
    dialect: str, model: type[Base], conflict: tuple[str, ...] | None
) -> Any:
    # Built once, values bound per call: building the statement cost more than running it.
    statement = dialect_insert(dialect, model).on_conflict_do_nothing(
        index_elements=list(conflict) if conflict else None
    )
    return statement.returning(core_table(model).c.id)


def add_alert(
    session: Session,
    *,
    kind: str,
    dedup_key: str,
    payload: Mapping[str, Any],
    now: datetime,
    severity: str = "info",
    article_id: int | None = None,
    feed_id: int | None = None,
) -> int:
    """Write an alert to the outbox unless its key exists; 1 if written, else 0."""
    values = alert_row(
        kind=kind,
        dedup_key=dedup_key,
        payload=payload,
        now=now,
        severity=severity,
        article_id=article_id,
        feed_id=feed_id,
    )
    return int(insert_ignore(session, Alert, values, ["dedup_key"]) is not None)


def alert_row(
    *,
    kind: str,
    dedup_key: str,
    payload: Mapping[str, Any],
    now: datetime,
    severity: str = "info",
    article_id: int | None = None,
    feed_id: int | None = None,
) -> dict[str, Any]:
    """An outbox row, pending and due now."""
    return {
        "dedup_key": dedup_key,
        "kind": kind,
        "severity": severity,
        "article_id": article_id,
        "feed_id": feed_id,
        "payload": dict(payload),
        "status": "pending",
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": now,
    }
