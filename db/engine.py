"""Engine and session factory. The caller owns the transaction: ``with sessions.begin() as s``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    NoSuchModuleError,
    ProgrammingError,
    SQLAlchemyError,
)

from parsers.exceptions import ConfigError
from parsers.inert import clean

if TYPE_CHECKING:  # the ORM loads with the first session: the reading commands use none
    from sqlalchemy.orm import Session, sessionmaker

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
        reason = clean(exc, None)  # SQLAlchemy's message spans several lines
        raise ConfigError(f"VIGIE_DATABASE_URL is not a usable database URL: {reason}") from exc


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if database and database != ":memory:":
        folder = Path(database).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"cannot create {folder} for the SQLite database ({exc.strerror}); set "
                "VIGIE_DATA_DIR or VIGIE_DATABASE_URL to a place Vigie may write"
            ) from exc
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
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(engine, expire_on_commit=False)


_DAMAGED = (
    "the SQLite file is damaged or not a database: restore it from a backup, or set "
    "VIGIE_DATABASE_URL to another file"
)
_URL_OPTIONS = "check the options after ? in VIGIE_DATABASE_URL"
# What a database's own message says, and what to do about it; the first found applies.
_ADVICE = (
    ("file is not a database", _DAMAGED),
    ("malformed", _DAMAGED),
    ("readonly database", "the database file or its directory is read-only; Vigie must write "
     "both (the file, and its -wal and -shm files beside it)"),
    ("unable to open database file", "check that the directory exists and that Vigie may "
     "write in it (VIGIE_DATA_DIR)"),
    ("disk is full", "free some disk space"),
    ("invalid dsn", _URL_OPTIONS),
    ("invalid connection option", _URL_OPTIONS),
    ("invalid integer value", _URL_OPTIONS),
    ("connection refused", "is the database server running and reachable at that address?"),
    ("could not translate host name", "check the host name in VIGIE_DATABASE_URL"),
    ("timeout expired", "is the database server reachable at that address?"),
    ("password authentication failed", "check the user and password in VIGIE_DATABASE_URL"),
    ("does not exist", "check the database name in VIGIE_DATABASE_URL, or create it"),
)  # fmt: skip


def failure_reason(exc: SQLAlchemyError) -> str | None:
    """Why the database failed, as one line a person can act on, with advice when the
    database's message is one of the usual ones; None when ``exc`` is no failure of the
    database but a bug in a query (which keeps its traceback)."""
    if isinstance(exc, DBAPIError) and _no_schema(exc):
        # PostgreSQL's next lines quote the query: not for the user.
        return f"{str(exc.orig).strip().splitlines()[0]}; run `vigie init` to create Vigie's tables"
    if isinstance(exc, ProgrammingError) and exc.statement is not None:
        return None  # a query the database could not run: Vigie's bug, not its state
    message = str(exc.orig) if isinstance(exc, DBAPIError) else str(exc)
    reason = clean(message, None) or type(exc).__name__
    lowered = reason.lower()
    advice = next((advice for found, advice in _ADVICE if found in lowered), None)
    return f"{reason}; {advice}" if advice else reason


def _no_schema(exc: DBAPIError) -> bool:
    """The database has no Vigie tables yet (SQLite's message; PostgreSQL's undefined_table)."""
    return "no such table" in str(exc.orig) or getattr(exc.orig, "sqlstate", None) == "42P01"
