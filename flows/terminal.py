"""Where the command line writes: one standard output and one error stream for every command."""

from __future__ import annotations

import sys

from rich.console import Console

#: Standard output. Outside a terminal (make run, pipes) Rich would draw tables 80 columns
#: wide and break their rows, so they are as wide as a log line can reasonably be. Lines of
#: text are never broken: one line per item, as scripts that grep them expect.
out = Console(highlight=False, width=None if sys.stdout.isatty() else 160, soft_wrap=True)
#: Errors, one line each however narrow the terminal, so that scripts can grep them.
err = Console(stderr=True, highlight=False, soft_wrap=True)


def to_minute(iso_time: str | None) -> str:
    """``2026-12-05 19:19`` for an ISO time (tables show times to the minute, in UTC)."""
    return iso_time[:16].replace("T", " ") if iso_time else ""
