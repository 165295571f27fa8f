"""Bilingual (EN/FR) immigration-policy tagging of one article: topics, programmes, actors,
organisations, places and figures, each mention with offsets into the original text.

Matching
--------
Every term of the taxonomy, with its generated inflections, goes into one Aho-Corasick
automaton, built once per ``Tagger``. Each field (title, text) is folded the way the terms
are -- lower case, no accents, every non-alphanumeric character a space -- and the automaton
runs over it once. Keys are stored as " term ", so a hit always sits on word boundaries, and
an apostrophe or hyphen is a boundary: "d'asile" holds "asile", "qu'Ottawa" holds "ottawa",
"Jolin-Barrette" equals "Jolin Barrette". Folding keeps one character per character when it
can (the fast, common case); when it cannot ("œ" -> "oe", a combining accent that vanishes)
an offset map ties the folded text back to the original, so ``field[m.start:m.end] == m.text``
always holds.

Each hit is then checked: a term written in capitals needs capitals in the text;
``exclude_context`` cancels; an ambiguous term needs ``require_context``, or an unambiguous
mention of the same concept elsewhere in the article (one sense per discourse). Overlapping
names resolve leftmost-longest ("Québec solidaire" is QS, not the province); a topic term
inside a name is part of the name; topic terms compete only within their topic (see
``_without_overlaps``). Topics come from topic terms and from programmes (a programme tags the
topics it lists). Figures come from ``parsers.figures`` and never add a topic: a figure's
topic is kept only when the article has that topic.

Relevance
---------
``score = T * G``, and the article is relevant when ``score >= relevance_threshold`` (0.4):

* ``T = 1 - 0.4 ** p`` is topic evidence. ``p`` sums, over topics, ``min(3, points)``: each
  topic-term or programme mention is worth 2 points in the title and 1 in the text. One
  mention in the text gives T = 0.6, two 0.84, three 0.94. No topic, no relevance.
* ``G = (C + 0.5) / (C + F + 1)`` is geography. ``C`` sums the anchor weights of the distinct
  Canadian/Quebec concepts named (programme 2, actor, organisation and place 1); ``F`` sums
  the weights of distinct foreign ones (US places and agencies 1, US presidents less).

So a topic plus one Canadian anchor is relevant (0.6 * 0.75 = 0.45); a topic with no anchor
at all needs p >= 2, strong topic evidence (0.84 * 0.5 = 0.42); and a story whose places are
mostly American is never relevant, whatever its topics: with F >= 1.5 C + 0.25, G <= 0.4.
"""

from __future__ import annotations

import bisect
import codecs
import itertools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import ahocorasick

from parsers.figures import find_figures
from parsers.taxonomy import Concept, ContextRule, Taxonomy
from parsers.text import fold

#: Score at or above which an article is relevant; see the module docstring.
DEFAULT_RELEVANCE_THRESHOLD = 0.4
#: Longest ``Mention.sentence``, in characters.
MAX_SENTENCE = 300
#: Topic points one topic can contribute to ``p``, so one repeated term cannot dominate.
_TOPIC_POINTS_CAP = 3
_FIELD_WEIGHT = {"title": 2, "text": 1}


@dataclass(frozen=True)
class Mention:
    """One place in the title or text where a concept or a figure occurs."""

    #: Concept key, e.g. "asylum_refugees", "legault", "peq"; "figure" for figures.
    concept: str
    #: topic | programme | actor | organisation | place | figure
    kind: str
    #: "title" or "text": which input string the offsets index.
    field: str
    #: Offset of the first character in the original field string.
    start: int
    #: Offset just past the match: ``field_str[start:end] == text``.
    end: int
    #: The matched text exactly as in the input.
    text: str
    #: The sentence around the match, whitespace collapsed, at most ``MAX_SENTENCE`` chars.
    sentence: str
    #: Figures only: the number, multipliers applied (midpoint of a range).
    value: float | None = None
    #: Figures only: "people", "percent", "CAD", ...
    unit: str | None = None
    #: Topic this mention supports: the topic itself, a programme's first topic, or the
    #: topic a figure argues.
    topic: str | None = None
    #: Figures only: "per_year" for yearly rates, else None.
    scope: str | None = None


