"""Engine and session factory. The caller owns the transaction: ``with sessions.begin() as s``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from parsers.exceptions import ConfigError

# Seconds a SQLite writer waits for another writer's lock before giving up.
SQLITE_BUSY_TIMEOUT_S = 30


#: How people write PostgreSQL URLs without naming a driver.
_DRIVERLESS_POSTGRES = ("postgres://", "postgresql://")


def with_installed_driver(url: str) -> str:
    """``url``, a PostgreSQL one naming psycopg (3) when it names no driver.

    A PostgreSQL URL without a driver means SQLAlchemy's default, psycopg2, which Vigie does
    not install; people mean the driver Vigie does install.
    """
    for scheme in _DRIVERLESS_POSTGRES:
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url.removeprefix(scheme)
    return url


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get WAL, a busy timeout and foreign keys."""
    url = with_installed_driver(url)
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            return _sqlite_engine(url, parsed.database)
        return create_engine(url, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        reason = " ".join(str(exc).split())  # SQLAlchemy's message spans several lines
        raise ConfigError(f"VIGIE_DATABASE_URL is not a usable database URL: {reason}") from exc


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        # WAL lets readers (CLI, UI) work while a run writes; synchronous=NORMAL is safe in WAL.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cursor.close()

    return engine


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    """The one session factory; objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)
