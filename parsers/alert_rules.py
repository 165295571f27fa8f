"""The alert rules file: which alerts go where, when, and how often.

A rules file is TOML::

    [defaults]                     # every kind, unless its own table says otherwise
    channels = ["default"]         # "default" is VIGIE_ALERT_URLS
    mode = "immediate"             # or "digest": held for the daily digest

    [channels.analysts]            # exactly one of url, url_env, block, webhook
    url_env = "VIGIE_ANALYSTS_URL" # an Apprise URL read from this variable at send time
    format = "html"                # optional: text, markdown or html
    language = "fr"                # optional: the digest's language here (en or fr)

    [kinds.article_edited]
    min_relevance = 1.0
    topics = ["asylum_refugees"]   # empty: every topic
    debounce_minutes = 10          # a burst on one article or feed makes one alert

    [digest]
    channels = ["analysts"]
    top_per_topic = 5
    send_when_empty = false
    language = "en"                # the digest's language where a channel names none

    [watches."Roxham"]             # a saved search: new articles and versions it matches
    query = 'Roxham NEAR/10 fermeture OR "chemin Roxham"'
    channels = ["analysts"]        # optional, [defaults] otherwise
    mode = "immediate"             # optional: immediate or digest

Everything here is pure: parsing raises ``ConfigError`` with one line naming the key to fix,
and ``route`` decides what to do with an alert from its kind, severity and payload.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from parsers.exceptions import ConfigError
from parsers.search_query import QueryError
from parsers.search_query import parse as parse_query

#: Alert kinds Vigie writes; a rules file may configure exactly these.
KINDS = (
    "new_relevant_article",
    "article_edited",
    "figure_changed",
    "cluster_growing",
    "feed_flood",
    "feed_broken",
    "feed_recovered",
    "run_failed",
)
#: The kind of the outbox row that carries a daily digest; routed by the ``[digest]`` table.
DIGEST_KIND = "digest"
#: The kind of a watch's alert; routed by the watch's own channels and mode.
WATCH_KIND = "watch_match"
#: The route made of the ``VIGIE_ALERT_URLS`` setting.
DEFAULT_CHANNEL = "default"
SEVERITIES = ("info", "warning", "critical")
FORMATS = ("text", "markdown", "html")

Mode = Literal["immediate", "digest"]
Action = Literal["send", "digest", "skip"]

_CHANNEL_SOURCES = ("url", "url_env", "block", "webhook")
_RULE_KEYS = frozenset(
    {"enabled", "min_relevance", "topics", "severity", "channels", "mode", "debounce_minutes"}
)
_DIGEST_KEYS = frozenset(
    {"channels", "top_per_topic", "send_when_empty", "min_relevance", "topics", "language"}
)
#: Languages the digest is written in.
LANGUAGES = ("en", "fr")
_WATCH_KEYS = frozenset({"query", "channels", "mode"})
_TOP_KEYS = frozenset({"defaults", "channels", "kinds", "digest", "watches"})
#: Longest watch name: it is shown in alerts and digest headings.
MAX_WATCH_NAME = 80


@dataclass(frozen=True)
class ChannelSpec:
    """A named destination, as written in the rules file (secrets stay unresolved)."""

    name: str
    #: Where it sends: "url" (Apprise), "url_env" (Apprise URL in an environment variable),
    #: "block" (a saved Prefect notification block) or "webhook" (JSON POST over HTTP).
    source: str
    #: The URL, variable name or block name, according to ``source``.
    target: str
    #: Markup the channel renders; None means chosen from the URL's scheme or block type.
    format: str | None = None
    #: The digest's language on this channel; None means the digest's own (``[digest]``).
    language: str | None = None


@dataclass(frozen=True)
class KindRule:
    """What to do with alerts of one kind."""

    kind: str
    enabled: bool = True
    #: Articles scoring below this are not alerted (kinds whose payload has a relevance).
    min_relevance: float = 0.0
    #: Topics of interest; empty means all. Applies to payloads that name topics.
    topics: frozenset[str] = frozenset()
    #: Overrides the severity the alert was written with.
    severity: str | None = None
    channels: tuple[str, ...] = (DEFAULT_CHANNEL,)
    mode: Mode = "immediate"
    #: Alerts on one subject within this window after the first are merged into one.
    debounce: timedelta = timedelta(0)


@dataclass(frozen=True)
class DigestRule:
    """Where the daily digest goes and what it lists."""

    channels: tuple[str, ...] = (DEFAULT_CHANNEL,)
    #: Stories listed under each topic (the counts cover them all).
    top_per_topic: int = 5
    #: Send a digest that says "nothing new" instead of staying silent.
    send_when_empty: bool = False
    min_relevance: float = 0.0
    topics: frozenset[str] = frozenset()
    #: The digest's language where a channel names none ("en" or "fr").
    language: str = "en"


@dataclass(frozen=True)
class Watch:
    """A saved search: every new article or version it matches is an alert naming it."""

    name: str
    #: In the search syntax of ``parsers.search_query``.
    query: str
    channels: tuple[str, ...] = (DEFAULT_CHANNEL,)
    mode: Mode = "immediate"


@dataclass(frozen=True)
class AlertRules:
    """A parsed rules file."""

    kinds: Mapping[str, KindRule]
    channels: Mapping[str, ChannelSpec]
    digest: DigestRule
    #: Saved searches by name, in the file's order.
    watches: Mapping[str, Watch] = field(default_factory=dict)
    #: The rule for kinds the file does not know (kinds added after it was written).
    fallback: KindRule = field(default_factory=lambda: KindRule(kind="*"))

    def rule(self, kind: str) -> KindRule:
        """The rule in force for ``kind``."""
        return self.kinds.get(kind, self.fallback)


@dataclass(frozen=True)
class Routing:
    """The decision for one alert."""

    action: Action
    severity: str
    channels: tuple[str, ...] = ()
    debounce: timedelta = timedelta(0)
    #: Why an alert is skipped, in words an analyst understands.
    reason: str = ""


# --- parsing -------------------------------------------------------------------------------


def load_rules(path: Path) -> AlertRules:
    """Read and check a rules file; any problem is one ``ConfigError`` line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read alert rules {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"alert rules {path} are not UTF-8 text ({exc.reason})") from exc
    return parse_rules(text, source=path.name)


