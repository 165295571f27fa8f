"""Bilingual (EN/FR) immigration-policy tagging of one article: topics, programmes, actors,
organisations, places and figures, each mention with offsets into the original text.

Matching
--------
``parsers.matching`` finds every term and every context word in one automaton pass per field.
Each hit is then checked: a term written in capitals needs capitals in the text;
``exclude_context`` cancels; an ambiguous term needs ``require_context`` (a name also counts
once it was named unambiguously in the article: one sense per discourse); ``scope`` needs one
of its words in the sentence. ``near`` rules add topic evidence where two sets of words meet
within a few words of one sentence (a province *ending* its immigration *detention*
agreement). Overlapping names resolve leftmost-longest ("Québec solidaire" is QS, not the
province); a topic term inside a name is part of the name; topic terms compete only within
their topic (see ``_without_overlaps``).

Judgement
---------
Topic evidence comes from topic terms, near rules, and programmes and places that list topics
(Roxham Road is a border crossing); a topic's ``scope`` applies to all of it. Where each piece
stands (title, lede, a listed point, the body) decides the primary topic, the secondary ones
and the passing mentions, and the names found place the story in Canada or abroad:
``parsers.relevance`` has the rules. Figures come from ``parsers.figures``; a sum of money is
evidence of funding and costs where the sentence is about immigration ("$100 million to house
asylum seekers"), weighed as a plain sentence where it stands; any other figure's topic is
kept only when the text gives evidence of that topic.

Names other countries share ("Liberals", "House of Commons": a taxonomy's ``shared_en`` and
``shared_fr``) count only in a text that another Canadian name places in Canada.

Bounds
------
Everything is linear in the text. Only the first ``MAX_TAGGED_CHARS`` characters of a text
are tagged, and a document gets ``cpu_budget`` CPU-seconds: past either, the rest is left out
and ``TagResult.cut`` says where and why. At most ``MAX_MENTIONS_PER_CONCEPT`` mentions of one
concept in one field are kept as evidence (all of them count).
"""

from __future__ import annotations

import bisect
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from parsers.figures import Figure, read_figures
from parsers.matching import (
    AMBIGUOUS,
    MAX_SENTENCE,
    SHARED,
    SURE,
    Cues,
    Field,
    Spans,
    _original_span,
    build_automaton,
    entries,
    match_form,
)
from parsers.relevance import (
    BODY,
    LEDE,
    LEDE_SENTENCES,
    TITLE,
    AnchorClue,
    Geography,
    Judgement,
    TopicClue,
    TopicEvidence,
    judge,
)
from parsers.taxonomy import TAGGING_KINDS, Concept, ContextRule, NearRule, Taxonomy

__all__ = [
    "DEFAULT_CPU_BUDGET",
    "DEFAULT_RELEVANCE_THRESHOLD",
    "MAX_MENTIONS_PER_CONCEPT",
    "MAX_SENTENCE",
    "MAX_TAGGED_CHARS",
    "FigureChange",
    "Mention",
    "TagResult",
    "Tagger",
    "figure_changes",
    "match_form",
]

#: Score at or above which an article is relevant; see ``parsers.relevance``.
DEFAULT_RELEVANCE_THRESHOLD = 0.4
#: Characters of a title or text that are tagged; the rest is left out, and the cut recorded.
#: A long report runs to 100,000; pages may reach megabytes of junk.
MAX_TAGGED_CHARS = 200_000
#: CPU-seconds one document may take; the tagger stops where it got, and records why.
DEFAULT_CPU_BUDGET = 0.5
#: Mentions of one concept in one field kept as evidence; the judgement counts them all.
MAX_MENTIONS_PER_CONCEPT = 200
#: How many automaton hits pass between two looks at the CPU clock.
_CLOCK_EVERY = 4096
#: Units of sums of money: such a figure is evidence of the topic it argues.
_MONEY_UNITS = frozenset({"CAD", "USD"})
#: Kinds of concepts whose mention says a policy is at stake: someone acts or a rule applies.
_ACTING_KINDS = frozenset({"actor", "organisation", "programme"})
#: Documents shorter than this are not clocked (see ``_Budget``).
_CLOCKED_CHARS = 20_000


