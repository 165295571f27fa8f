"""Run Alembic migrations from code (``vigie init``, tests) without an alembic.ini."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, OperationalError

from parsers.exceptions import StorageError
from parsers.inert import clean

if TYPE_CHECKING:  # Alembic (and Mako) are imported only when a migration may run
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: The newest revision in ``migrations/versions`` (``test_db`` checks it is Alembic's head):
#: a database stamped with it needs no migration, which ``upgrade_if_behind`` tells without
#: loading Alembic.
HEAD_REVISION = "0016"


def alembic_config(engine: Engine) -> Config:
    """An Alembic config bound to ``engine`` (env.py reads it from ``attributes``)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision``; a database that cannot be reached says so plainly."""
    from alembic import command

    try:
        command.upgrade(alembic_config(engine), revision)
    except OperationalError as exc:
        raise _unreachable(engine, exc) from exc


def upgrade_if_behind(engine: Engine) -> None:
    """``upgrade`` to the head, unless the database is there already.

    A process that runs one pass (``vigie monitor``) or one command checks the schema at
    its start: Alembic's upgrade, even with nothing to do, imports Alembic and Mako, reads
    every migration script and, on SQLite, checks every foreign key of the database (0.08-0.10
    CPU-s on an empty one, more as it grows). One query of the stamped revision says the same
    when it is the head; anything else (no stamp, an older one, an unknown newer one) goes
    to Alembic as before, which migrates or says what is wrong.
    """
    if _stamped_revisions(engine) != [HEAD_REVISION]:
        upgrade(engine)


def _stamped_revisions(engine: Engine) -> list[str] | None:
    """The revisions in ``alembic_version``; None when there is no such table yet."""
    try:
        connection = engine.connect()
    except OperationalError as exc:
        raise _unreachable(engine, exc) from exc
    with connection:
        try:
            rows = connection.execute(text("SELECT version_num FROM alembic_version"))
            return [str(revision) for revision in rows.scalars()]
        except DBAPIError:  # a new database: no table (SQLite and PostgreSQL say so alike)
            return None


def _unreachable(engine: Engine, exc: OperationalError) -> StorageError:
    reason = clean(exc.orig, None)  # psycopg adds a second, indented line
    return StorageError(
        f"cannot migrate the database at {engine.url.render_as_string(hide_password=True)}: "
        f"{reason}"
    )