def _new_mention(
    concept: str,
    kind: str,
    field: str,
    start: int,
    end: int,
    text: str,
    sentence: str,
    value: float | None,
    unit: str | None,
    topic: str | None,
    scope: str | None,
) -> Mention:
    """``Mention(...)``, built without the frozen-dataclass ``__init__``.

    That ``__init__`` sets each of the eleven fields through ``object.__setattr__``: 4 us per
    mention here, a sixth of the tagging time (measured). Filling the new instance's dict
    directly takes 1.5 us and gives the same, still frozen, object.
    """
    mention = object.__new__(Mention)
    mention.__dict__.update(
        concept=concept,
        kind=kind,
        field=field,
        start=start,
        end=end,
        text=text,
        sentence=sentence,
        value=value,
        unit=unit,
        topic=topic,
        scope=scope,
    )
    return mention


@dataclass(frozen=True)
class TagResult:
    """Everything the tagger found in one article."""

    #: Topic keys, sorted.
    topics: tuple[str, ...]
    #: Keys of the actors named, sorted.
    actors: tuple[str, ...]
    #: Keys of the organisations named, sorted.
    organisations: tuple[str, ...]
    #: Keys of the places named (Canadian and foreign), sorted.
    places: tuple[str, ...]
    #: Keys of the programmes, agreements and laws named, sorted.
    programmes: tuple[str, ...]
    #: Figure mentions (kind "figure"), in order.
    figures: tuple[Mention, ...]
    #: All mentions, figures included, ordered by (field, start).
    mentions: tuple[Mention, ...]
    #: Relevance score in [0, 1]; the formula is in the module docstring.
    score: float
    #: ``score >= relevance_threshold``.
    relevant: bool
    #: Version of the taxonomy that produced this result.
    taxonomy_version: str


@dataclass(frozen=True)
class FigureChange:
    """A tracked figure whose value differs between two versions of an article."""

    #: Topic the figure argues, e.g. "immigration_levels".
    topic: str
    #: Unit shared by both values: "people", "percent", "CAD", ...
    unit: str
    #: Scope shared by both values: "per_year" or None.
    scope: str | None
    #: Value in the old version.
    old_value: float
    #: Value in the new version.
    new_value: float
    #: The old figure as written.
    old_text: str
    #: The new figure as written.
    new_text: str
    #: The sentence of the new figure.
    sentence: str


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
    """intégrer -> intégré(e)(s), intègrent, intégration: verbs of the first group only."""
    if not word.endswith("er") or len(word) < 5:
        return set()
    stem = word[:-2]
    endings = ("e", "ee", "es", "ees", "ent", "ant", "ation", "ations")
    return {stem + ending for ending in endings}


def _concept_terms(concept: Concept) -> Iterable[tuple[str, str, bool]]:
    """(term, language, ambiguous) for every term of a concept; aliases have no language."""
    for term in concept.terms_en:
        yield term, "en", False
    for term in concept.terms_fr:
        yield term, "fr", False
    for term in concept.ambiguous_en:
        yield term, "en", True
    for term in concept.ambiguous_fr:
        yield term, "fr", True
    for term in concept.aliases:
        yield term, "", False


# --- The automaton -----------------------------------------------------------------------


class _Entry(NamedTuple):
    """What one automaton key means for one concept."""

    #: Index of the concept in the taxonomy.
    concept: int
    #: Length of the folded form, without the spaces around it.
    length: int
    #: Whether the form needs ``require_context``.
    ambiguous: bool
    #: Whether the text must be in capitals there (the term was).
    case_sensitive: bool


class _Hit(NamedTuple):
    """A term found in a field, before disambiguation."""

    #: 0 for the title, 1 for the text.
    field: int
    #: Offset of the match in the original field string.
    start: int
    #: Offset just past the match.
    end: int
    #: Index of the concept in the taxonomy.
    concept: int
    #: Whether the term needs context to count.
    ambiguous: bool


