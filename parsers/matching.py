"""Finding the taxonomy's words in a text, in time linear in its length.

Every term of the taxonomy, with its generated inflections, and every context word of its
rules (``require_context``, ``exclude_context``, ``scope``, ``near``: the *cues*) go into one
Aho-Corasick automaton, built once per taxonomy. Each field (title, text) is folded the way
the terms are -- lower case, no accents, every non-alphanumeric character a space -- and the
automaton runs over it once. Term keys are stored as " term ", so a hit always sits on word
boundaries, and an apostrophe or hyphen is a boundary: "d'asile" holds "asile", "qu'Ottawa"
holds "ottawa", "Jolin-Barrette" equals "Jolin Barrette". A cue written ``immigra*`` is a
prefix, stored as " immigra".

That one pass yields every place each cue occurs, sorted. A context rule then asks whether one
of its cues lies in a stretch of text (the sentence, or N words either side), which is a binary
search: no rule ever reads the text again. (Searching the sentence again for every hit made a
long sentence of repeated ambiguous words quadratic: 8 CPU-s for 40 KB, 159 s for 160 KB.)

Folding keeps one character per character when it can (the fast, common case); when it cannot
("œ" -> "oe", a combining accent that vanishes) an offset map ties the folded text back to the
original, so ``text[m.start:m.end] == m.text`` always holds for a mention. Matching and every
context check work on folded offsets; only mentions are given original ones.
"""

from __future__ import annotations

import bisect
import codecs
import itertools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import NamedTuple

import ahocorasick

from parsers.taxonomy import Concept
from parsers.text import fold

#: Longest ``Mention.sentence``, in characters.
MAX_SENTENCE = 300


