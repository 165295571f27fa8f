"""One red line and exit code 2 for Vigie's own errors and the database's failures, never a
traceback: what every command wraps its work in (a bug in a query keeps its traceback).

SQLAlchemy and the settings load only when a failure needs them: ``vigie --help`` loads
neither, and before the database is opened there can be no database failure to name.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from cli.output import fail
from parsers.exceptions import VigieError


@contextmanager
def clear_errors() -> Iterator[None]:
    """Turn Vigie's own errors and the database's failures into one ``fail`` line and exit code
    2, never a traceback (a bug in a query keeps its traceback)."""
    try:
        yield
    except VigieError as exc:
        fail(exc)
    except Exception as exc:
        reason = _database_failure(exc)
        if reason is None:
            raise
        fail(f"database {_database_shown()}: {reason}")


def _database_failure(exc: Exception) -> str | None:
    """What the database's failure means for a person, or None for any other error."""
    if "sqlalchemy" not in sys.modules:
        return None  # no database was opened: SQLAlchemy loads with the first command using one
    from sqlalchemy.exc import SQLAlchemyError

    from db.engine import failure_reason

    return failure_reason(exc) if isinstance(exc, SQLAlchemyError) else None


def _database_shown() -> str:
    """The database's URL, password hidden."""
    from sqlalchemy.engine import make_url

    from flows.settings import get_settings

    try:
        return make_url(get_settings().resolved_database_url).render_as_string(hide_password=True)
    except Exception:  # the URL is what failed: say which setting, not the URL
        return "(VIGIE_DATABASE_URL)"