def _entries(concepts: Sequence[Concept]) -> dict[str, dict[int, _Entry]]:
    """Automaton key -> entry per concept; a key both ambiguous and not counts as sure."""
    table: dict[str, dict[int, _Entry]] = defaultdict(dict)
    for index, concept in enumerate(concepts):
        for term, lang, ambiguous in _concept_terms(concept):
            inflect = concept.inflect and bool(lang)
            for form in surface_forms(term, lang, inflect):
                new = _Entry(index, len(form), ambiguous, _is_caps(term))
                old = table[form].get(index)
                if old is not None:
                    new = new._replace(
                        ambiguous=old.ambiguous and new.ambiguous,
                        case_sensitive=old.case_sensitive and new.case_sensitive,
                    )
                table[form][index] = new
    return table


def _build_automaton(table: dict[str, dict[int, _Entry]]) -> ahocorasick.Automaton:
    automaton = ahocorasick.Automaton()
    for form, by_concept in table.items():
        automaton.add_word(f" {form} ", tuple(by_concept.values()))
    automaton.make_automaton()
    return automaton


@dataclass(frozen=True)
class _Rule:
    """A context rule compiled to one regex over folded words (``immigra*`` is a prefix)."""

    #: Matches any of the rule's words or phrases in folded text.
    pattern: re.Pattern[str]
    #: Words either side to look at; 0 means the whole sentence.
    window: int

    @classmethod
    def compile(cls, rule: ContextRule | None) -> _Rule | None:
        if rule is None:
            return None
        phrases: list[str] = []
        prefixes: list[str] = []
        for word in rule.words:
            folded = re.escape(" ".join(match_form(word.rstrip("*")).split()))
            (prefixes if word.endswith("*") else phrases).append(folded)
        alternatives = []
        if phrases:
            alternatives.append(rf"\b(?:{'|'.join(phrases)})\b")
        if prefixes:
            alternatives.append(rf"\b(?:{'|'.join(prefixes)})")
        return cls(re.compile("|".join(alternatives)), rule.window)

    def found_in(self, folded: str) -> bool:
        return self.pattern.search(folded) is not None


# --- Per-field helpers -------------------------------------------------------------------

# A sentence ends at . ! ? … (plus closing quotes) and a space, at a blank line, or before a
# bulleted line. A dot after an abbreviation or a single letter ("M. Legault", "U.S. border",
# "Dec. 7") does not end one. The pattern starts with a character class so the regex engine
# skips straight to candidates (measured 4x faster than a leading group).
_ABBREVIATIONS = _words(
    "mr mrs ms dr st ste mme mlle no gov sen inc ltd jr sr vs "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
)
_NOT_AFTER = "".join(rf"(?<!\b{a}\.)" for a in sorted(_ABBREVIATIONS)) + r"(?<!\b\w\.)"
_SENTENCE_BREAK = re.compile(
    rf"[.!?…\n](?:(?<=[.!?…]){_NOT_AFTER}[.!?…]*[\"'»”’)\]]*\s+"
    r"|(?<=\n)[ \t]*\n\s*|(?<=\n)(?=[ \t]*[•·▪*–—-][ \t]))",
    re.IGNORECASE,
)


def _sentence_starts(text: str) -> list[int]:
    return [0, *(brk.end() for brk in _SENTENCE_BREAK.finditer(text))]


