"""The ``vigie`` executable: the command line, which Ctrl-C stops at any moment quietly."""

from __future__ import annotations

import sys

#: The exit code shells report for a command stopped by Ctrl-C (128 + SIGINT).
INTERRUPTED = 130


def main() -> None:
    """Run the command line."""
    try:
        # Loads Prefect, SQLAlchemy and the rest: seconds on a cold start, which is when
        # people press Ctrl-C after a typo. Once loaded, the command line handles Ctrl-C.
        from flows.cli import app
    except KeyboardInterrupt:
        sys.exit(INTERRUPTED)
    app(prog_name="vigie")
