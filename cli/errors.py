"""One red line and exit code 2 for Vigie's own errors and the database's failures, never a
traceback: what every command wraps its work in (a bug in a query keeps its traceback)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from cli.terminal import err, error
from db.engine import failure_reason
from flows.settings import get_settings
from parsers.exceptions import VigieError


@contextmanager
def clear_errors() -> Iterator[None]:
    """Turn Vigie's own errors and the database's failures into one red line and exit code 2,
    never a traceback (a bug in a query keeps its traceback)."""
    try:
        yield
    except VigieError as exc:
        err.print(error(exc))
        raise typer.Exit(2) from exc
    except SQLAlchemyError as exc:
        reason = failure_reason(exc)
        if reason is None:
            raise
        err.print(error(f"database {database_shown()}: {reason}"))
        raise typer.Exit(2) from exc


def database_shown() -> str:
    """The database's URL, password hidden."""
    try:
        return make_url(get_settings().resolved_database_url).render_as_string(hide_password=True)
    except Exception:  # the URL is what failed: say which setting, not the URL
        return "(VIGIE_DATABASE_URL)"