class _Field:
    """One input string, with its folded form and sentences computed once."""

    __slots__ = ("_sentences", "_starts", "folded", "name", "offsets", "text")

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.text = text
        self.folded, self.offsets = _fold_field(text)
        self._starts: list[int] | None = None
        self._sentences: dict[int, str] = {}

    def folded_slice(self, start: int, end: int) -> str:
        """Folded form of ``text[start:end]``, cheap when folding kept lengths."""
        if self.offsets is None:
            return self.folded[start:end]
        return match_form(self.text[start:end])

    def sentence_span(self, pos: int) -> tuple[int, int]:
        if self._starts is None:
            self._starts = _sentence_starts(self.text)
        index = bisect.bisect_right(self._starts, pos) - 1
        end = self._starts[index + 1] if index + 1 < len(self._starts) else len(self.text)
        return self._starts[index], end

    def sentence(self, start: int, end: int) -> str:
        lo, hi = self.sentence_span(start)
        if hi - lo > MAX_SENTENCE:
            lo = max(lo, min(start, (start + end - MAX_SENTENCE) // 2))
            hi = max(min(hi, lo + MAX_SENTENCE), end)
            return " ".join(self.text[lo:hi].split())
        if lo not in self._sentences:
            self._sentences[lo] = " ".join(self.text[lo:hi].split())
        return self._sentences[lo]


# --- The tagger --------------------------------------------------------------------------


class Tagger:
    """Tags articles against one taxonomy; build once, then call ``tag`` for each article."""

    def __init__(
        self, taxonomy: Taxonomy, relevance_threshold: float = DEFAULT_RELEVANCE_THRESHOLD
    ) -> None:
        self.taxonomy = taxonomy
        self.relevance_threshold = relevance_threshold
        self._concepts = taxonomy.concepts
        self._is_topic = tuple(c.kind == "topic" for c in self._concepts)
        self._meta = tuple((c.key, c.kind, _supported_topic(c)) for c in self._concepts)
        self._require = tuple(_Rule.compile(c.require_context) for c in self._concepts)
        self._exclude = tuple(_Rule.compile(c.exclude_context) for c in self._concepts)
        table = _entries(self._concepts)
        self._forms = tuple(sorted(table))
        self._automaton = _build_automaton(table)

    @property
    def surface_forms(self) -> tuple[str, ...]:
        """Every folded form the automaton looks for (for benchmarks and debugging)."""
        return self._forms

    def tag(self, title: str, text: str) -> TagResult:
        """Tag one article; pure, and safe to call from several threads."""
        fields = (_Field("title", title), _Field("text", text))
        hits = [hit for index, field in enumerate(fields) for hit in self._scan(index, field)]
        hits = self._disambiguate(hits, fields)
        mentions = [
            self._mention(hit, fields[hit.field]) for hit in _without_overlaps(hits, self._is_topic)
        ]
        topics = self._topics(mentions)
        figures = [fig for field in fields for fig in _figure_mentions(field, topics)]
        return self._result(mentions, figures, topics)

    def _scan(self, index: int, field: _Field) -> list[_Hit]:
        # The hot loop: plain tuple unpacking, no attribute look-ups.
        hits: list[_Hit] = []
        text, offsets = field.text, field.offsets
        for end, entries in self._automaton.iter(f" {field.folded} "):
            for concept, length, ambiguous, case_sensitive in entries:
                start, stop = end - length - 1, end - 1
                if offsets is not None:
                    start, stop = _original_span(text, offsets, start, stop)
                if case_sensitive and not text[start:stop].isupper():
                    continue
                hits.append(_Hit(index, start, stop, concept, ambiguous))
        return hits

    def _disambiguate(self, hits: list[_Hit], fields: Sequence[_Field]) -> list[_Hit]:
        exclude = self._exclude
        kept = [h for h in hits if exclude[h.concept] is None or not self._excluded(h, fields)]
        sure = {h.concept for h in kept if not h.ambiguous}
        return [
            h
            for h in kept
            if not h.ambiguous or h.concept in sure or self._context_met(h, fields[h.field])
        ]

    def _excluded(self, hit: _Hit, fields: Sequence[_Field]) -> bool:
        rule = self._exclude[hit.concept]
        return rule is not None and _context_found(rule, fields[hit.field], hit.start, hit.end)

    def _context_met(self, hit: _Hit, field: _Field) -> bool:
        rule = self._require[hit.concept]
        return rule is not None and _context_found(rule, field, hit.start, hit.end)

    def _mention(self, hit: _Hit, field: _Field) -> Mention:
        key, kind, topic = self._meta[hit.concept]
        start, end = hit.start, hit.end
        sentence = field.sentence(start, end)
        text = field.text[start:end]
        return _new_mention(
            key, kind, field.name, start, end, text, sentence, None, None, topic, None
        )

    def _topics(self, mentions: Sequence[Mention]) -> dict[str, int]:
        """Topic -> points (title mention 2, text mention 1), programmes counting for theirs."""
        points: dict[str, int] = defaultdict(int)
        for mention in mentions:
            weight = _FIELD_WEIGHT[mention.field]
            if mention.kind == "topic":
                points[mention.concept] += weight
            elif mention.kind == "programme":
                for topic in self.taxonomy.concept(mention.concept).topics:
                    points[topic] += weight
        return points

    def _result(
        self, mentions: list[Mention], figures: list[Mention], topics: dict[str, int]
    ) -> TagResult:
        by_kind: dict[str, set[str]] = defaultdict(set)
        for mention in mentions:
            by_kind[mention.kind].add(mention.concept)
        score = self._score(topics, by_kind)
        return TagResult(
            topics=tuple(sorted(topics)),
            actors=tuple(sorted(by_kind["actor"])),
            organisations=tuple(sorted(by_kind["organisation"])),
            places=tuple(sorted(by_kind["place"])),
            programmes=tuple(sorted(by_kind["programme"])),
            figures=tuple(figures),
            mentions=tuple(sorted([*mentions, *figures], key=lambda m: (m.field, m.start))),
            score=score,
            relevant=score >= self.relevance_threshold,
            taxonomy_version=self.taxonomy.version,
        )

    def _score(self, topics: dict[str, int], by_kind: dict[str, set[str]]) -> float:
        p = sum(min(_TOPIC_POINTS_CAP, points) for points in topics.values())
        anchors = [
            self.taxonomy.concept(key).anchor
            for kind in ("programme", "actor", "organisation", "place")
            for key in by_kind[kind]
        ]
        canadian = sum(a for a in anchors if a > 0)
        foreign = -sum(a for a in anchors if a < 0)
        geography = (canadian + 0.5) / (canadian + foreign + 1)
        return round((1 - 0.4**p) * geography, 4)


def _context_found(rule: _Rule, field: _Field, start: int, end: int) -> bool:
    """Whether a rule's words occur near ``text[start:end]`` (never counting the match)."""
    if rule.window == 0:
        lo, hi = field.sentence_span(start)
    else:
        reach = 20 * rule.window + 20  # characters: generous for long words
        lo, hi = max(0, start - reach), min(len(field.text), end + reach)
    left, right = field.folded_slice(lo, start), field.folded_slice(end, hi)
    if rule.window:
        left = " ".join(left.split()[-rule.window :])
        right = " ".join(right.split()[: rule.window])
    return rule.found_in(left) or rule.found_in(right)


def _without_overlaps(hits: list[_Hit], is_topic: Sequence[bool]) -> list[_Hit]:
    """Resolve overlapping hits.

    Names (programmes, actors, organisations, places) are leftmost-longest among themselves,
    so "Québec solidaire" is QS and not the province; equal spans all survive. A topic term
    inside a name is part of that name ("Immigration, Refugees and Citizenship Canada" is
    no evidence of the asylum topic). Topic terms only compete with terms of the same topic:
    "francophone immigration target" is evidence of two topics.
    """
    names = _leftmost_longest([h for h in hits if not is_topic[h.concept]], by_concept=False)
    topics = _leftmost_longest([h for h in hits if is_topic[h.concept]], by_concept=True)
    starts = [(n.field, n.start) for n in names]  # sorted, as _leftmost_longest returns them
    return names + [t for t in topics if not _inside_name(t, names, starts)]


def _leftmost_longest(hits: list[_Hit], by_concept: bool) -> list[_Hit]:
    kept: list[_Hit] = []
    last: dict[tuple[int, int], _Hit] = {}  # (field, concept or -1) -> last hit kept there
    for hit in sorted(hits, key=lambda h: (h.field, h.start, -h.end)):
        group = (hit.field, hit.concept if by_concept else -1)
        previous = last.get(group)
        if previous is not None and hit.start < previous.end:
            same_span = (hit.start, hit.end) == (previous.start, previous.end)
            if not same_span or hit.concept == previous.concept:
                continue
        kept.append(hit)
        last[group] = hit
    return kept


def _inside_name(hit: _Hit, names: list[_Hit], starts: list[tuple[int, int]]) -> bool:
    """Whether a name contains ``hit``: only the names starting at or before it can."""
    index = bisect.bisect_right(starts, (hit.field, hit.start))
    while index > 0 and names[index - 1].field == hit.field:
        index -= 1
        if hit.end <= names[index].end:
            return True
        if names[index].end <= hit.start:
            return False  # names do not overlap, so earlier ones end earlier still
    return False


def _supported_topic(concept: Concept) -> str | None:
    """The topic a mention of ``concept`` supports: itself, or a programme's first topic."""
    if concept.kind == "topic":
        return concept.key
    if concept.kind == "programme" and concept.topics:
        return concept.topics[0]
    return None


def _figure_mentions(field: _Field, topics: dict[str, int]) -> Iterable[Mention]:
    for figure in find_figures(field.text):
        topic = figure.topic if figure.topic in topics else None
        if topic is None and figure.unit == "count":
            continue  # a bare number is a figure only when it argues one of the topics
        sentence = field.sentence(figure.start, figure.end)
        yield _new_mention(
            "figure",
            "figure",
            field.name,
            figure.start,
            figure.end,
            figure.text,
            sentence,
            figure.value,
            figure.unit,
            topic,
            figure.scope,
        )


# --- Figure tracking ---------------------------------------------------------------------


def figure_changes(old: Sequence[Mention], new: Sequence[Mention]) -> list[FigureChange]:
    """Tracked figures whose value changed between two versions of an article.

    A figure is tracked by (topic, unit, scope); figures without a topic are not tracked.
    Within one key, values present on both sides are unchanged; the values that disappeared
    are paired, in order, with those that appeared when there are as many of each (a clean
    edit such as 40,000 -> 50,000 immigrants per year). Otherwise the edit is ambiguous and
    nothing is reported for that key.
    """
    before, after = _tracked(old), _tracked(new)
    changes: list[FigureChange] = []
    for key, new_figures in after.items():
        old_figures = before.get(key, [])
        old_values = {m.value for m in old_figures}
        new_values = {m.value for m in new_figures}
        removed = _distinct([m for m in old_figures if m.value not in new_values])
        added = _distinct([m for m in new_figures if m.value not in old_values])
        if removed and len(removed) == len(added):
            changes.extend(_change(key, o, n) for o, n in zip(removed, added, strict=True))
    return changes


def _tracked(mentions: Sequence[Mention]) -> dict[tuple[str, str, str | None], list[Mention]]:
    groups: dict[tuple[str, str, str | None], list[Mention]] = defaultdict(list)
    for m in mentions:
        if m.kind == "figure" and m.topic and m.unit and m.value is not None:
            groups[(m.topic, m.unit, m.scope)].append(m)
    return groups


def _distinct(mentions: list[Mention]) -> list[Mention]:
    """First mention of each value: repeating a figure is not a second figure."""
    seen: set[float | None] = set()
    out = []
    for m in mentions:
        if m.value not in seen:
            seen.add(m.value)
            out.append(m)
    return out


def _change(key: tuple[str, str, str | None], old: Mention, new: Mention) -> FigureChange:
    assert old.value is not None and new.value is not None  # _tracked keeps valued figures
    return FigureChange(
        topic=key[0],
        unit=key[1],
        scope=key[2],
        old_value=old.value,
        new_value=new.value,
        old_text=old.text,
        new_text=new.text,
        sentence=new.sentence,
    )
