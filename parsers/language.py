"""Language of an article: the publisher's declaration when there is one, else a guess."""

from __future__ import annotations

import re
from functools import cache
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
    of them, which then share its memory (75 MB) instead of each loading its own."""
    _identifier()


@cache
def _identifier() -> Any:
    # Loading the model takes about a second, so it happens once, on first use; even the
    # import (numpy) waits for it, since reading an OPML file only needs ``primary_subtag``.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(CANDIDATE_LANGUAGES))
    # set_languages keeps the model of every language (28 MB), to restore it on request;
    # Vigie never asks, and the restricted copy is all it reads.
    identifier._full_model = (identifier.nb_ptc, identifier.nb_pc, identifier.nb_classes)
    return identifier
