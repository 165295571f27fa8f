"""How the command line names Ctrl-C: its exit code and the exception it raises.

A module of its own so that ``cli.entry`` (which loads the app) and ``cli.server`` (which the
app registers) both use it without importing each other.
"""

from __future__ import annotations

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