def parse_rules(text: str, source: str = "alert rules") -> AlertRules:
    """Parse rules from TOML text; ``source`` names the file in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source} is not valid TOML: {_one_line(str(exc))}") from exc
    except RecursionError as exc:
        raise ConfigError(f"{source} is not valid TOML: nested too deeply") from exc
    try:
        return _rules(data)
    except _Invalid as exc:
        raise ConfigError(f"{source}: {exc.path}: {exc.problem}") from None


class _Invalid(Exception):
    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _rules(data: Mapping[str, Any]) -> AlertRules:
    _known_keys(data, _TOP_KEYS, "(top level)")
    channels = _channels(_table(data, "channels"))
    names = {*channels, DEFAULT_CHANNEL}
    defaults = _kind_rule("*", _table(data, "defaults"), KindRule(kind="*"), names, "defaults")
    kinds_table = _table(data, "kinds")
    for kind in kinds_table:
        if kind not in KINDS:
            raise _Invalid(f"kinds.{kind}", f"unknown kind (expected one of {', '.join(KINDS)})")
    kinds = {
        kind: _kind_rule(kind, _table(kinds_table, kind), defaults, names, f"kinds.{kind}")
        for kind in KINDS
    }
    digest = _digest_rule(_table(data, "digest"), names)
    watches = _watches(_table(data, "watches"), defaults, names)
    return AlertRules(
        kinds=kinds, channels=channels, digest=digest, watches=watches, fallback=defaults
    )


def _watches(table: Mapping[str, Any], defaults: KindRule, names: set[str]) -> dict[str, Watch]:
    return {name: _watch(name, spec, defaults, names) for name, spec in table.items()}


def _watch(name: str, spec: Any, defaults: KindRule, names: set[str]) -> Watch:
    where = f"watches.{name}"
    if not name.strip() or len(name) > MAX_WATCH_NAME or not name.isprintable():
        raise _Invalid(where, f"a watch's name is 1 to {MAX_WATCH_NAME} printable characters")
    if not isinstance(spec, Mapping):
        raise _Invalid(where, 'must be a table such as { query = "Roxham" }')
    _known_keys(spec, _WATCH_KEYS, where)
    query = _string(spec.get("query"), f"{where}.query")
    try:
        parse_query(query)
    except QueryError as exc:
        raise _Invalid(f"{where}.query", str(exc)) from None
    mode = spec.get("mode", defaults.mode)
    if mode not in ("immediate", "digest"):
        raise _Invalid(f"{where}.mode", "must be immediate or digest")
    channels = _channel_names(spec.get("channels", defaults.channels), names, f"{where}.channels")
    return Watch(name=name, query=query, channels=channels, mode=mode)


def _table(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise _Invalid(key, "must be a table")
    return value


def _known_keys(table: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    for key in table:
        if key not in allowed:
            expected = ", ".join(sorted(allowed))
            path = key if where == "(top level)" else f"{where}.{key}"
            raise _Invalid(path, f"unknown key (expected one of {expected})")


def _channels(table: Mapping[str, Any]) -> dict[str, ChannelSpec]:
    channels = {}
    for name, spec in table.items():
        where = f"channels.{name}"
        if name == DEFAULT_CHANNEL:
            raise _Invalid(where, f"{DEFAULT_CHANNEL!r} is reserved for VIGIE_ALERT_URLS")
        if not isinstance(spec, Mapping):
            raise _Invalid(where, 'must be a table such as { url_env = "VIGIE_TEAM_URL" }')
        channels[name] = _channel(name, spec, where)
    return channels


def _channel(name: str, spec: Mapping[str, Any], where: str) -> ChannelSpec:
    _known_keys(spec, frozenset({*_CHANNEL_SOURCES, "format", "language"}), where)
    sources = [key for key in _CHANNEL_SOURCES if key in spec]
    if len(sources) != 1:
        raise _Invalid(where, f"needs exactly one of {', '.join(_CHANNEL_SOURCES)}")
    target = _string(spec[sources[0]], f"{where}.{sources[0]}")
    if sources[0] == "webhook" and not target.startswith(("http://", "https://")):
        raise _Invalid(f"{where}.webhook", "must be an http:// or https:// URL")
    if sources[0] == "url" and "://" not in target:
        raise _Invalid(f"{where}.url", "must be an Apprise URL such as mailtos://… or json://…")
    markup = spec.get("format")
    if markup is not None and markup not in FORMATS:
        raise _Invalid(f"{where}.format", f"must be one of {', '.join(FORMATS)}")
    language = _language(spec.get("language"), f"{where}.language")
    return ChannelSpec(name, sources[0], target, markup, language)


def _kind_rule(
    kind: str, table: Mapping[str, Any], base: KindRule, names: set[str], where: str
) -> KindRule:
    _known_keys(table, _RULE_KEYS, where)
    severity = table.get("severity", base.severity)
    if severity is not None and severity not in SEVERITIES:
        raise _Invalid(f"{where}.severity", f"must be one of {', '.join(SEVERITIES)}")
    mode = table.get("mode", base.mode)
    if mode not in ("immediate", "digest"):
        raise _Invalid(f"{where}.mode", "must be immediate or digest")
    return KindRule(
        kind=kind,
        enabled=_bool(table.get("enabled", base.enabled), f"{where}.enabled"),
        min_relevance=_number(
            table.get("min_relevance", base.min_relevance), f"{where}.min_relevance"
        ),
        topics=_topics(table.get("topics", base.topics), f"{where}.topics"),
        severity=severity,
        channels=_channel_names(table.get("channels", base.channels), names, f"{where}.channels"),
        mode=mode,
        debounce=_debounce(table, base.debounce, f"{where}.debounce_minutes"),
    )


def _digest_rule(table: Mapping[str, Any], names: set[str]) -> DigestRule:
    _known_keys(table, _DIGEST_KEYS, "digest")
    top = table.get("top_per_topic", 5)
    if not isinstance(top, int) or isinstance(top, bool) or not 1 <= top <= 50:
        raise _Invalid("digest.top_per_topic", "must be a whole number from 1 to 50")
    channels = table.get("channels", (DEFAULT_CHANNEL,))
    return DigestRule(
        channels=_channel_names(channels, names, "digest.channels"),
        top_per_topic=top,
        send_when_empty=_bool(table.get("send_when_empty", False), "digest.send_when_empty"),
        min_relevance=_number(table.get("min_relevance", 0.0), "digest.min_relevance"),
        topics=_topics(table.get("topics", ()), "digest.topics"),
        language=_language(table.get("language"), "digest.language") or "en",
    )


def _language(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if value not in LANGUAGES:
        raise _Invalid(where, f"must be one of {', '.join(LANGUAGES)}")
    return str(value)


def digest_language(rules: AlertRules, channel: str) -> str:
    """The digest's language on ``channel`` (``default[2]`` is the ``default`` route's)."""
    spec = rules.channels.get(channel.split("[", 1)[0])
    return (spec.language if spec else None) or rules.digest.language


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(where, "must be a non-empty string")
    return value.strip()


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(where, "must be true or false")
    return value


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise _Invalid(where, "must be a number, 0 or more")
    return float(value)


def _topics(value: Any, where: str) -> frozenset[str]:
    if not isinstance(value, list | tuple | frozenset) or not all(
        isinstance(t, str) and t for t in value
    ):
        raise _Invalid(where, 'must be a list of topic keys such as ["asylum_refugees"]')
    return frozenset(value)


def _channel_names(value: Any, names: set[str], where: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(n, str) for n in value):
        raise _Invalid(where, 'must be a list of channel names such as ["default"]')
    for name in value:
        if name not in names:
            known = ", ".join(sorted(names))
            raise _Invalid(where, f"unknown channel {name!r} (defined: {known})")
    return tuple(dict.fromkeys(value))


def _debounce(table: Mapping[str, Any], base: timedelta, where: str) -> timedelta:
    if "debounce_minutes" not in table:
        return base
    minutes = _number(table["debounce_minutes"], where)
    if minutes > 24 * 60:
        raise _Invalid(where, "must be at most 1440 (one day)")
    return timedelta(minutes=minutes)


# --- deciding ------------------------------------------------------------------------------


def route(rules: AlertRules, kind: str, severity: str, payload: Mapping[str, Any]) -> Routing:
    """Send now, keep for the digest, or skip (with the reason): one alert, one decision."""
    if kind == DIGEST_KIND:
        return Routing("send", severity, rules.digest.channels)
    if kind == WATCH_KIND:
        return _route_watch(rules, severity, payload)
    rule = rules.rule(kind)
    severity = rule.severity or severity
    reason = _skip_reason(rule, payload)
    if reason:
        return Routing("skip", severity, reason=reason)
    if rule.mode == "digest":
        return Routing("digest", severity, rule.channels)
    return Routing("send", severity, rule.channels, rule.debounce)


def _route_watch(rules: AlertRules, severity: str, payload: Mapping[str, Any]) -> Routing:
    watch = rules.watches.get(str(payload.get("watch")))
    if watch is None:
        return Routing("skip", severity, reason="its watch is no longer in the rules")
    action: Action = "digest" if watch.mode == "digest" else "send"
    return Routing(action, severity, watch.channels)


def _skip_reason(rule: KindRule, payload: Mapping[str, Any]) -> str:
    if not rule.enabled:
        return f"{rule.kind} alerts are turned off in the rules"
    relevance = payload.get("relevance")
    if isinstance(relevance, int | float) and relevance < rule.min_relevance:
        return f"relevance {relevance:g} is below the rules' minimum {rule.min_relevance:g}"
    topics = payload_topics(payload)
    if rule.topics and topics is not None and not rule.topics & set(topics):
        return "none of its topics is among the rules' topics of interest"
    return ""


def payload_topics(payload: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The topics an alert payload names, or None when its kind names none."""
    if isinstance(payload.get("topics"), list):
        return tuple(str(t) for t in payload["topics"])
    if isinstance(payload.get("topic"), str):
        return (payload["topic"],)
    return None


def retry_delay(attempts: int, base_seconds: float, cap_seconds: float) -> timedelta:
    """Wait before the next try after ``attempts`` failed ones: doubling from ``base``, capped."""
    exponent = max(attempts - 1, 0)
    seconds = base_seconds * 2 ** min(exponent, 32)  # bounded so the float cannot overflow
    return timedelta(seconds=min(seconds, cap_seconds))


def channel_names(rules: AlertRules) -> Sequence[str]:
    """Every channel the rules define, plus the default route."""
    return (DEFAULT_CHANNEL, *rules.channels)