class Mention(NamedTuple):
    """One place in the title or text where a concept or a figure occurs.

    A named tuple, not a dataclass: an article has dozens, and each crosses from the worker
    process that tagged it to the run's process that stores it. As a tuple a mention is one
    object instead of an instance and its dict, built and unpickled without Python code:
    for 10,000 feed items, a fifth less to pickle and to unpickle, and ~240,000 fewer
    objects for the run's garbage collector to walk (``bench/payload.py``).
    """

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


@dataclass(frozen=True)
class TagResult:
    """Everything the tagger found in one article."""

    #: What the article is about: its primary topic, then its secondary ones, heaviest first.
    #: Empty when the article is not relevant (its topic words stay mentions).
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
    #: Relevance score in [0, 1]; the formula is in ``parsers.relevance``.
    score: float
    #: ``score >= relevance_threshold`` and a topic the article is about.
    relevant: bool
    #: Version of the taxonomy that produced this result.
    taxonomy_version: str
    #: Every topic with evidence, heaviest first, with its weight and role.
    evidence: tuple[TopicEvidence, ...] = ()
    #: The Canadian and foreign names that placed the story.
    geography: Geography | None = None
    #: Why only part of the text was tagged, if it was.
    cut: str | None = None
    #: One line saying what decided the score.
    why: str = ""

    @property
    def primary_topic(self) -> str | None:
        """The topic the article is mainly about, if it is relevant."""
        return self.topics[0] if self.topics else None

    @property
    def mentioned(self) -> tuple[str, ...]:
        """Topics named in passing (or in a text that is not relevant), sorted."""
        return tuple(sorted(e.topic for e in self.evidence if e.topic not in self.topics))

    @property
    def evidence_sentence(self) -> str:
        """The text's first sentence giving evidence of the primary topic (else of any
        topic): what an alert quotes."""
        evidence = [m for m in self.mentions if m.topic and m.kind != "figure"]
        in_text = [m for m in evidence if m.field == "text"] or evidence
        primary = next((m for m in in_text if m.topic == self.primary_topic), None)
        first = primary or next(iter(in_text), None)
        return first.sentence if first else ""


#: The ``taxonomy_version`` of ``PENDING_TAGS``, which no taxonomy file can give.
_PENDING_VERSION = "(not tagged yet)"
#: The tags of a feed item whose page is to replace its text: tagging the summary first was
#: work thrown away once the page is read. Whatever keeps the feed's text instead (a page
#: that fails, or is not fetched) tags it then; the store refuses an item still carrying it.
PENDING_TAGS = TagResult(
    topics=(),
    actors=(),
    organisations=(),
    places=(),
    programmes=(),
    figures=(),
    mentions=(),
    score=0.0,
    relevant=False,
    taxonomy_version=_PENDING_VERSION,
    why="not tagged yet",
)


def tags_pending(tags: TagResult) -> bool:
    """True for ``PENDING_TAGS``, also once copied to another process (compared by value)."""
    return tags.taxonomy_version == _PENDING_VERSION


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
    #: The sentence of the old figure.
    old_sentence: str = ""


# --- Rules compiled against the cues --------------------------------------------------------


class _Context(NamedTuple):
    """A context rule as cue numbers."""

    #: Cue numbers of its words.
    cues: tuple[int, ...]
    #: Words either side; 0 means the whole sentence.
    window: int


class _Near(NamedTuple):
    """A near rule as cue numbers."""

    #: Cue numbers of one side.
    words: tuple[int, ...]
    #: Cue numbers of the other side.
    near: tuple[int, ...]
    #: Most words between the two.
    within: int
    #: Whether its evidence needs evidence of another topic beside it.
    conditional: bool


class _Hit(NamedTuple):
    """A term found in a field, before disambiguation."""

    #: 0 for the title, 1 for the text.
    field: int
    #: Offset of the match in the original field string.
    start: int
    #: Offset just past the match.
    end: int
    #: The same span in the folded field.
    fstart: int
    fend: int
    #: Index of the concept in the taxonomy.
    concept: int
    #: What the term needs to count: ``SURE``, ``AMBIGUOUS`` or ``SHARED``.
    ambiguous: int


