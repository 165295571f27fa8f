"""Where a Vigie SQLite database's bytes go: per table, its indexes included, per article.

    python -m bench.store_size vigie.db

The file is copied and vacuumed first (free pages do not count), as ``bench/run.py`` counts
``bytes_per_article``; SQLite's ``dbstat`` table gives each table's and index's pages.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TableSize:
    """One table: its pages with those of its indexes (an FTS5 table's shadow tables too),
    and its rows."""

    name: str
    bytes: int
    rows: int


@dataclass(frozen=True)
class StoreSize:
    """A vacuumed database: its size, its articles, and each table's share."""

    file_bytes: int
    articles: int
    tables: tuple[TableSize, ...]

    @property
    def bytes_per_article(self) -> float | None:
        return self.file_bytes / self.articles if self.articles else None

    def as_dict(self) -> dict[str, object]:
        per = self.articles or 1
        return {
            "bytes_per_article": self.bytes_per_article,
            "bytes_per_article_by_table": {t.name: round(t.bytes / per) for t in self.tables},
            "rows_per_article_by_table": {t.name: round(t.rows / per, 2) for t in self.tables},
        }


def measure(db: Path) -> StoreSize:
    """The size of ``db`` once vacuumed, read from a vacuumed copy (``db`` is not changed)."""
    with tempfile.TemporaryDirectory(prefix="vigie-store-size-") as tmp:
        copy = Path(tmp) / "copy.db"
        source, target = sqlite3.connect(f"file:{db}?mode=ro", uri=True), sqlite3.connect(copy)
        try:
            source.backup(target)  # with what the write-ahead log holds
            target.execute("VACUUM")
        finally:
            source.close()
            target.close()  # the last connection folds the log into the file
        connection = sqlite3.connect(copy)
        try:
            return StoreSize(copy.stat().st_size, _articles(connection), _tables(connection))
        finally:
            connection.close()


def _articles(connection: sqlite3.Connection) -> int:
    return int(connection.execute("SELECT COUNT(*) FROM articles").fetchone()[0])


def _tables(connection: sqlite3.Connection) -> tuple[TableSize, ...]:
    schema = connection.execute("SELECT name, tbl_name, type, sql FROM sqlite_master").fetchall()
    owner = {name: table for name, table, _, _ in schema}
    virtual = [n for n, _, _, sql in schema if (sql or "").startswith("CREATE VIRTUAL TABLE")]
    for name in list(owner):  # FTS5 keeps its index in shadow tables named after it
        for table in virtual:
            if name.startswith(f"{table}_"):
                owner[name] = table
    pages: dict[str, int] = {}
    for name, size in connection.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"):
        table = owner.get(name, name)
        pages[table] = pages.get(table, 0) + int(size)
    # dbstat names the schema's own pages "sqlite_schema" (older SQLite: "sqlite_master").
    schema_pages = pages.pop("sqlite_schema", 0) + pages.pop("sqlite_master", 0)
    tables = [TableSize(table, size, _rows(connection, table)) for table, size in pages.items()]
    tables.append(TableSize("(schema)", schema_pages, len(schema)))
    return tuple(sorted(tables, key=lambda t: (-t.bytes, t.name)))


def _rows(connection: sqlite3.Connection, table: str) -> int:
    return int(connection.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Bytes per article of a Vigie SQLite file.")
    parser.add_argument("db", type=Path)
    args = parser.parse_args(argv)
    size = measure(args.db)
    per = size.articles or 1
    print(f"{size.articles} articles, {size.file_bytes:,} bytes vacuumed, ", end="")
    print(f"{size.bytes_per_article or 0:,.0f} bytes per article")
    print(f"{'table (with its indexes)':32} {'bytes/article':>14} {'rows/article':>13}")
    for table in size.tables:
        print(f"{table.name:32} {table.bytes / per:14,.0f} {table.rows / per:13.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
