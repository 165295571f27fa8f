"""The tagging taxonomy: topics, programmes, actors, organisations and places, read from TOML.

The taxonomy is data an analyst edits (``seeds/taxonomy.toml``); its header documents every
field. ``load_taxonomy`` reads it into frozen dataclasses and checks it thoroughly, because a
typo there silently changes what the tagger finds: any mistake raises ``ConfigError`` with one
line naming the file, the concept and what to fix.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from parsers.exceptions import ConfigError

#: Every kind of concept, in the order results list them.
KINDS = ("topic", "programme", "actor", "organisation", "place")
#: The topic keys the rest of Vigie (alerts, reports) relies on; the file must define all ten.
TOPIC_KEYS = (
    "asylum_refugees",
    "immigration_levels",
    "economic_immigration",
    "family_reunification",
    "temporary_residents",
    "visas",
    "jurisdiction",
    "integration_french",
    "border_enforcement",
    "funding_costs",
)
#: Weight of a concept as Canadian/Quebec context when the file does not say.
DEFAULT_ANCHOR = {"topic": 0.0, "programme": 2.0, "actor": 1.0, "organisation": 1.0, "place": 1.0}
#: Words either side searched by ``exclude_context`` when the file does not say.
DEFAULT_EXCLUDE_WINDOW = 3
#: Words allowed between the two sides of a ``near`` rule when the file does not say.
DEFAULT_NEAR_WITHIN = 6
#: Kinds whose ``topics`` a mention tags (an actor's are informational only).
TAGGING_KINDS = ("programme", "place")

_KEY = re.compile(r"[a-z][a-z0-9_]*\Z")
_TERM_LISTS = (
    "terms_en",
    "terms_fr",
    "ambiguous_en",
    "ambiguous_fr",
    "shared_en",
    "shared_fr",
    "aliases",
)
_FIELDS = frozenset(
    {"key", "kind", "label_en", "label_fr", "require_context", "exclude_context"}
    | {"context_window", "exclude_window", "topics", "role", "anchor", "inflect"}
    | {"scope", "near"}
    | set(_TERM_LISTS)
)
_NEAR_FIELDS = frozenset({"any", "with", "within", "only_with_other_topics"})
_TOP_LEVEL = frozenset({"version", "contexts", "relevance", "concept"})
_RELEVANCE_FIELDS = frozenset({"policy", "journeys", "entertainment"})


@dataclass(frozen=True)
class ContextRule:
    """Words looked for around a match, to confirm or cancel it."""

    #: Words or phrases as written in the file, with ``@name`` sets expanded; ``*`` = prefix.
    words: tuple[str, ...]
    #: Words either side of the match to look at; 0 means the whole sentence.
    window: int


@dataclass(frozen=True)
class NearRule:
    """A co-occurrence: any of ``words`` within ``within`` words of any of ``near``, in one
    sentence (the NEAR/n operator of media-monitoring searches)."""

    #: One side, as written in the file (``@name`` sets expanded; ``*`` = prefix).
    words: tuple[str, ...]
    #: The other side.
    near: tuple[str, ...]
    #: Most words allowed between the two.
    within: int
    #: Whether the rule counts only in a text that gives evidence of another topic: a
    #: quarrel between governments is about immigration only in a story about immigration.
    only_with_other_topics: bool = False


@dataclass(frozen=True)
class Concept:
    """One thing the tagger recognises: a topic, programme, actor, organisation or place."""

    #: Stable id used in results, e.g. ``asylum_refugees`` or ``legault``.
    key: str
    #: One of ``KINDS``.
    kind: str
    #: English name, for reports.
    label_en: str
    #: French name, for reports.
    label_fr: str
    #: English phrases that count on their own (base forms).
    terms_en: tuple[str, ...]
    #: French phrases that count on their own (base forms).
    terms_fr: tuple[str, ...]
    #: English phrases that count only when ``require_context`` is met.
    ambiguous_en: tuple[str, ...]
    #: French phrases that count only when ``require_context`` is met.
    ambiguous_fr: tuple[str, ...]
    #: Other names (acronyms, nicknames), matched as written and never inflected.
    aliases: tuple[str, ...]
    #: Context an ambiguous phrase needs; None when the concept has no ambiguous phrase.
    require_context: ContextRule | None
    #: Context that cancels any match of the concept, if any.
    exclude_context: ContextRule | None
    #: Words one of which the sentence must hold (the match included) for the concept to
    #: count there; for a topic, whatever the evidence (term, programme, place, near rule).
    scope: ContextRule | None
    #: Topics only: co-occurrences that are evidence of the topic.
    near: tuple[NearRule, ...]
    #: Topics a programme or place tags, or an actor's portfolio (informational).
    topics: tuple[str, ...]
    #: Who an actor is; None for other kinds.
    role: str | None
    #: Weight as Canadian/Quebec context in the relevance score; negative for foreign context.
    anchor: float
    #: Whether plurals and inflections of the terms are matched too.
    inflect: bool
    #: English names other countries use too ("Liberals", "House of Commons"): they count
    #: only in a text that Canada places otherwise (see ``parsers.tagging``).
    shared_en: tuple[str, ...] = ()
    #: French names other countries use too ("conservateurs", "Chambre des communes").
    shared_fr: tuple[str, ...] = ()


@dataclass(frozen=True)
class Taxonomy:
    """A whole taxonomy file, checked."""

    #: The file's ``version``, recorded in every tag result.
    version: str
    #: Concepts in file order.
    concepts: tuple[Concept, ...]
    #: Where it was read from, for messages.
    source: str
    #: Words that say a policy is at stake (a government, a law, a court, a permit...): an
    #: article is relevant only with one of them, or an actor, organisation or programme
    #: named. Empty: no such requirement.
    policy_words: tuple[str, ...] = ()
    #: Words of people's journeys (arriving, fleeing, settling): they say a policy is at stake
    #: too (an influx of refugees is news), but not in a text about a film, a book or a game.
    journey_words: tuple[str, ...] = ()
    #: Words that make a text entertainment: a film, a novel, an exhibition, a sport. Its
    #: journeys are a plot or a player's move, not an influx.
    entertainment_words: tuple[str, ...] = ()

    @cached_property
    def _by_key(self) -> dict[str, Concept]:
        return {c.key: c for c in self.concepts}

    def concept(self, key: str) -> Concept:
        """The concept called ``key``; ``KeyError`` when there is none."""
        return self._by_key[key]

    def of_kind(self, kind: str) -> tuple[Concept, ...]:
        """The concepts of one kind, in file order."""
        return tuple(c for c in self.concepts if c.kind == kind)


def load_taxonomy(path: Path) -> Taxonomy:
    """Read and check a taxonomy file; ``ConfigError`` says what to fix when it is wrong."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read taxonomy file: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: taxonomy file is not UTF-8 text ({exc.reason})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    except RecursionError as exc:
        raise ConfigError(f"{path}: not valid TOML: nested too deeply") from exc
    return parse_taxonomy(raw, source=str(path))


