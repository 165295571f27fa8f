"""Run Alembic migrations from code (``vigie init``, tests) without an alembic.ini."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from parsers.exceptions import StorageError
from parsers.inert import clean

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    """An Alembic config bound to ``engine`` (env.py reads it from ``attributes``)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision``; a database that cannot be reached says so plainly."""
    try:
        command.upgrade(alembic_config(engine), revision)
    except OperationalError as exc:
        reason = clean(exc.orig, None)  # psycopg adds a second, indented line
        raise StorageError(
            f"cannot migrate the database at {engine.url.render_as_string(hide_password=True)}: "
            f"{reason}"
        ) from exc
