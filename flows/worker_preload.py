"""What the worker processes' fork server loads before it forks them (``flows.cpu``).

Every worker reads languages with the same model; loaded here, once, the workers share its
memory (copy-on-write) instead of each loading its own on the first text that declares no
language. It is read from its uncompressed cache (``parsers.language``) in 0.06 CPU-s; only
the first start on a machine decompresses the packaged model (0.4-0.5 s) and writes it.

The tagger of the first pool's taxonomy is built here too (``flows.cpu.preload_tagger``):
reading the taxonomy and compiling its automaton costs a worker 0.25 CPU-s, paid once here
rather than at each worker's start.
"""

from __future__ import annotations

from flows.cpu import preload_tagger
from parsers.language import load_model

load_model()
preload_tagger()