def parse_taxonomy(raw: Mapping[str, Any], source: str = "<taxonomy>") -> Taxonomy:
    """Check already-parsed TOML data and build the taxonomy from it."""
    _reject_unknown(raw, _TOP_LEVEL, f"{source}: top level")
    version = raw.get("version")
    if not isinstance(version, str) or not version.strip():
        raise ConfigError(f'{source}: top-level version is missing; add version = "2025.1" first')
    contexts = _read_contexts(raw.get("contexts", {}), source)
    tables = raw.get("concept")
    if not isinstance(tables, list) or not tables:
        raise ConfigError(f"{source}: no [[concept]] tables; the taxonomy needs concepts")
    concepts = tuple(_read_concept(t, i, source, contexts) for i, t in enumerate(tables, 1))
    _check_keys(concepts, source)
    policy, journeys, entertainment = _relevance_words(raw.get("relevance", {}), source, contexts)
    return Taxonomy(
        version=version.strip(),
        concepts=concepts,
        source=source,
        policy_words=policy,
        journey_words=journeys,
        entertainment_words=entertainment,
    )


def _relevance_words(
    raw: Any, source: str, contexts: Mapping[str, tuple[str, ...]]
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """The ``[relevance]`` table's ``policy``, ``journeys`` and ``entertainment`` words
    (``@name`` sets expanded)."""
    where = f"{source}: [relevance]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table, e.g. policy = ['government*', 'law']")
    _reject_unknown(raw, _RELEVANCE_FIELDS, where)
    return (
        _context_words(raw, "policy", where, contexts),
        _context_words(raw, "journeys", where, contexts),
        _context_words(raw, "entertainment", where, contexts),
    )


