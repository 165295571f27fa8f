"""What the worker processes' fork server loads before it forks them (``flows.cpu``).

Every worker reads languages with the same 75 MB model; loaded here, once, the workers share
its memory (copy-on-write) instead of each loading its own on the first text that declares
no language.

The tagger of the first pool's taxonomy is built here too (``flows.cpu.preload_tagger``):
reading the taxonomy and compiling its automaton costs a worker 0.25 CPU-s, paid once here
rather than at each worker's start.
"""

from __future__ import annotations

from flows.cpu import preload_tagger
from parsers.language import load_model

load_model()
preload_tagger()
