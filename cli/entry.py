"""The ``vigie`` executable: the command line, which Ctrl-C stops at any moment with code 130."""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType

from cli.interrupt import INTERRUPTED, Interrupted

_interrupted = False


def main() -> None:
    """Run the command line; after Ctrl-C, exit with 130 whatever the interruption became."""
    signal.signal(signal.SIGINT, _on_ctrl_c)
    try:
        from cli.app import app  # Typer and Rich; each command loads what it uses when it runs

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