class _Budget:
    """A document's CPU allowance, read on this thread's clock.

    The clock is read only for documents of ``_CLOCKED_CHARS`` or more: a shorter one is
    tagged in milliseconds whatever it holds (tagging is linear), and reading this clock
    costs several microseconds, a tenth of tagging a short feed item.
    """

    __slots__ = ("deadline", "seconds")

    def __init__(self, seconds: float, chars: int) -> None:
        self.seconds = seconds
        self.deadline = time.thread_time() + seconds if chars >= _CLOCKED_CHARS else None

    def spent(self) -> bool:
        return self.deadline is not None and time.thread_time() > self.deadline


# --- The tagger --------------------------------------------------------------------------


class Tagger:
    """Tags articles against one taxonomy; build once, then call ``tag`` for each article."""

    def __init__(
        self,
        taxonomy: Taxonomy,
        relevance_threshold: float = DEFAULT_RELEVANCE_THRESHOLD,
        *,
        cpu_budget: float = DEFAULT_CPU_BUDGET,
        max_chars: int = MAX_TAGGED_CHARS,
    ) -> None:
        self.taxonomy = taxonomy
        self.relevance_threshold = relevance_threshold
        self.cpu_budget = cpu_budget
        self.max_chars = max_chars
        concepts = self._concepts = taxonomy.concepts
        cues = Cues()
        self._is_topic = tuple(c.kind == "topic" for c in concepts)
        self._meta = tuple((c.key, c.kind) for c in concepts)
        self._anchor = tuple(c.anchor for c in concepts)
        self._require = tuple(_context(cues, c.require_context) for c in concepts)
        self._exclude = tuple(_context(cues, c.exclude_context) for c in concepts)
        self._scope = tuple(_context(cues, c.scope) for c in concepts)
        self._topic_scope = {c.key: self._scope[i] for i, c in enumerate(concepts)}
        self._tags = tuple(_tagged_topics(c) for c in concepts)
        self._money_topic = {c.key: i for i, c in enumerate(concepts) if c.kind == "topic"}
        self._policy_cues = frozenset(cues.rule(taxonomy.policy_words))
        self._journey_cues = frozenset(cues.rule(taxonomy.journey_words))
        self._entertainment_cues = frozenset(cues.rule(taxonomy.entertainment_words))
        self._acts = tuple(c.kind in _ACTING_KINDS for c in concepts)
        self._near = tuple(
            (index, tuple(_near(cues, rule) for rule in concept.near))
            for index, concept in enumerate(concepts)
            if concept.near
        )
        table = entries(concepts)
        self._forms = tuple(sorted(table))
        self._automaton = build_automaton(table, cues)

    @property
    def surface_forms(self) -> tuple[str, ...]:
        """Every folded form the automaton looks for (for benchmarks and debugging)."""
        return self._forms

    def tag(self, title: str, text: str) -> TagResult:
        """Tag one article; pure, and safe to call from several threads."""
        budget = _Budget(self.cpu_budget, len(title) + len(text))
        cuts = [
            f"{name} cut to its first {self.max_chars:,} of {len(value):,} characters"
            for name, value in (("title", title), ("text", text))
            if len(value) > self.max_chars
        ]
        fields = (
            Field(0, "title", title[: self.max_chars]),
            Field(1, "text", text[: self.max_chars]),
        )
        hits, conditional = self._matches(fields, budget, cuts)
        numbers = _numbers(fields, budget, cuts)
        sums = self._money(numbers)
        hits.extend(sums)
        clues, anchors, supported = self._clues(
            hits, fields, _with_figures(numbers), conditional, set(sums)
        )
        judgement = judge(
            clues, anchors, self.relevance_threshold, policy=self._speaks_of_policy(hits, fields)
        )
        mentions = [self._mention(hit, fields[hit.field], supported) for hit in hits]
        evidence_topics = {e.topic for e in judgement.evidence}
        figures = [
            mention
            for field, found in numbers
            for mention in _figure_mentions(field, found, evidence_topics)
        ]
        return self._result(mentions, figures, judgement, "; ".join(cuts) or None)

    def _matches(
        self, fields: Sequence[Field], budget: _Budget, cuts: list[str]
    ) -> tuple[list[_Hit], set[_Hit]]:
        """The hits that count, overlaps resolved, and those needing another topic."""
        hits: list[_Hit] = []
        for field in fields:
            if stopped := self._scan(field, hits, budget):
                cuts.append(stopped)
                break
        conditional: set[_Hit] = set()
        for field in fields:
            self._near_hits(field, hits, conditional)
        kept = self._disambiguate(hits, fields)
        if conditional:
            kept = _firm_first(kept, conditional)
        return _without_overlaps(kept, self._is_topic), conditional

    # Matching.

    def _scan(self, field: Field, hits: list[_Hit], budget: _Budget) -> str | None:
        """Find terms and cues in one field; returns why it stopped early, if it did."""
        # The hot loop: plain tuple unpacking, no attribute look-ups.
        text, offsets, index, cue_hits = field.text, field.offsets, field.index, field.cue_hits
        seen = 0
        for end, (found, cue) in self._automaton.iter(f" {field.folded} "):
            seen += 1
            if not seen % _CLOCK_EVERY and budget.spent():
                return self._stopped(field, end - 1, budget)
            if cue is not None:
                spans = cue_hits.get(cue[0])
                if spans is None:
                    spans = cue_hits[cue[0]] = Spans([], [])
                spans.starts.append(end - cue[1])
                spans.ends.append(end - cue[2])
            for concept, length, ambiguous, case_sensitive in found:
                fstart, fstop = end - length - 1, end - 1
                start, stop = fstart, fstop
                if offsets is not None:
                    start, stop = _original_span(text, offsets, start, stop)
                if case_sensitive and not text[start:stop].isupper():
                    continue
                hits.append(_Hit(index, start, stop, fstart, fstop, concept, ambiguous))
        return None

    def _stopped(self, field: Field, fpos: int, budget: _Budget) -> str:
        at = fpos if field.offsets is None else field.offsets[min(fpos, len(field.offsets) - 1)]
        return (
            f"{field.name} tagged up to character {at:,} of {len(field.text):,}: "
            f"the {budget.seconds:g} CPU-second budget was spent"
        )

    def _near_hits(self, field: Field, hits: list[_Hit], conditional: set[_Hit]) -> None:
        """Topic evidence where the two sides of a near rule meet (one hit per sentence);
        hits of rules that need another topic beside them also go in ``conditional``."""
        present = field.cue_hits.keys()
        for concept, rules in self._near:
            for rule in rules:
                if present.isdisjoint(rule.words) or present.isdisjoint(rule.near):
                    continue
                words, near = field.spans(rule.words), field.spans(rule.near)
                if not words.starts or not near.starts:
                    continue
                last_sentence = -1
                for start, end in zip(words.starts, words.ends, strict=True):
                    sentence = field.sentence_index(start)
                    if sentence == last_sentence:
                        continue
                    partner = _partner(field, near, start, end, sentence, rule.within)
                    if partner is None:
                        continue
                    fstart, fend = min(start, partner[0]), field.word_end(max(end, partner[1]))
                    ostart, oend = field.original(fstart, fend)
                    hit = _Hit(field.index, ostart, oend, fstart, fend, concept, SURE)
                    hits.append(hit)
                    if rule.conditional:
                        conditional.add(hit)
                    last_sentence = sentence

    def _disambiguate(self, hits: list[_Hit], fields: Sequence[Field]) -> list[_Hit]:
        kept = []
        sure: set[int] = set()
        other_sense: set[tuple[int, str]] = set()
        for hit in hits:
            field = fields[hit.field]
            exclude, scope = self._exclude[hit.concept], self._scope[hit.concept]
            if exclude is not None and field.excluded_near(*exclude, hit.fstart, hit.fend):
                other_sense.add((hit.concept, field.folded[hit.fstart : hit.fend]))
                continue
            if scope is not None and not field.in_scope(scope.cues, hit.fstart):
                continue
            kept.append(hit)
            if not hit.ambiguous and not self._is_topic[hit.concept]:
                sure.add(hit.concept)
        if other_sense:
            # One sense per discourse: once "Asile Saint-Jean-de-Dieu" shows the word in
            # another sense, its bare repetitions ("l'asile ouvre en 1875") share it.
            kept = [h for h in kept if (h.concept, _form(fields, h)) not in other_sense]
        kept = [
            hit for hit in kept if hit.ambiguous != AMBIGUOUS or self._confirmed(hit, fields, sure)
        ]
        return self._placed(kept, sure)

    def _placed(self, hits: list[_Hit], sure: set[int]) -> list[_Hit]:
        """Shared names ("Conservatives", "House of Commons") count only where Canada is.

        Other countries have Liberals, Tories and a House of Commons too: such a name is the
        Canadian one only in a text that another Canadian name places in Canada, where its
        concept is named by a term of its own ("Liberal Party of Canada"), or where two of
        them meet and no foreign name does: "the Liberals ... the Conservatives" is Canada's
        pair (Britain's Conservatives face Labour, Australia's Liberals face Labor).
        """
        shared = {hit.concept for hit in hits if hit.ambiguous == SHARED}
        if not shared:
            return hits
        in_canada = any(self._anchor[hit.concept] > 0 for hit in hits if hit.ambiguous != SHARED)
        if not in_canada and len(shared) > 1:
            in_canada = all(self._anchor[hit.concept] >= 0 for hit in hits)
        return [hit for hit in hits if hit.ambiguous != SHARED or in_canada or hit.concept in sure]

    def _confirmed(self, hit: _Hit, fields: Sequence[Field], sure: set[int]) -> bool:
        """An ambiguous hit counts in context, or (names only) once named unambiguously."""
        if hit.concept in sure:
            return True
        rule = self._require[hit.concept]
        return rule is not None and fields[hit.field].context_near(*rule, hit.fstart, hit.fend)

    def _money(self, numbers: list[tuple[Field, list[Figure]]]) -> list[_Hit]:
        """A sum of money is evidence of the topic its unit implies (funding and costs), in
        a sentence within that topic's scope: "$100 million to house asylum seekers"."""
        found = []
        for field, figures in numbers:
            for figure in figures:
                concept = self._money_topic.get(figure.topic or "")
                if concept is None or figure.unit not in _MONEY_UNITS:
                    continue
                fstart, fend = field.to_folded(figure.start), field.to_folded(figure.end)
                scope = self._scope[concept]
                if scope is not None and not field.in_scope(scope.cues, fstart):
                    continue
                found.append(
                    _Hit(field.index, figure.start, figure.end, fstart, fend, concept, SURE)
                )
        return found

    # Judgement.

    def _speaks_of_policy(self, hits: Sequence[_Hit], fields: Sequence[Field]) -> bool:
        """Whether a policy is at stake: a policy word of the taxonomy, or an actor,
        organisation or programme named (a refugee in a film, a hockey player's visa or an
        immigrant ancestor is a person's story, with none of them). People's journeys
        (refugees who arrived, fled, settled) are an influx, news of its own, except in a
        text about a film, a book or a game, where they are its plot or a player's move."""
        if not self._policy_cues and not self._journey_cues:
            return True
        if any(self._acts[hit.concept] for hit in hits):
            return True
        if any(not self._policy_cues.isdisjoint(field.cue_hits) for field in fields):
            return True
        journey = any(not self._journey_cues.isdisjoint(f.cue_hits) for f in fields)
        entertainment = any(not self._entertainment_cues.isdisjoint(f.cue_hits) for f in fields)
        return journey and not entertainment

    def _clues(
        self,
        hits: Sequence[_Hit],
        fields: Sequence[Field],
        with_figures: set[tuple[int, int]],
        conditional: set[_Hit],
        sums: set[_Hit],
    ) -> tuple[list[TopicClue], list[AnchorClue], dict[_Hit, str]]:
        """Topic and anchor clues of the hits, and the topic each hit supports.

        ``with_figures`` holds the (field, sentence) pairs that give a figure; a hit in
        ``conditional`` counts only when another topic has evidence of its own. A hit in
        ``sums`` is a sum of money: its sentence gives a figure, but one sum in the body
        ("students must show $20,635") is a passing mention of money, not a point made.
        """
        clues: list[TopicClue] = []
        owners: list[_Hit] = []
        anchors: list[AnchorClue] = []
        supported: dict[_Hit, str] = {}
        explained: set[str] = set()  # the sentence is kept for a topic's first clue only
        for hit in hits:
            field = fields[hit.field]
            sentence = field.sentence_index(hit.fstart)
            position = TITLE if hit.field == 0 else LEDE if sentence < LEDE_SENTENCES else BODY
            key = self._meta[hit.concept][0]
            if anchor := self._anchor[hit.concept]:
                anchors.append(AnchorClue(key, anchor, position != BODY))
            for topic in self._tags[hit.concept]:
                scope = self._topic_scope[topic]
                if (
                    topic != key
                    and scope is not None
                    and not field.in_scope(scope.cues, hit.fstart)
                ):
                    continue
                supported.setdefault(hit, topic)
                text = "" if topic in explained else field.sentence(hit.start, hit.end)
                explained.add(topic)
                point = field.is_list_item(sentence) or (
                    hit not in sums and (hit.field, sentence) in with_figures
                )
                clues.append(TopicClue(topic, (hit.field, sentence), position, point, text))
                owners.append(hit)
        if conditional:
            clues, supported = _drop_lone(clues, owners, supported, conditional)
        return clues, anchors, supported

    def _mention(self, hit: _Hit, field: Field, supported: dict[_Hit, str]) -> Mention:
        key, kind = self._meta[hit.concept]
        start, end = hit.start, hit.end
        sentence = field.sentence(start, end)
        text = field.text[start:end]
        topic = supported.get(hit)
        return Mention(key, kind, field.name, start, end, text, sentence, None, None, topic, None)

    def _result(
        self, mentions: list[Mention], figures: list[Mention], judgement: Judgement, cut: str | None
    ) -> TagResult:
        mentions, figures = _capped(mentions), _capped(figures)
        by_kind: dict[str, set[str]] = defaultdict(set)
        for mention in mentions:
            by_kind[mention.kind].add(mention.concept)
        return TagResult(
            topics=judgement.topics,
            actors=tuple(sorted(by_kind["actor"])),
            organisations=tuple(sorted(by_kind["organisation"])),
            places=tuple(sorted(by_kind["place"])),
            programmes=tuple(sorted(by_kind["programme"])),
            figures=tuple(figures),
            mentions=tuple(sorted([*mentions, *figures], key=lambda m: (m.field, m.start))),
            score=judgement.score,
            relevant=judgement.relevant,
            taxonomy_version=self.taxonomy.version,
            evidence=judgement.evidence,
            geography=judgement.geography,
            cut=cut,
            why=judgement.explain(),
        )