def _words(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


# --- Folding -----------------------------------------------------------------------------

_SPECIAL_LETTERS = {"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d", "ı": "i"}
_ASCII_FOLD = str.maketrans(
    {chr(i): chr(i).lower() if chr(i).isalnum() else " " for i in range(128)}
)
_RUN_CACHE: dict[str, str] = {}
_RUN_CACHE_LIMIT = 20_000
_FOLD_ERRORS = "vigie.tagging.fold"


@lru_cache(maxsize=8192)
def fold_char(ch: str) -> str:
    """How one character is compared with the taxonomy: folded, non-alphanumerics as a space.

    Invisible format characters (soft hyphen, zero-width space) vanish, so a word broken by
    one still matches.
    """
    if unicodedata.category(ch) == "Cf":
        return ""
    out = []
    for c in fold(ch):
        c = _SPECIAL_LETTERS.get(c, c)
        out.append(c if c.isalnum() else " ")
    return "".join(out)


def match_form(text: str) -> str:
    """``text`` folded character by character, as the automaton sees it."""
    return "".join(map(fold_char, text))


class _NeedsOffsetMap(Exception):
    """A character folds to zero, several or non-ASCII characters: take the slow path."""


def _fold_run(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: fold a run of non-ASCII characters, one ASCII char for each."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    run = error.object[error.start : error.end]
    folded = _RUN_CACHE.get(run)
    if folded is None:
        chars = [fold_char(ch) for ch in run]
        if not all(len(c) == 1 and c.isascii() for c in chars):
            raise _NeedsOffsetMap(run)
        folded = "".join(chars)
        if len(_RUN_CACHE) < _RUN_CACHE_LIMIT:
            _RUN_CACHE[run] = folded
    return folded, error.end


# The ASCII encoder copies runs of ASCII at C speed and calls the handler only for accented
# characters: about twice as fast as str.translate on French text (measured).
codecs.register_error(_FOLD_ERRORS, _fold_run)


def _fold_field(text: str) -> tuple[str, list[int] | None]:
    """Folded text and, when folding changed lengths, folded index -> original index."""
    try:
        return text.encode("ascii", _FOLD_ERRORS).decode("ascii").translate(_ASCII_FOLD), None
    except _NeedsOffsetMap:
        pass
    parts: list[str] = []
    offsets: list[int] = []
    for index, ch in enumerate(text):
        folded = fold_char(ch)
        parts.append(folded)
        offsets.extend([index] * len(folded))
    offsets.append(len(text))
    return "".join(parts), offsets


def _original_span(text: str, offsets: list[int], start: int, end: int) -> tuple[int, int]:
    stop = offsets[end - 1] + 1
    # Combining marks fold to nothing but belong to the letter before them.
    while stop < len(text) and unicodedata.combining(text[stop]):
        stop += 1
    return offsets[start], stop


# --- Surface forms: terms and their inflections ------------------------------------------

# Words that never inflect inside a term ("non" keeps "résidents non permanents" right).
_EN_FUNCTION = _words("a an and at by for from in into of on per the to with")
_FR_FUNCTION = _words("a au aux avec d dans de des du en et l la le les non par pour qu sur un une")
_VOWELS = frozenset("aeiouy")
#: Endings of a first-group French verb the tagger matches: participles, present, future and
#: conditional of the third person, and the noun ("intégration").
_FR_VERB_ENDINGS = _words("e ee es ees ent ant era eront erait eraient ation ations")


def _is_caps(term: str) -> bool:
    """Terms written in capitals (CAQ, U.S.) match only capitals, so "us" stays a pronoun."""
    return any(c.isalpha() for c in term) and not any(c.islower() for c in term)


def surface_forms(term: str, lang: str, inflect: bool) -> set[str]:
    """The folded forms of one term that the automaton looks for."""
    raw = match_form(term).strip()
    base = " ".join(raw.split())
    forms = {raw, base}
    if inflect and not _is_caps(term):
        words = base.split()
        forms |= _french_forms(words) if lang == "fr" else _english_forms(words)
    return {form for form in forms if form}


def _english_forms(words: list[str]) -> set[str]:
    """Plural of the last word (the head noun), verb forms of the first."""
    first, last = words[0], words[-1]
    if len(words) == 1:
        return _english_verb_forms(first) | _english_plurals(first)
    middle = words[1:-1]
    return {
        " ".join([f, *middle, lst])
        for f in _english_verb_forms(first)
        for lst in _english_plurals(last)
    }


def _english_plurals(word: str) -> set[str]:
    if len(word) < 3 or not word.isalpha() or word in _EN_FUNCTION:
        return {word}
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return {word, word + "es"}
    if word.endswith("y") and word[-2] not in _VOWELS:
        return {word, word[:-1] + "ies"}
    return {word, word + "s"}


def _english_verb_forms(word: str) -> set[str]:
    if len(word) < 3 or not word.isalpha() or word in _EN_FUNCTION:
        return {word}
    if word.endswith("ation"):
        stem = word[:-5]
        return {word, stem + "ate", stem + "ates", stem + "ated", stem + "ating"}
    if word.endswith("ate"):
        stem = word[:-3]
        return {word, word + "s", word + "d", stem + "ating", stem + "ation", stem + "ations"}
    if word.endswith("e"):
        return {word, word + "s", word + "d", word[:-1] + "ing"}
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return {word, word + "es", word + "ed", word + "ing"}  # slash -> slashes
    if len(word) <= 4 and word[-1] not in _VOWELS | {"w", "x"} and word[-2] in _VOWELS:
        return {word, word + "s", word + word[-1] + "ed", word + word[-1] + "ing"}
    return {word, word + "s", word + "ed", word + "ing"}


def _french_forms(words: list[str]) -> set[str]:
    """Agreement of the head group (words before the first preposition): number and gender."""
    head_len = next((i for i, w in enumerate(words) if w in _FR_FUNCTION), len(words))
    head, tail = words[:head_len], words[head_len:]
    forms = set()
    for plural in (False, True):
        for feminine in (False, True):
            choices = [_french_agreements(w, plural, feminine) for w in head]
            forms |= {" ".join([*combo, *tail]) for combo in itertools.product(*choices)}
    if len(words) == 1:
        forms |= _french_verb_forms(words[0])
    elif head_len == 1:
        # A verb and its object ("augmenter l'immigration"): the verb conjugates.
        forms |= {" ".join([verb, *tail]) for verb in _french_verb_forms(words[0])}
    return forms


def _french_agreements(word: str, plural: bool, feminine: bool) -> set[str]:
    if len(word) < 3 or not word.isalpha():
        return {word}
    genders = _french_feminines(word) if feminine else {word}
    return {_french_plural(w) for w in genders} if plural else genders


def _french_plural(word: str) -> str:
    if word.endswith(("s", "x", "z")):
        return word
    if word.endswith("al"):
        return word[:-2] + "aux"
    return word + ("x" if word.endswith(("eau", "eu")) else "s")


def _french_feminines(word: str) -> set[str]:
    """réfugié -> réfugiée, étranger -> étrangère, demandeur -> demandeuse (all folded).

    Folding removed the accent that tells "réfugié" (add an e) from "temporaire" (do not),
    so a word ending in "e" gets both. Words ending in another vowel ("renvoi", "visa") are
    left alone: "renvoie" is a different word.
    """
    for ending, feminine in (("eur", "euse"), ("er", "ere"), ("if", "ive"), ("en", "enne")):
        if word.endswith(ending):
            return {word[: -len(ending)] + feminine}
    if word.endswith("e") and not word.endswith("ee"):
        return {word, word + "e"}
    if word.endswith("ee") or word[-1] in "aiouy":
        return {word}
    return {word + "e"}


def _french_verb_forms(word: str) -> set[str]:
    """intégrer -> intégré(e)(s), intègrent, intégrera, intégration: verbs of the first
    group only."""
    if not word.endswith("er") or len(word) < 5:
        return set()
    stem = word[:-2]
    return {stem + ending for ending in _FR_VERB_ENDINGS}


#: What a term needs to count: nothing, ``require_context`` nearby, or a text that Canada
#: places otherwise (a name other countries use too). Lower is surer.
SURE, AMBIGUOUS, SHARED = 0, 1, 2


def _concept_terms(concept: Concept) -> Iterable[tuple[str, str, int]]:
    """(term, language, need) for every term of a concept; aliases have no language."""
    for term in concept.terms_en:
        yield term, "en", SURE
    for term in concept.terms_fr:
        yield term, "fr", SURE
    for term in concept.ambiguous_en:
        yield term, "en", AMBIGUOUS
    for term in concept.ambiguous_fr:
        yield term, "fr", AMBIGUOUS
    for term in concept.shared_en:
        yield term, "en", SHARED
    for term in concept.shared_fr:
        yield term, "fr", SHARED
    for term in concept.aliases:
        yield term, "", SURE


# --- The automaton -----------------------------------------------------------------------


# --- Cues: the context words of every rule ---------------------------------------------------


class Cues:
    """Every context word of a taxonomy, numbered; a rule becomes a tuple of cue numbers."""

    def __init__(self) -> None:
        #: (folded word or phrase, is a prefix) -> cue number.
        self.numbers: dict[tuple[str, bool], int] = {}

    def rule(self, words: Iterable[str]) -> tuple[int, ...]:
        """The cue numbers of a rule's words (``immigra*`` is a prefix)."""
        numbers = set()
        for word in words:
            prefix = word.endswith("*")
            folded = " ".join(match_form(word.rstrip("*")).split())
            if folded:
                numbers.add(self.numbers.setdefault((folded, prefix), len(self.numbers)))
        return tuple(sorted(numbers))


# --- The automaton -------------------------------------------------------------------------


class Entry(NamedTuple):
    """What one automaton key means for one concept."""

    #: Index of the concept in the taxonomy.
    concept: int
    #: Length of the folded form, without the spaces around it.
    length: int
    #: What the form needs to count: ``SURE`` (nothing), ``AMBIGUOUS`` (its
    #: ``require_context``) or ``SHARED`` (a text Canada places otherwise).
    ambiguous: int
    #: Whether the text must be in capitals there (the term was).
    case_sensitive: bool


#: A cue an automaton key stands for: (cue number, start offset, end offset), the offsets
#: taken back from the position where the automaton reports the key's last character.
CueKey = tuple[int, int, int]


def entries(concepts: Sequence[Concept]) -> dict[str, dict[int, Entry]]:
    """Automaton key -> entry per concept; a key listed twice needs the less of the two."""
    table: dict[str, dict[int, Entry]] = defaultdict(dict)
    for index, concept in enumerate(concepts):
        for term, lang, ambiguous in _concept_terms(concept):
            inflect = concept.inflect and bool(lang)
            for form in surface_forms(term, lang, inflect):
                new = Entry(index, len(form), ambiguous, _is_caps(term))
                old = table[form].get(index)
                if old is not None:
                    new = new._replace(
                        ambiguous=min(old.ambiguous, new.ambiguous),
                        case_sensitive=old.case_sensitive and new.case_sensitive,
                    )
                table[form][index] = new
    return table


def build_automaton(table: dict[str, dict[int, Entry]], cues: Cues) -> ahocorasick.Automaton:
    """One automaton for terms and cues; each key maps to (entries, cue or None)."""
    keys: dict[str, tuple[tuple[Entry, ...], CueKey | None]] = {
        f" {form} ": (tuple(by_concept.values()), None) for form, by_concept in table.items()
    }
    for (word, prefix), number in cues.numbers.items():
        # Padded text " a b ": a key " w " ends on the space after w, a prefix " w" on its
        # last letter; either way the word itself spans [end - len(w) - 1 + prefix, ...).
        key = f" {word}" if prefix else f" {word} "
        cue = (number, len(word) + 1 - prefix, 1 - prefix)
        keys[key] = (keys.get(key, ((), None))[0], cue)
    automaton = ahocorasick.Automaton()
    for key, value in keys.items():
        automaton.add_word(key, value)
    automaton.make_automaton()
    return automaton


# --- One field of an article ---------------------------------------------------------------

# A sentence ends at . ! ? … (plus closing quotes) and a space, and at the end of a line
# unless the next one goes on in lower case (a hard-wrapped sentence): a heading or a
# paragraph of extracted text has no full stop. A dot after an abbreviation or a single letter
# ("M. Legault", "U.S. border", "Dec. 7") does not end one. The pattern starts with a
# character class so the regex engine skips straight to candidates (measured 4x faster than
# a leading group).
_ABBREVIATIONS = _words(
    "mr mrs ms dr st ste mme mlle no gov sen inc ltd jr sr vs "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
)
_NOT_AFTER = "".join(rf"(?<!\b{a}\.)" for a in sorted(_ABBREVIATIONS)) + r"(?<!\b\w\.)"
_SENTENCE_BREAK = re.compile(
    rf"[.!?…\n](?:(?<=[.!?…]){_NOT_AFTER}[.!?…]*[\"'»”’)\]]*\s+"
    r"|(?<=\n)\s*(?-i:(?![a-zà-ÿ])))",
    re.IGNORECASE,
)
_BULLET = re.compile(r"[ \t]*[•·▪*–—-][ \t]")
_WORD = re.compile(r"[^ ]+")
#: Characters a word window reaches per word: generous, so that long words still fit.
_LONGEST_WORD = 24


class Spans(NamedTuple):
    """Where one rule's cues occur in a field (folded offsets), sorted by start."""

    starts: list[int]
    ends: list[int]

    def any_within(self, lo: int, hi: int) -> bool:
        """Whether a cue lies wholly inside ``[lo, hi)``.

        Only cues that straddle ``hi`` are skipped over, and no more of those exist than
        cue words overlap one another: a few, whatever the text.
        """
        starts, ends = self.starts, self.ends
        index = bisect.bisect_left(starts, lo)
        while index < len(starts) and starts[index] < hi:
            if ends[index] <= hi:
                return True
            index += 1
        return False

    def any_starting(self, lo: int, hi: int) -> bool:
        """Whether a cue starts inside ``[lo, hi)``, wherever it ends."""
        return bisect.bisect_left(self.starts, lo) < bisect.bisect_left(self.starts, hi)


_NO_SPANS = Spans([], [])


class Field:
    """One input string: its folded form, the cues found in it, sentences and words."""

    __slots__ = (
        "_fsentences",
        "_rule_spans",
        "_sentence_text",
        "_starts",
        "cue_hits",
        "folded",
        "index",
        "name",
        "offsets",
        "text",
    )

    def __init__(self, index: int, name: str, text: str) -> None:
        #: 0 for the title, 1 for the text.
        self.index = index
        self.name = name
        self.text = text
        self.folded, self.offsets = _fold_field(text)
        #: Cue number -> where it occurs (folded offsets, in text order); filled by the scan.
        self.cue_hits: dict[int, Spans] = {}
        self._starts: list[int] | None = None
        self._fsentences: list[int] | None = None
        self._rule_spans: dict[tuple[int, ...], Spans] = {}
        self._sentence_text: dict[int, str] = {}

    # Offsets: folded <-> original.

    def original(self, start: int, end: int) -> tuple[int, int]:
        """Original offsets of the folded span ``[start, end)``."""
        if self.offsets is None:
            return start, end
        return _original_span(self.text, self.offsets, start, end)

    def to_folded(self, pos: int) -> int:
        """Folded offset of original offset ``pos``."""
        if self.offsets is None:
            return pos
        return bisect.bisect_left(self.offsets, pos)

    # Sentences and words (folded offsets unless said).

    def sentence_starts(self) -> list[int]:
        """Where each sentence starts, as original offsets."""
        if self._starts is None:
            self._starts = [0, *(brk.end() for brk in _SENTENCE_BREAK.finditer(self.text))]
        return self._starts

    def _folded_starts(self) -> list[int]:
        if self._fsentences is None:
            starts = self.sentence_starts()
            self._fsentences = starts if self.offsets is None else list(map(self.to_folded, starts))
        return self._fsentences

    def sentence_index(self, fpos: int) -> int:
        """Which sentence (0 = the first) holds folded offset ``fpos``."""
        return bisect.bisect_right(self._fsentences or self._folded_starts(), fpos) - 1

    def sentence_bounds(self, fpos: int) -> tuple[int, int]:
        """Folded ``[start, end)`` of the sentence holding ``fpos``."""
        starts = self._fsentences or self._folded_starts()
        index = bisect.bisect_right(starts, fpos) - 1
        end = starts[index + 1] if index + 1 < len(starts) else len(self.folded)
        return starts[index], end

    def is_list_item(self, sentence: int) -> bool:
        """Whether sentence number ``sentence`` is a bulleted line."""
        return _BULLET.match(self.text, self.sentence_starts()[sentence]) is not None

    def words_between(self, start: int, end: int, limit: int) -> int:
        """Words wholly inside folded ``[start, end)``, counting no further than ``limit + 1``
        (so a far pair costs no more than a near one)."""
        reach = (limit + 1) * _LONGEST_WORD
        if end - start > reach:
            return limit + 1
        return len(self.folded[start:end].split())

    def words_back(self, pos: int, count: int) -> int:
        """Folded offset where the ``count``-th word before ``pos`` starts (or as far back as
        ``count`` words of generous length reach)."""
        lo = max(0, pos - (count + 1) * _LONGEST_WORD)
        starts = [word.start() for word in _WORD.finditer(self.folded, lo, pos)]
        if not count:
            return pos
        return starts[-count] if len(starts) >= count else lo

    def words_ahead(self, pos: int, count: int) -> int:
        """Folded offset just past the ``count``-th word after ``pos`` (the end at most)."""
        hi = min(len(self.folded), pos + (count + 1) * _LONGEST_WORD)
        for index, word in enumerate(_WORD.finditer(self.folded, pos, hi), 1):
            if index == count:
                return word.end()
        return hi

    def word_end(self, fpos: int) -> int:
        """Folded offset where the word holding ``fpos - 1`` ends (a prefix's whole word)."""
        space = self.folded.find(" ", fpos)
        return len(self.folded) if space < 0 else space

    def sentence(self, start: int, end: int) -> str:
        """The sentence around original ``[start, end)``, whitespace collapsed, at most
        ``MAX_SENTENCE`` characters (cut around the match when longer)."""
        starts = self.sentence_starts()
        index = bisect.bisect_right(starts, start) - 1
        lo = starts[index]
        hi = starts[index + 1] if index + 1 < len(starts) else len(self.text)
        if hi - lo > MAX_SENTENCE:
            lo = max(lo, min(start, (start + end - MAX_SENTENCE) // 2))
            hi = max(min(hi, lo + MAX_SENTENCE), end)
            return " ".join(self.text[lo:hi].split())
        if lo not in self._sentence_text:
            self._sentence_text[lo] = " ".join(self.text[lo:hi].split())
        return self._sentence_text[lo]

    # Cues.

    def spans(self, rule: tuple[int, ...]) -> Spans:
        """Where any cue of ``rule`` occurs, merged and sorted once per field."""
        found = self._rule_spans.get(rule)
        if found is None:
            hits = self.cue_hits
            present = [] if hits.keys().isdisjoint(rule) else [hits[c] for c in rule if c in hits]
            if not present:
                found = _NO_SPANS
            elif len(present) == 1:
                found = present[0]
            else:
                merged = sorted(itertools.chain(*(zip(*spans, strict=True) for spans in present)))
                found = Spans([s for s, _ in merged], [e for _, e in merged])
            self._rule_spans[rule] = found
        return found

    def context_near(self, rule: tuple[int, ...], window: int, start: int, end: int) -> bool:
        """Whether a cue of ``rule`` is near folded ``[start, end)``, never counting the
        match itself: within ``window`` words either side, or the same sentence (0)."""
        spans = self.spans(rule)
        if not spans.starts:
            return False
        lo, hi = self._context_bounds(window, start, end)
        return spans.any_within(lo, start) or spans.any_within(end, hi)

    def excluded_near(self, rule: tuple[int, ...], window: int, start: int, end: int) -> bool:
        """``context_near`` for another sense, which also shows in a phrase that starts before
        the match and runs into it: "lost control" before a match that begins at "control"."""
        spans = self.spans(rule)
        if not spans.starts:
            return False
        lo, hi = self._context_bounds(window, start, end)
        # A cue starting before the match, wholly before it or running into it.
        return spans.any_starting(lo, start) or spans.any_within(end, hi)

    def _context_bounds(self, window: int, start: int, end: int) -> tuple[int, int]:
        """Folded offsets ``window`` words around ``[start, end)``; its sentence when 0."""
        if window == 0:
            return self.sentence_bounds(start)
        return self.words_back(start, window), self.words_ahead(end, window)

    def in_scope(self, rule: tuple[int, ...], start: int) -> bool:
        """Whether the sentence holding folded offset ``start`` holds a cue of ``rule``."""
        spans = self.spans(rule)
        return bool(spans.starts) and spans.any_within(*self.sentence_bounds(start))
