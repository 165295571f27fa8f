"""The words Vigie indexes for full-text search: folded, lightly stemmed, in English and French.

Neither database stems French the way an analyst expects (SQLite's FTS5 has only an English
Porter stemmer; PostgreSQL's configurations stem one language at a time), and a bilingual
news stream mixes both in one article. So both databases index the same thing: the text as
this module turns it into terms, separated by spaces. Queries go through the same function,
which is why one query finds the same articles on SQLite and PostgreSQL.

A term is a word with its case and accents folded ("Québec" -> "quebec", "œuvre" ->
"oeuvre"), French elisions dropped ("d'asile" -> "asile", "l'IRCC" -> "ircc"), English
possessives dropped ("Canada's" -> "canada"), then cut by a light stemmer shared by both
languages (plurals, -ing/-ed, French -ée/-er and a final -e), so "demandeurs d'asile" and
"demandeur d'asile" give the same terms, as do "fermée", "fermer" and "fermé". Light on
purpose: an aggressive stemmer merges words that analysts keep apart (Porter makes
"immigration" and "immigrant" one term).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

#: Terms indexed per article. PostgreSQL's tsvector keeps positions up to 16,383 only, so
#: both databases index the same first words of very long texts.
MAX_TERMS = 10_000
#: Longer "words" (base64, run-together URLs) are not searchable anyway, and PostgreSQL
#: drops words of 2,048 bytes or more; both skip them.
MAX_TERM_CHARS = 60

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_APOSTROPHE = re.compile(r"['’]")
#: French elided articles and pronouns before an apostrophe: "l'", "d'", "qu'", ...
_ELISIONS = frozenset(
    {"l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu"}
)
#: After an apostrophe, English endings that carry no meaning to search for.
_CLITICS = frozenset({"s", "t", "ll", "re", "ve", "d", "m"})
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss"})


@dataclass(frozen=True)
class Token:
    """A word of a text as a search term, and where it was written."""

    term: str
    start: int
    end: int


def fold(word: str) -> str:
    """Lower case without accents or ligatures: "Québec" -> "quebec"."""
    decomposed = unicodedata.normalize("NFKD", word.translate(_LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def stem(term: str) -> str:
    """A folded word cut to its light stem, in English and French alike."""
    if len(term) > 3 and term[-1] == "s" and term[-2] != "s":
        term = term[:-1]  # plurals: demandeurs, claims (not: class)
    elif len(term) > 4 and term.endswith(("aux", "eux")):
        term = term[:-1]  # French plurals in -x: nouveaux, feux
    if len(term) > 5 and term.endswith("ing"):
        term = term[:-3]
    elif len(term) > 4 and term.endswith(("ed", "ee", "er")):
        term = term[:-2]  # closed, fermée, fermer
    if len(term) > 4 and term[-1] == "e":
        term = term[:-1]  # close, fermé's stem, française
    return term


def tokens(text: str) -> Iterator[Token]:
    """The search terms of ``text`` with their offsets, in order (at most ``MAX_TERMS``)."""
    count = 0
    for match in _WORD.finditer(text):
        offset = match.start()
        for term, start, end in _word_terms(match.group()):
            yield Token(term, offset + start, offset + end)
            count += 1
            if count >= MAX_TERMS:
                return


def terms(text: str) -> list[str]:
    """The search terms of ``text``, in order: ``tokens`` without their offsets, faster."""
    found = [term for word in _WORD.findall(text) for term, _, _ in _word_terms(word)]
    return found[:MAX_TERMS]


@lru_cache(maxsize=200_000)
def _word_terms(word: str) -> tuple[tuple[str, int, int], ...]:
    """A word's terms with their offsets in it: "d'asile" is "asil", "Canada's" is "canada",
    "aujourd'hui" is two. Cached: news vocabulary repeats, and this is most of indexing."""
    pieces = _APOSTROPHE.split(word)
    found = []
    position = 0
    for index, piece in enumerate(pieces):
        folded = fold(piece)
        last = index == len(pieces) - 1
        elided = not last and len(pieces) > 1 and folded in _ELISIONS
        clitic = index > 0 and folded in _CLITICS
        if folded and not elided and not clitic and len(folded) <= MAX_TERM_CHARS:
            found.append((stem(folded), position, position + len(piece)))
        position += len(piece) + 1
    return tuple(found)


def index_text(title: str, text: str) -> str:
    """What both databases index for an article: its title's terms, then its text's."""
    return " ".join(terms(f"{title}\n{text}"))


@dataclass(frozen=True)
class Passage:
    """A short stretch of a text around the words a query matched."""

    text: str
    #: (start, end) of each matched word within ``text``.
    highlights: tuple[tuple[int, int], ...]


def passage(text: str, wanted: frozenset[str], words: int = 30) -> Passage:
    """The ``words``-word stretch of ``text`` holding the most of ``wanted`` terms (the
    earliest of equals), cut at word boundaries, with those terms' places; the text's
    opening when none is there."""
    found = list(tokens(text))
    if not found:
        return Passage(" ".join(text.split()[:words]), ())
    best, best_score = 0, -1
    for first in range(max(len(found) - words, 0) + 1):
        window = found[first : first + words]
        distinct = {t.term for t in window if t.term in wanted}
        score = len(distinct) * 1000 + sum(t.term in wanted for t in window)
        if score > best_score:
            best, best_score = first, score
        if len(distinct) == len(wanted):
            break  # nothing later can have more of them; the earliest reads best
    window = found[best : best + words]
    start, end = window[0].start, window[-1].end
    marks = tuple(
        (t.start - start, t.end - start) for t in window if t.term in wanted and t.start >= start
    )
    return _flattened(text[start:end], marks, prefix=best > 0, suffix=end < len(text.rstrip()))


def _flattened(
    text: str, marks: tuple[tuple[int, int], ...], *, prefix: bool, suffix: bool
) -> Passage:
    """One line: whitespace runs become one space, highlight offsets moved to match."""
    out: list[str] = ["…"] if prefix else []
    shift: list[int] = []  # new offset of each old offset
    length = len(out[0]) if out else 0
    previous_space = False
    for char in text:
        shift.append(length)
        if char.isspace():
            if previous_space:
                continue
            char, previous_space = " ", True
        else:
            previous_space = False
        out.append(char)
        length += 1
    shift.append(length)
    if suffix:
        out.append("…")
    return Passage("".join(out), tuple((shift[a], shift[b]) for a, b in marks))
