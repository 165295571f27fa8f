"""What the worker processes' fork server loads before it forks them (``flows.cpu``).

Every worker reads languages with the same 75 MB model; loaded here, once, the workers share
its memory (copy-on-write) instead of each loading its own on the first text that declares
no language: a feed without a language declaration added that much to every worker.
"""

from __future__ import annotations

from parsers.language import load_model

load_model()