def _drop_lone(
    clues: list[TopicClue],
    owners: list[_Hit],
    supported: dict[_Hit, str],
    conditional: set[_Hit],
) -> tuple[list[TopicClue], dict[_Hit, str]]:
    """The clues of conditional hits count only beside firm evidence of another topic."""
    firm = {
        clue.topic for clue, owner in zip(clues, owners, strict=True) if owner not in conditional
    }
    kept = [
        clue
        for clue, owner in zip(clues, owners, strict=True)
        if owner not in conditional or firm - {clue.topic}
    ]
    lone = {owner for owner in conditional if not firm - {supported.get(owner)}}
    return kept, {hit: topic for hit, topic in supported.items() if hit not in lone}


def _firm_first(hits: list[_Hit], conditional: set[_Hit]) -> list[_Hit]:
    """Drop the conditional hits that overlap firm evidence of their topic.

    Overlaps resolve leftmost-longest, so "Quebec wants the jurisdiction" (a quarrel that
    counts only beside another topic) would otherwise hide the "jurisdiction over
    immigration" it overlaps, and the text would lose its firm evidence with it.
    """
    firm: dict[tuple[int, int], list[_Hit]] = defaultdict(list)
    for hit in hits:
        if hit not in conditional:
            firm[(hit.field, hit.concept)].append(hit)
    return [
        hit
        for hit in hits
        if hit not in conditional
        or not any(
            other.start < hit.end and hit.start < other.end
            for other in firm.get((hit.field, hit.concept), ())
        )
    ]


