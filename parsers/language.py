"""Language of an article: the publisher's declaration when there is one, else a guess."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from array import array
from contextlib import suppress
from functools import cache
from pathlib import Path
from typing import Any

#: Languages the identifier may answer. Vigie reads English and French; the others are the
#: ones most often met in Canadian immigration coverage, listed so that a Spanish or Arabic
#: page is not forced into "en" or "fr".
CANDIDATE_LANGUAGES = ("en", "fr", "es", "pt", "it", "de", "ar", "zh")
#: Fewer letters than this and no guess is made: a headline fragment or a name ("Ottawa")
#: is not enough evidence.
MIN_LETTERS = 20
#: Below this probability the guess is dropped rather than reported.
MIN_CONFIDENCE = 0.6
# The identifier's answer settles within a few paragraphs; classifying more only costs time.
_SAMPLE_CHARS = 3000
_LETTER = re.compile(r"[^\W\d_]")
# Codes that say "no particular language" and so carry no declaration at all.
_NOT_A_LANGUAGE = frozenset({"und", "mul", "zxx", "mis"})


def detect_language(text: str, declared: str | None = None) -> str | None:
    """Primary language subtag of ``text`` (``"en"``, ``"fr"``, ...), or None when unsure.

    A valid ``declared`` tag (``<html lang>``, ``inLanguage``, ``Content-Language``) wins and
    is reduced to its primary subtag (``fr-CA`` -> ``fr``): publishers know their language
    better than a character model reading a short text. Otherwise py3langid guesses among
    ``CANDIDATE_LANGUAGES`` when there are at least ``MIN_LETTERS`` letters.
    """
    primary = primary_subtag(declared)
    if primary:
        return primary
    sample = text[:_SAMPLE_CHARS]
    if len(_LETTER.findall(sample)) < MIN_LETTERS:
        return None
    language, confidence = _identifier().classify(sample)
    return str(language) if confidence >= MIN_CONFIDENCE else None


def primary_subtag(tag: str | None) -> str | None:
    """``fr`` for ``fr-CA``, ``fr_CA`` or ``FR``; None for a missing or malformed tag."""
    if not tag:
        return None
    primary = tag.strip().replace("_", "-").split("-")[0].lower()
    valid = primary.isascii() and primary.isalpha() and 2 <= len(primary) <= 3
    return primary if valid and primary not in _NOT_A_LANGUAGE else None


def load_model() -> None:
    """Load the identifier's model now: a process that forks workers loads it once for all
    of them, which then share its memory instead of each loading its own."""
    _identifier()


@cache
def _identifier() -> Any:
    # Loading the model takes about half a second, so it happens once, on first use; even
    # the import (numpy) waits for it, since reading an OPML file only needs
    # ``primary_subtag``.
    cached = _cache_file()
    if cached is not None and cached.exists():
        with suppress(Exception):  # unreadable or of another layout: built anew below
            return _read_cached(cached)
    identifier = _from_package()
    if cached is not None:
        with suppress(OSError):  # a read-only cache only costs the next start its time
            _write_cached(identifier, cached)
    return identifier


def _from_package() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(CANDIDATE_LANGUAGES))
    # set_languages keeps the model of every language (28 MB), to restore it on request;
    # Vigie never asks, and the restricted copy is all it reads.
    identifier._full_model = (identifier.nb_ptc, identifier.nb_pc, identifier.nb_classes)
    return identifier


# The packaged model is an LZMA-compressed archive of every language (68 MB once
# decompressed): decompressing it is most of a load (0.46 CPU-s). The model restricted to
# ``CANDIDATE_LANGUAGES`` is kept uncompressed in a cache file (41 MB) and read back in a
# tenth of that, array for array, in the same types and memory layout, so every score is
# the same. Its name is a digest of what it is built from: the packaged model's bytes (5 ms
# to hash), py3langid's version, the candidates and this layout; installs of the same model
# share it, and another model or version builds a file of its own.
_CACHE_LAYOUT = 1


def _cache_file() -> Path | None:
    """Where this model, restricted to the candidates, is cached; None when no place is."""
    try:
        import py3langid
        from py3langid.langid import MODEL_DIR, MODEL_FILE

        digest = hashlib.sha256((Path(MODEL_DIR) / MODEL_FILE).read_bytes())
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    except (OSError, RuntimeError):  # no model file to read, or no home directory
        return None
    version = getattr(py3langid, "__version__", "")
    digest.update(f"|{version}|{CANDIDATE_LANGUAGES}|{_CACHE_LAYOUT}".encode())
    return Path(base) / "vigie" / f"langid-{digest.hexdigest()[:16]}.npz"


def _write_cached(identifier: Any, path: Path) -> None:
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed: a process reading it meanwhile sees the whole file or none.
    fd, aside = tempfile.mkstemp(dir=path.parent, suffix=".npz.part")
    try:
        with os.fdopen(fd, "wb") as out:
            np.savez(
                out,
                ptc=identifier.nb_ptc,
                pc=identifier.nb_pc,
                classes=np.array(identifier.nb_classes),
                nextmove=np.frombuffer(identifier.tk_nextmove, identifier.tk_nextmove.typecode),
                row=np.frombuffer(identifier.tk_row, identifier.tk_row.typecode),
                output=np.array(identifier.tk_output, dtype=np.int32),
            )
        os.replace(aside, path)
    finally:
        with suppress(FileNotFoundError):
            os.unlink(aside)


def _read_cached(path: Path) -> Any:
    import numpy as np
    from py3langid.langid import LanguageIdentifier

    # No pickles: a cache file can give arrays and nothing else.
    with np.load(path, allow_pickle=False) as data:
        # The walk over a text's bytes indexes these two one entry at a time, which a
        # stdlib array does faster than numpy; py3langid loads them so too.
        nextmove, row = data["nextmove"], data["row"]
        return LanguageIdentifier(
            data["ptc"],
            data["pc"],
            data["classes"].tolist(),
            _stdlib_array(nextmove),
            data["output"].tolist(),
            norm_probs=True,
            tk_row=_stdlib_array(row),
        )


def _stdlib_array(values: Any) -> array[int]:
    """A numpy array of unsigned integers as a stdlib array of the same item type."""
    copy = array(values.dtype.char)
    copy.frombytes(values.tobytes())
    return copy