def _read_contexts(raw: Any, source: str) -> dict[str, tuple[str, ...]]:
    """Named word lists; a list may use a list defined above it (``@newcomers``)."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: [contexts] must be a table of word lists")
    sets: dict[str, tuple[str, ...]] = {}
    for name, words in raw.items():
        where = f"{source}: [contexts] {name}"
        sets[name] = _context_words({name: words}, name, where, sets, "word list")
    return sets


def _read_concept(
    table: Any, index: int, source: str, contexts: Mapping[str, tuple[str, ...]]
) -> Concept:
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: concept #{index} must be a [[concept]] table")
    key = table.get("key")
    where = f"{source}: concept {key!r}" if isinstance(key, str) else f"{source}: concept #{index}"
    if not isinstance(key, str) or not _KEY.match(key):
        raise ConfigError(f"{where}: key must be lower_snake_case text, e.g. key = 'asylum'")
    _reject_unknown(table, _FIELDS, where)
    kind = _kind(table, where)
    terms = {name: _strings(table.get(name, []), where, name) for name in _TERM_LISTS}
    if not any(terms.values()):
        raise ConfigError(f"{where}: no terms; add terms_en, terms_fr or aliases")
    require, exclude = _rules(table, where, contexts, terms)
    scope_words = _context_words(table, "scope", where, contexts)
    return Concept(
        key=key,
        kind=kind,
        label_en=_text(table, "label_en", where),
        label_fr=_text(table, "label_fr", where),
        terms_en=terms["terms_en"],
        terms_fr=terms["terms_fr"],
        ambiguous_en=terms["ambiguous_en"],
        ambiguous_fr=terms["ambiguous_fr"],
        aliases=terms["aliases"],
        shared_en=terms["shared_en"],
        shared_fr=terms["shared_fr"],
        require_context=require,
        exclude_context=exclude,
        scope=ContextRule(scope_words, 0) if scope_words else None,
        near=_near_rules(table, kind, where, contexts),
        topics=_topics(table, kind, where),
        role=_role(table, kind, where),
        anchor=_anchor(table, kind, where),
        inflect=_flag(table, "inflect", kind in ("topic", "programme"), where),
    )


def _kind(table: Mapping[str, Any], where: str) -> str:
    kind = table.get("kind")
    if kind not in KINDS:
        raise ConfigError(f"{where}: kind must be one of {', '.join(KINDS)} (got {kind!r})")
    return str(kind)


def _rules(
    table: Mapping[str, Any],
    where: str,
    contexts: Mapping[str, tuple[str, ...]],
    terms: Mapping[str, tuple[str, ...]],
) -> tuple[ContextRule | None, ContextRule | None]:
    has_ambiguous = bool(terms["ambiguous_en"] or terms["ambiguous_fr"])
    require_words = _context_words(table, "require_context", where, contexts)
    if has_ambiguous and not require_words:
        raise ConfigError(f"{where}: ambiguous terms need require_context (words to look for)")
    if require_words and not has_ambiguous:
        raise ConfigError(
            f"{where}: require_context is set but no ambiguous_en/ambiguous_fr terms; "
            "list the terms that need context there"
        )
    require = None
    if require_words:
        require = ContextRule(require_words, _count(table, "context_window", 0, where))
    exclude_words = _context_words(table, "exclude_context", where, contexts)
    exclude = None
    if exclude_words:
        window = _count(table, "exclude_window", DEFAULT_EXCLUDE_WINDOW, where)
        exclude = ContextRule(exclude_words, window)
    return require, exclude


def _context_words(
    table: Mapping[str, Any],
    name: str,
    where: str,
    contexts: Mapping[str, tuple[str, ...]],
    what: str | None = None,
) -> tuple[str, ...]:
    words: list[str] = []
    for word in _strings(table.get(name, []), where, what or name):
        if "*" in word.rstrip("*"):
            # A prefix ends a word list entry; "travailleur* etranger" would match nothing.
            raise ConfigError(
                f"{where}: {what or name} has {word!r}; * may only end a word (immigra*)"
            )
        if not word.startswith("@"):
            words.append(word)
        elif word[1:] in contexts:
            words.extend(contexts[word[1:]])
        else:
            known = ", ".join(sorted(contexts)) or "none defined"
            raise ConfigError(f"{where}: {what or name} uses unknown set {word} (known: {known})")
    return tuple(words)


def _near_rules(
    table: Mapping[str, Any], kind: str, where: str, contexts: Mapping[str, tuple[str, ...]]
) -> tuple[NearRule, ...]:
    raw = table.get("near", [])
    if not isinstance(raw, list) or not all(isinstance(rule, dict) for rule in raw):
        raise ConfigError(f"{where}: near must be [[concept.near]] tables (any, with, within)")
    if raw and kind != "topic":
        raise ConfigError(f"{where}: only topics have near rules")
    rules = []
    for index, rule in enumerate(raw, 1):
        here = f"{where}: near rule #{index}"
        _reject_unknown(rule, _NEAR_FIELDS, here)
        words = _context_words(rule, "any", here, contexts)
        near = _context_words(rule, "with", here, contexts)
        if not words or not near:
            raise ConfigError(f"{here}: give both sides, any = [...] and with = [...]")
        within = _count(rule, "within", DEFAULT_NEAR_WITHIN, here)
        alone = _flag(rule, "only_with_other_topics", False, here)
        rules.append(NearRule(words, near, within, alone))
    return tuple(rules)


def _topics(table: Mapping[str, Any], kind: str, where: str) -> tuple[str, ...]:
    topics = _strings(table.get("topics", []), where, "topics")
    if topics and kind not in (*TAGGING_KINDS, "actor"):
        raise ConfigError(f"{where}: only programmes, places and actors may list topics")
    for topic in topics:
        if topic not in TOPIC_KEYS:
            raise ConfigError(f"{where}: topics has unknown topic {topic!r}")
    return topics


def _role(table: Mapping[str, Any], kind: str, where: str) -> str | None:
    if "role" not in table:
        return None
    if kind != "actor":
        raise ConfigError(f"{where}: only actors have a role")
    return _text(table, "role", where)


def _anchor(table: Mapping[str, Any], kind: str, where: str) -> float:
    anchor = table.get("anchor", DEFAULT_ANCHOR[kind])
    if isinstance(anchor, bool) or not isinstance(anchor, int | float):
        raise ConfigError(f"{where}: anchor must be a number (got {anchor!r})")
    if kind == "topic" and anchor:
        raise ConfigError(f"{where}: topics cannot be anchors; remove anchor")
    if anchor <= 0 and (table.get("shared_en") or table.get("shared_fr")):
        raise ConfigError(
            f"{where}: shared_en/shared_fr are for Canadian names (anchor > 0); "
            "list a foreign name in terms_en/terms_fr"
        )
    return float(anchor)


def _check_keys(concepts: tuple[Concept, ...], source: str) -> None:
    seen: set[str] = set()
    for concept in concepts:
        if concept.key in seen:
            raise ConfigError(f"{source}: concept {concept.key!r} is defined twice")
        seen.add(concept.key)
        if concept.kind == "topic" and concept.key not in TOPIC_KEYS:
            raise ConfigError(
                f"{source}: concept {concept.key!r}: unknown topic key; topics are "
                f"{', '.join(TOPIC_KEYS)}"
            )
    missing = [key for key in TOPIC_KEYS if key not in seen]
    if missing:
        raise ConfigError(f"{source}: topic {missing[0]!r} is missing; define all ten topics")


def _reject_unknown(table: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    for name in table:
        if name not in allowed:
            close = difflib.get_close_matches(name, sorted(allowed), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"{where}: unknown field {name!r}{hint}")


def _strings(value: Any, where: str, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: {name} must be a list of strings")
    for item in value:
        if not any(ch.isalnum() for ch in item):
            raise ConfigError(f"{where}: {name} has an entry with no letters or digits: {item!r}")
    return tuple(value)


def _text(table: Mapping[str, Any], name: str, where: str) -> str:
    value = table.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: {name} is missing; give it a non-empty string")
    return value.strip()


def _count(table: Mapping[str, Any], name: str, default: int, where: str) -> int:
    value = table.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{where}: {name} must be a whole number >= 0 (got {value!r})")
    return value


def _flag(table: Mapping[str, Any], name: str, default: bool, where: str) -> bool:
    value = table.get(name, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: {name} must be true or false (got {value!r})")
    return value