def _near(cues: Cues, rule: NearRule) -> _Near:
    return _Near(
        cues.rule(rule.words), cues.rule(rule.near), rule.within, rule.only_with_other_topics
    )


def _form(fields: Sequence[Field], hit: _Hit) -> str:
    return fields[hit.field].folded[hit.fstart : hit.fend]


def _context(cues: Cues, rule: ContextRule | None) -> _Context | None:
    return None if rule is None else _Context(cues.rule(rule.words), rule.window)


def _tagged_topics(concept: Concept) -> tuple[str, ...]:
    """The topics a mention of ``concept`` is evidence of."""
    if concept.kind == "topic":
        return (concept.key,)
    return concept.topics if concept.kind in TAGGING_KINDS else ()


def _partner(
    field: Field, near: Spans, start: int, end: int, sentence: int, within: int
) -> tuple[int, int] | None:
    """The other side of a near rule closest to ``[start, end)``, if close enough."""
    index = bisect.bisect_left(near.starts, start)
    for candidate in range(max(0, index - 2), min(len(near.starts), index + 2)):
        other_start, other_end = near.starts[candidate], near.ends[candidate]
        if other_start < end and start < other_end:
            continue  # the same words: a rule needs two
        if field.sentence_index(other_start) != sentence:
            continue
        # Words are counted from the end of a whole word: a prefix ("parl*" in "parlent")
        # ends inside one, and the rest of that word is not a word between the two.
        if other_start >= end:
            gap = field.words_between(field.word_end(end), other_start, within)
        else:
            gap = field.words_between(field.word_end(other_end), start, within)
        if gap <= within:
            return other_start, other_end
    return None


