"""What an article is about, and whether it is relevant: judged from where its evidence stands.

The tagger hands over *clues*: each piece of topic evidence with the sentence it sits in, and
each Canadian or foreign name with its anchor weight. Everything here is arithmetic on them.

Topics
------
A topic's weight sums, over the distinct sentences that give evidence of it, 3 for the title,
2 for a sentence of the lede (the first two of the text) or a sentence that makes a point (a
bulleted line, or a sentence that gives a figure: "the budget went from 94 to 104 million"),
and 1 for any other sentence: repeating a term within one sentence adds nothing. A topic with
weight 2 or more is what the article is about: in the title, in the lede, in a point made, or
in two sentences of the body. The heaviest is the primary topic (the earliest on a tie); the
others follow, heaviest first, as secondary topics, at most ``MAX_SECONDARY`` of them. A topic
below 2 -- one sentence of the body -- is only mentioned in passing: it stays a mention, and is
not a topic.

Relevance
---------
``score = T * G``, relevant when ``score >= threshold`` (0.4), one topic at least is what
the article is about, and the text names a policy at stake (``judge``'s ``policy``: the
taxonomy's policy words, or an actor, organisation or programme):

* ``T = 1 - 0.4 ** p`` is topic evidence: ``p`` sums, over topics, 2 points for the title and
  1 for each other sentence that gives evidence, at most 3 per topic (passing mentions count
  here: they are evidence that the text speaks of immigration; where they stand is for the
  topics). One sentence gives T = 0.6, two 0.84, three 0.94.
* ``G = (C + 0.5) / (C + F + 1)`` is geography. ``C`` and ``F`` sum the anchor weights of
  the distinct Canadian and foreign names (provinces, cities, countries, capitals,
  institutions: the taxonomy's gazetteer), each weighed up to twice as much when named again
  and again (a quarter more per mention) and half as much again when named in the title or
  lede. So where the story happens decides, not whether Canada is named once: a story placed
  abroad (F >= 1.5 C + 0.25) is never relevant, and one with no name at all needs strong
  topic evidence (G = 0.5, so p >= 1.8).

A relevant article's topics are its primary and secondary topics; an article that is not
relevant has none (its topic words stay mentions), as an analyst labels a foreign asylum
story: not about Canadian immigration, so not about any of its topics.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

#: Position classes of a sentence.
TITLE, LEDE, BODY = 0, 1, 2
#: Text sentences that make the lede.
LEDE_SENTENCES = 2
#: Weight of one sentence of evidence, by position.
POSITION_WEIGHT = {TITLE: 3.0, LEDE: 2.0, BODY: 1.0}
#: Weight of a sentence that makes a point of the topic: a bulleted line, or a sentence
#: that gives a figure.
POINT_WEIGHT = 2.0
#: Weight a topic needs to be what the article is about.
ABOUT = 2.0
#: Secondary topics kept, heaviest first.
MAX_SECONDARY = 5
#: Weight one topic can add to ``p``, so one repeated term cannot make a story relevant.
TOPIC_POINTS_CAP = 3.0
#: A name in the title or lede weighs this much more.
LEAD_FACTOR = 1.5
#: Each further mention of a name adds this share of its weight, up to ``REPEAT_CAP`` times.
REPEAT_STEP, REPEAT_CAP = 0.25, 4


class TopicClue(NamedTuple):
    """One piece of evidence of a topic."""

    #: The topic it supports.
    topic: str
    #: (field, sentence number): evidence counts once per sentence.
    sentence: tuple[int, int]
    #: TITLE, LEDE or BODY.
    position: int
    #: Whether the sentence makes a point: a bulleted line, or a sentence with a figure.
    point: bool
    #: The sentence, for explanations (may be empty but for a topic's first clue).
    text: str


class AnchorClue(NamedTuple):
    """One mention of a name that places the story (Canadian/Quebec or foreign)."""

    #: Concept key.
    concept: str
    #: Its anchor weight: positive Canadian or Quebec, negative foreign.
    anchor: float
    #: Whether the mention is in the title or lede.
    lead: bool


class TopicEvidence(NamedTuple):
    """How much a text says about one topic.

    Named tuples, this and ``Geography``: each article's cross from the worker process that
    tagged it to the run's process, where a tuple is one object to unpickle, not two.
    """

    #: Topic key.
    topic: str
    #: Position-weighted evidence (see the module docstring).
    weight: float
    #: Distinct sentences giving evidence.
    sentences: int
    #: "primary", "secondary" or "mention" (passing, or the article is not relevant).
    role: str
    #: The first sentence that gives evidence.
    example: str


class Geography(NamedTuple):
    """Where the story happens, as the names in it say."""

    #: Weight of the Canadian and Quebec names (``C``).
    canadian: float
    #: Weight of the foreign names (``F``).
    foreign: float
    #: Keys of the Canadian and Quebec names, heaviest first.
    canadian_names: tuple[str, ...]
    #: Keys of the foreign names, heaviest first.
    foreign_names: tuple[str, ...]

    @property
    def factor(self) -> float:
        """``G``: towards 1 as Canadian names dominate, 0.5 with no name at all."""
        return (self.canadian + 0.5) / (self.canadian + self.foreign + 1)


@dataclass(frozen=True)
class Judgement:
    """Topics and relevance of one text."""

    #: What the article is about, primary topic first; empty when it is not relevant.
    topics: tuple[str, ...]
    #: Every topic with evidence, heaviest first.
    evidence: tuple[TopicEvidence, ...]
    #: The names that place the story.
    geography: Geography
    #: ``T * G``, rounded to 4 places.
    score: float
    #: ``score >= threshold``, a topic the article is about, and a policy at stake.
    relevant: bool
    #: Whether the text says a policy is at stake (see ``judge``).
    policy: bool = True

    @property
    def mentioned(self) -> tuple[str, ...]:
        """Topics with evidence that are not topics of the article, sorted."""
        return tuple(sorted(e.topic for e in self.evidence if e.topic not in self.topics))

    def explain(self) -> str:
        """One line saying what decided: topic evidence, names, score."""
        topic_part = (
            ", ".join(
                f"{e.topic} {e.weight:g} ({e.role}, {e.sentences} sentence"
                f"{'s' if e.sentences != 1 else ''})"
                for e in self.evidence
            )
            or "no topic evidence"
        )
        geo = self.geography
        places = (
            f"Canadian {geo.canadian:g} ({', '.join(geo.canadian_names) or 'none'}), "
            f"foreign {geo.foreign:g} ({', '.join(geo.foreign_names) or 'none'})"
        )
        policy = "" if self.policy else "; no policy at stake (no government, law, court...)"
        return f"score {self.score:g}: {topic_part}; {places}{policy}"


def judge(
    topic_clues: Sequence[TopicClue],
    anchor_clues: Sequence[AnchorClue],
    threshold: float,
    *,
    policy: bool = True,
) -> Judgement:
    """Weigh the clues of one text; see the module docstring for the rules.

    ``policy`` says whether the text names a policy at stake: a government, a law, a court,
    a permit, an official body. Without one, the text is a person's story (a refugee in a
    film, a hockey player's visa) and is not relevant, whatever its score.
    """
    weighed = _weigh_topics(topic_clues)
    about = [key for key, topic in weighed.items() if topic.weight >= ABOUT][: 1 + MAX_SECONDARY]
    geography = _geography(anchor_clues)
    p = sum(min(TOPIC_POINTS_CAP, topic.points) for topic in weighed.values())
    score = round((1 - 0.4**p) * geography.factor, 4) if weighed else 0.0
    relevant = score >= threshold and bool(about) and policy
    topics = tuple(about) if relevant else ()
    evidence = tuple(
        TopicEvidence(key, topic.weight, topic.sentences, _role(key, topics), topic.example)
        for key, topic in weighed.items()
    )
    return Judgement(topics, evidence, geography, score, relevant, policy)


def _role(topic: str, topics: tuple[str, ...]) -> str:
    if topics and topic == topics[0]:
        return "primary"
    return "secondary" if topic in topics else "mention"


class _Weighed(NamedTuple):
    """What the clues of one topic add up to."""

    #: Position-weighted evidence: where it stands.
    weight: float
    #: Evidence points for relevance: 2 for the title, 1 for each other sentence.
    points: float
    #: Distinct sentences.
    sentences: int
    #: The first sentence that gives evidence.
    example: str


def _weigh_topics(clues: Sequence[TopicClue]) -> dict[str, _Weighed]:
    """Topic -> what its clues add up to, heaviest first, earliest on a tie."""
    by_sentence: dict[str, dict[tuple[int, int], float]] = defaultdict(dict)
    positions: dict[str, dict[tuple[int, int], int]] = defaultdict(dict)
    examples: dict[str, str] = {}
    for clue in clues:
        weight = POSITION_WEIGHT[clue.position]
        if clue.point:
            weight = max(weight, POINT_WEIGHT)
        sentences = by_sentence[clue.topic]
        sentences[clue.sentence] = max(weight, sentences.get(clue.sentence, 0.0))
        positions[clue.topic][clue.sentence] = clue.position
        if clue.text:
            examples.setdefault(clue.topic, clue.text)
    first = {topic: min(sentences) for topic, sentences in by_sentence.items()}
    ranked = sorted(by_sentence, key=lambda t: (-sum(by_sentence[t].values()), first[t]))
    return {
        topic: _Weighed(
            sum(by_sentence[topic].values()),
            sum(2.0 if p == TITLE else 1.0 for p in positions[topic].values()),
            len(by_sentence[topic]),
            examples.get(topic, ""),
        )
        for topic in ranked
    }


def _geography(clues: Sequence[AnchorClue]) -> Geography:
    count: dict[str, int] = defaultdict(int)
    lead: dict[str, bool] = defaultdict(bool)
    anchor: dict[str, float] = {}
    for clue in clues:
        count[clue.concept] += 1
        lead[clue.concept] |= clue.lead
        anchor[clue.concept] = clue.anchor
    strength = {
        key: abs(anchor[key])
        * (LEAD_FACTOR if lead[key] else 1.0)
        * (1 + REPEAT_STEP * min(REPEAT_CAP, count[key] - 1))
        for key in count
    }
    ranked = sorted(strength, key=lambda key: -strength[key])
    canadian = [key for key in ranked if anchor[key] > 0]
    foreign = [key for key in ranked if anchor[key] < 0]
    return Geography(
        canadian=round(sum(strength[k] for k in canadian), 3),
        foreign=round(sum(strength[k] for k in foreign), 3),
        canadian_names=tuple(canadian),
        foreign_names=tuple(foreign),
    )
