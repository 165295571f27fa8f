"""Alembic environment: the engine comes from ``db.migrate``, the metadata from ``db.models``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from db import cluster_models, models  # noqa: F401  (registers every table on the metadata)
from db.base import Base

target_metadata = Base.metadata


def run_migrations() -> None:
    engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite alters a table by copying it and dropping the original; with foreign
            # keys on, that drop would cascade into (or null out) every row that points at it.
            # The pragma only takes effect outside a transaction, hence before the begin.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        # render_as_batch lets ALTERs work on SQLite, which rebuilds tables to change them.
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                _check_foreign_keys(connection)
        connection.commit()
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")


def _check_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"migration left {len(broken)} dangling foreign keys: {broken[:3]}")


run_migrations()