def _capped(mentions: list[Mention]) -> list[Mention]:
    """At most ``MAX_MENTIONS_PER_CONCEPT`` mentions per (concept, field), figures per text."""
    count: dict[tuple[str, str], int] = defaultdict(int)
    kept = []
    for mention in mentions:
        group = (mention.concept, mention.field)
        count[group] += 1
        if count[group] <= MAX_MENTIONS_PER_CONCEPT:
            kept.append(mention)
    return kept


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


def _figure_mentions(field: Field, figures: list[Figure], topics: set[str]) -> Iterable[Mention]:
    for figure in figures:
        topic = figure.topic if figure.topic in topics else None
        if topic is None and figure.unit == "count":
            continue  # a bare number is a figure only when it argues one of the topics
        sentence = field.sentence(figure.start, figure.end)
        yield Mention(
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


def _numbers(
    fields: Sequence[Field], budget: _Budget, cuts: list[str]
) -> list[tuple[Field, list[Figure]]]:
    """Each field's figures, read within the budget (a cut is added to ``cuts``)."""
    numbers = []
    for field in fields:
        found, stopped_at = read_figures(field.text, budget.spent)
        numbers.append((field, found))
        if stopped_at is not None:
            cuts.append(_figures_stopped(field, stopped_at, budget))
            break
    return numbers


def _with_figures(numbers: list[tuple[Field, list[Figure]]]) -> set[tuple[int, int]]:
    """(field, sentence) of every sentence that gives a figure: a point it makes."""
    return {
        (field.index, field.sentence_index(field.to_folded(figure.start)))
        for field, found in numbers
        for figure in found
    }


def _figures_stopped(field: Field, at: int, budget: _Budget) -> str:
    return (
        f"figures of the {field.name} read up to character {at:,} of {len(field.text):,}: "
        f"the {budget.seconds:g} CPU-second budget was spent"
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
        old_sentence=old.sentence,
    )
