"""How well the tagger does on labelled examples: topic P/R/F1, relevance precision and recall.

``load_gold`` reads a folder of labelled examples in either of two formats:

* the project's gold files (TOML, one ``[[example]]`` table per passage; a ``seed`` key points
  at a seed article instead of giving ``text``);
* a development set of real news, one JSON object per file (``id``, ``title``, ``text``,
  ``language``, ``relevant``, ``topics``, ``topics_borderline``), optionally split in halves
  by a ``split.json`` beside them (``{"tune": [ids], "check": [ids]}``).

``evaluate`` is pure: it tags every example and compares. Topic scores count, per topic, true
positives (expected and found), false positives (found, not expected) and false negatives over
all examples; a topic labelled borderline for an example (a passing mention) counts neither
way. Micro-F1 pools the counts of every topic. A topic with nothing expected and nothing found
scores 1.0: there was nothing to get wrong. Relevance precision is the share of examples
called relevant that are; recall, the share of relevant examples called relevant. Hard
negatives are stories built to fool a naive matcher (an airport named Trudeau, a hockey
player named Legault); any of them flagged relevant is listed.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parsers.documents import parse_document
from parsers.exceptions import ConfigError, ParseError
from parsers.tagging import Tagger, TagResult

_ENTITY_LISTS = ("actors", "organisations", "places", "programmes")


@dataclass(frozen=True)
class GoldFigure:
    """A figure an example must yield."""

    #: The number, as ``Mention.value``.
    value: float
    #: "people", "percent", "CAD", ...
    unit: str
    #: The topic the figure argues, if any.
    topic: str | None
    #: "per_year" or None.
    scope: str | None


@dataclass(frozen=True)
class GoldExample:
    """One labelled passage."""

    #: Stable id, for reports.
    id: str
    #: "en" or "fr".
    lang: str
    #: The title, as the tagger gets it (empty for seeds).
    title: str
    #: The text, as the tagger gets it.
    text: str
    #: The exact topic set expected.
    topics: frozenset[str]
    #: Whether the passage should be relevant.
    relevant: bool
    #: Built to fool a naive matcher; must never be relevant.
    hard_negative: bool
    #: Expected actor keys, checked exactly; None when not labelled.
    actors: frozenset[str] | None = None
    #: Expected organisation keys, checked exactly; None when not labelled.
    organisations: frozenset[str] | None = None
    #: Expected place keys, checked exactly; None when not labelled.
    places: frozenset[str] | None = None
    #: Expected programme keys, checked exactly; None when not labelled.
    programmes: frozenset[str] | None = None
    #: Expected figures, checked exactly; None when not labelled.
    figures: tuple[GoldFigure, ...] | None = None
    #: Topics only touched in passing: neither found nor missed when scored.
    borderline: frozenset[str] = frozenset()


@dataclass(frozen=True)
class TopicScore:
    """Scores for one topic over the whole gold set."""

    #: Topic key.
    topic: str
    #: Examples expected to have the topic.
    support: int
    #: Expected and found.
    tp: int
    #: Found, not expected.
    fp: int
    #: Expected, not found.
    fn: int
    #: tp / (tp + fp); 1.0 when nothing was found.
    precision: float
    #: tp / (tp + fn); 1.0 when nothing was expected.
    recall: float
    #: Harmonic mean of precision and recall.
    f1: float


@dataclass(frozen=True)
class ExampleResult:
    """What the tagger did with one example."""

    #: The example's id.
    id: str
    #: Whether it is a hard negative.
    hard_negative: bool
    #: Topics the label expects.
    expected_topics: frozenset[str]
    #: Topics the tagger found.
    found_topics: frozenset[str]
    #: Relevance the label expects.
    expected_relevant: bool
    #: Relevance the tagger decided.
    relevant: bool
    #: The tagger's relevance score.
    score: float
    #: Every disagreement, one readable line each; empty when the example passes.
    problems: tuple[str, ...]
    #: Topics labelled as passing mentions (not scored).
    borderline: frozenset[str] = frozenset()
    #: What decided the score: topic evidence and the names that placed the story.
    why: str = ""


@dataclass(frozen=True)
class EvalReport:
    """The outcome of one evaluation run."""

    #: Version of the taxonomy evaluated.
    taxonomy_version: str
    #: One result per gold example, in input order.
    examples: tuple[ExampleResult, ...]
    #: Per-topic scores, in taxonomy order.
    topics: tuple[TopicScore, ...]
    #: Precision pooled over all topics.
    micro_precision: float
    #: Recall pooled over all topics.
    micro_recall: float
    #: F1 of the pooled precision and recall.
    micro_f1: float
    #: Share of examples whose relevant flag is right.
    relevance_accuracy: float
    #: Ids of hard negatives the tagger called relevant (should be empty).
    hard_negative_false_positives: tuple[str, ...]
    #: Share of the examples called relevant that are (1.0 when none is called relevant).
    relevance_precision: float = 1.0
    #: Share of the relevant examples called relevant (1.0 when none is relevant).
    relevance_recall: float = 1.0

    @property
    def failures(self) -> tuple[ExampleResult, ...]:
        """Examples with at least one problem."""
        return tuple(e for e in self.examples if e.problems)

    @property
    def false_relevant(self) -> tuple[ExampleResult, ...]:
        """Examples called relevant that are not."""
        return tuple(e for e in self.examples if e.relevant and not e.expected_relevant)

    @property
    def missed(self) -> tuple[ExampleResult, ...]:
        """Relevant examples not called relevant."""
        return tuple(e for e in self.examples if e.expected_relevant and not e.relevant)


def evaluate(tagger: Tagger, gold_examples: Sequence[GoldExample]) -> EvalReport:
    """Tag every example and score the results against the labels."""
    results = tuple(
        _judge(example, tagger.tag(example.title, example.text)) for example in gold_examples
    )
    topic_keys = [c.key for c in tagger.taxonomy.of_kind("topic")]
    scores = tuple(_topic_score(topic, results) for topic in topic_keys)
    tp, fp, fn = (sum(getattr(s, name) for s in scores) for name in ("tp", "fp", "fn"))
    precision, recall, f1 = _prf(tp, fp, fn)
    right = sum(r.relevant == r.expected_relevant for r in results)
    called = sum(r.relevant for r in results)
    relevant = sum(r.expected_relevant for r in results)
    both = sum(r.relevant and r.expected_relevant for r in results)
    return EvalReport(
        taxonomy_version=tagger.taxonomy.version,
        examples=results,
        topics=scores,
        micro_precision=precision,
        micro_recall=recall,
        micro_f1=f1,
        relevance_accuracy=right / len(results) if results else 1.0,
        hard_negative_false_positives=tuple(
            r.id for r in results if r.hard_negative and r.relevant
        ),
        relevance_precision=both / called if called else 1.0,
        relevance_recall=both / relevant if relevant else 1.0,
    )


def _judge(example: GoldExample, result: TagResult) -> ExampleResult:
    found = frozenset(result.topics)
    scored = found - example.borderline
    problems = [*_set_problems("topics", example.topics, scored | (found & example.topics))]
    if result.relevant != example.relevant:
        problems.append(
            f"relevant: expected {example.relevant}, got {result.relevant} ({result.score})"
        )
    for kind in _ENTITY_LISTS:
        expected = getattr(example, kind)
        if expected is not None:
            problems.extend(_set_problems(kind, expected, frozenset(getattr(result, kind))))
    if example.figures is not None:
        got = {GoldFigure(m.value or 0.0, m.unit or "", m.topic, m.scope) for m in result.figures}
        problems.extend(_set_problems("figures", frozenset(example.figures), frozenset(got)))
    return ExampleResult(
        id=example.id,
        hard_negative=example.hard_negative,
        expected_topics=example.topics,
        found_topics=found,
        expected_relevant=example.relevant,
        relevant=result.relevant,
        score=result.score,
        problems=tuple(problems),
        borderline=example.borderline,
        why=result.why,
    )


def _set_problems(name: str, expected: frozenset[Any], found: frozenset[Any]) -> list[str]:
    problems = []
    if missing := expected - found:
        problems.append(f"{name}: missing {sorted(map(str, missing))}")
    if extra := found - expected:
        problems.append(f"{name}: unexpected {sorted(map(str, extra))}")
    return problems


def _topic_score(topic: str, results: Sequence[ExampleResult]) -> TopicScore:
    scored = [r for r in results if topic not in r.borderline or topic in r.expected_topics]
    tp = sum(topic in r.expected_topics and topic in r.found_topics for r in scored)
    fp = sum(topic not in r.expected_topics and topic in r.found_topics for r in scored)
    fn = sum(topic in r.expected_topics and topic not in r.found_topics for r in scored)
    support = sum(topic in r.expected_topics for r in results)
    return TopicScore(topic, support, tp, fp, fn, *_prf(tp, fp, fn))


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


# --- Reading gold files --------------------------------------------------------------------


#: The file beside a development set that splits it in halves.
SPLIT_FILE = "split.json"


def load_gold(
    directory: Path, seeds_dir: Path | None = None, split: str | None = None
) -> list[GoldExample]:
    """Every example of a folder: its ``*.toml`` gold files, else its ``*.json`` items.

    Files are read in name order. ``seeds_dir`` is where ``seed = "..."`` examples find their
    article. ``split`` keeps only the examples of one half named in ``split.json``. A
    malformed file raises ``ConfigError`` naming the file, the example and what to fix.
    """
    if not directory.is_dir():
        raise ConfigError(f"{directory}: not a folder of labelled examples")
    files = sorted(directory.glob("*.toml"))
    if files:
        examples = [ex for path in files for ex in _read_gold_file(path, seeds_dir)]
    else:
        items = sorted(p for p in directory.glob("*.json") if p.name != SPLIT_FILE)
        if not items:
            raise ConfigError(f"{directory}: no gold files (*.toml) or items (*.json) found")
        examples = [_read_item(path) for path in items]
    if split is not None:
        examples = _only_half(examples, directory, split)
    _check_unique(directory, examples)
    return examples


def _check_unique(directory: Path, examples: list[GoldExample]) -> None:
    ids = [ex.id for ex in examples]
    if duplicate := next((i for i in ids if ids.count(i) > 1), None):
        raise ConfigError(f"{directory}: gold example {duplicate!r} is defined twice")


def _only_half(examples: list[GoldExample], directory: Path, split: str) -> list[GoldExample]:
    path = directory / SPLIT_FILE
    try:
        halves = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the split: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: not valid JSON: {exc}") from exc
    names = (
        sorted(k for k, v in halves.items() if isinstance(v, list))
        if isinstance(halves, dict)
        else []
    )
    if split not in names:
        raise ConfigError(f"{path}: no half named {split!r} (halves: {', '.join(names) or 'none'})")
    wanted = set(map(str, halves[split]))
    kept = [ex for ex in examples if ex.id in wanted]
    if missing := sorted(wanted - {ex.id for ex in kept}):
        raise ConfigError(f"{path}: {split} names {missing[0]}, which no item has")
    return kept


def _read_item(path: Path) -> GoldExample:
    """One development-set item (JSON): the text and its labels.

    Title and text are what ``vigie tag`` and ``vigie import`` read from the same file
    (``parse_document``), so the scores measure exactly what they tag.
    """
    try:
        content = path.read_bytes()
        item = json.loads(content.decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read item: {exc}") from exc
    if not isinstance(item, dict):
        raise ConfigError(f"{path}: an item must be a JSON object")
    where = f"{path} ({item.get('id', path.stem)})"
    try:
        document = parse_document(str(path), content)
    except ParseError as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    notes = item.get("notes")
    return GoldExample(
        id=str(item.get("id") or path.stem),
        lang=_string(item, "language", where),
        title=document.title,
        text=document.text,
        topics=_keys(item, "topics", where) or frozenset(),
        relevant=_bool(item, "relevant", where),
        # The set's own convention: its notes open with HARD NEGATIVE for such stories.
        hard_negative=bool(item.get("hard_negative"))
        or (isinstance(notes, str) and notes.upper().startswith("HARD NEGATIVE")),
        borderline=_keys(item, "topics_borderline", where) or frozenset(),
    )


def _read_gold_file(path: Path, seeds_dir: Path | None) -> list[GoldExample]:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read gold file: {exc}") from exc
    tables = raw.get("example")
    if not isinstance(tables, list):
        raise ConfigError(f"{path}: no [[example]] tables")
    return [_read_example(t, f"{path}: example #{i}", seeds_dir) for i, t in enumerate(tables, 1)]


def _read_example(table: Mapping[str, Any], where: str, seeds_dir: Path | None) -> GoldExample:
    example_id = table.get("id")
    if not isinstance(example_id, str) or not example_id:
        raise ConfigError(f"{where}: id is missing")
    where = f"{where} ({example_id})"
    title, text = _example_text(table, where, seeds_dir)
    return GoldExample(
        id=example_id,
        lang=_string(table, "lang", where),
        title=title,
        text=text,
        topics=_keys(table, "topics", where) or frozenset(),
        relevant=_bool(table, "relevant", where),
        hard_negative=bool(table.get("hard_negative", False)),
        actors=_keys(table, "actors", where),
        organisations=_keys(table, "organisations", where),
        places=_keys(table, "places", where),
        programmes=_keys(table, "programmes", where),
        figures=_figures(table, where),
    )


def _example_text(table: Mapping[str, Any], where: str, seeds_dir: Path | None) -> tuple[str, str]:
    if "seed" not in table:
        return str(table.get("title", "")), _string(table, "text", where)
    if seeds_dir is None:
        raise ConfigError(f"{where}: seed example but no seeds folder given")
    path = seeds_dir / _string(table, "seed", where)
    try:
        return str(table.get("title", "")), path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read seed {path}: {exc.strerror}") from exc


def _figures(table: Mapping[str, Any], where: str) -> tuple[GoldFigure, ...] | None:
    if "figures" not in table:
        return None
    figures = []
    for item in table["figures"]:
        try:
            figures.append(
                GoldFigure(float(item["value"]), item["unit"], item.get("topic"), item.get("scope"))
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: each figure needs a value and a unit") from exc
    return tuple(figures)


def _keys(table: Mapping[str, Any], name: str, where: str) -> frozenset[str] | None:
    if name not in table:
        return None
    value = table[name]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: {name} must be a list of keys")
    return frozenset(value)


def _string(table: Mapping[str, Any], name: str, where: str) -> str:
    value = table.get(name)
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {name} is missing or not text")
    return value


def _bool(table: Mapping[str, Any], name: str, where: str) -> bool:
    value = table.get(name)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: {name} must be true or false")
    return value
