"""Evidence stored as offsets: a mention's sentence as a span of the text it comes from.

The tagger gives each mention the sentence around it, whitespace collapsed
(``" ".join(text[lo:hi].split())``). Stored as that text, sentences were a third of the
database (the same sentence once per mention in it); stored as ``(lo, hi)`` into the
version's own title or text, they cost two integers. ``sentence_span`` finds the span, and
says None when none gives the sentence back exactly, so that the caller keeps the text.
"""

from __future__ import annotations

import re
from functools import lru_cache

#: Candidate starts tried before giving up (the same first word, further and further back).
_MAX_TRIES = 64


def sentence_at(text: str, lo: int, hi: int) -> str:
    """The sentence ``[lo, hi)`` of ``text`` as the tagger gives it: whitespace collapsed."""
    return " ".join(text[lo:hi].split())


def sentence_span(text: str, start: int, end: int, sentence: str) -> tuple[int, int] | None:
    """A span ``(lo, hi)`` of ``text`` holding ``[start, end)`` whose collapsed text is
    ``sentence``; None when there is none (the sentence is then stored as text)."""
    words = sentence.split(" ")
    if not sentence or "" in words or not 0 <= start <= end <= len(text):
        return None
    first = words[0]
    lo = text.rfind(first, 0, start + len(first))
    for _ in range(_MAX_TRIES):
        if lo < 0:
            return None
        hi = _end_of_words(text, lo, len(words))
        if hi is not None and hi >= end and sentence_at(text, lo, hi) == sentence:
            return lo, hi
        lo = text.rfind(first, 0, lo + len(first) - 1)
    return None


def _end_of_words(text: str, lo: int, count: int) -> int | None:
    """Where the ``count``-th whitespace-separated word from ``lo`` ends; None past the end."""
    found = _words_run(count).match(text, lo)
    return found.end() if found else None


@lru_cache(maxsize=256)
def _words_run(count: int) -> re.Pattern[str]:
    # ``count`` words as one pattern: matched in C, where a loop over the words was most of
    # storing an article's evidence. Greedy runs of \S separated by \s are whole words.
    return re.compile(rf"\s*\S+(?:\s+\S+){{{count - 1}}}")


def mention_words(text: str, start: int, end: int, stored: str | None) -> str:
    """The words a mention matched: ``stored`` when the offsets could not give them back,
    else ``[start, end)`` of the ``text`` they index (the version's title or text)."""
    return stored if stored is not None else text[start:end]


def mention_sentence(text: str, lo: int | None, hi: int | None, stored: str | None) -> str:
    """The sentence around a mention: ``stored`` when it was kept as text (or when there is no
    span), else the span ``[lo, hi)`` of ``text``, whitespace collapsed."""
    if stored is not None or lo is None:
        return stored or ""
    return sentence_at(text, lo, hi or 0)
