"""The ``vigie`` executable: the command line, which Ctrl-C stops at any moment with code 130."""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType

#: The exit code shells report for a command stopped by Ctrl-C (128 + SIGINT).
INTERRUPTED = 130


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, or a SIGTERM that ``vigie serve`` treats like one.

    A subclass, not ``KeyboardInterrupt`` itself: when a bare ``KeyboardInterrupt`` passes
    through code that ``exec()`` runs from a string (as dataclasses and named tuples build
    their methods while modules are imported), CPython 3.11 remembers it and, even once it is
    caught, ends the process with SIGINT at exit: exit code -2 after a clean stop (seen in a CI
    run of ``vigie serve``). It only remembers that exact class.
    """


_interrupted = False


def main() -> None:
    """Run the command line; after Ctrl-C, exit with 130 whatever the interruption became."""
    signal.signal(signal.SIGINT, _on_ctrl_c)
    try:
        from flows.cli import app  # Prefect, SQLAlchemy and the rest: seconds on a cold start

        app(prog_name="vigie")
    except BaseException:
        # Libraries on the way up may wrap the interruption in an error of their own (pydantic
        # does, while Prefect reads its settings): none of that is news to the person who
        # pressed Ctrl-C.
        if _interrupted:
            sys.exit(INTERRUPTED)
        raise


def _on_ctrl_c(signum: int, frame: FrameType | None) -> None:
    global _interrupted
    _interrupted = True
    if _importing(frame):
        # A module being imported may catch the interruption and go on: Prefect's plugin
        # set-up logs it with a traceback, and the command then ran to its end (measured).
        # Stopping here is as safe as a crash, which loses nothing (the crash guarantee).
        sys.stdout.flush()  # what was printed so far stays printed
        sys.stderr.flush()
        os._exit(INTERRUPTED)
    raise Interrupted


def _importing(frame: FrameType | None) -> bool:
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False
