"""Alembic environment: the engine comes from ``db.migrate``, the metadata from ``db.models``."""

from __future__ import annotations

from alembic import context

from db import cluster_models, models  # noqa: F401  (registers every table on the metadata)
from db.base import Base

target_metadata = Base.metadata


def run_migrations() -> None:
    engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        # render_as_batch lets ALTERs work on SQLite, which rebuilds tables to change them.
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()
