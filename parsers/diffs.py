"""Article versions: is a fresh extraction new, changed, unchanged or suspect, and what changed?

Everything here is pure. ``decide`` compares one candidate with the stored current version;
``ChurnGuard`` caps versions for pages whose text churns; ``recheck_due_after`` says when to
look at an article again.

Pseudocode of a re-check, as the flows use it::

    decision = decide(candidate, stored)              # new / changed / unchanged / suspect
    decision = churn_guard.apply(decision, versions_stored_in_window)
    if decision.outcome in ("new", "changed"): store a version; alert if is_material(kinds)
    next_check_at = recheck_due_after(first_seen_at, now, schedule)
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from difflib import SequenceMatcher
from typing import Literal

from parsers.inert import shorten
from parsers.text import content_hash, fold, normalise_for_hash

Outcome = Literal["new", "changed", "unchanged", "suspect"]

#: Every change kind ``decide`` can report.
CHANGE_KINDS = (
    "headline_changed", "figures_changed", "quote_added", "quote_removed",
    "correction_notice", "topic_added", "topic_removed", "body_rewritten",
)  # fmt: skip
#: Change kinds worth an alert by default. A rewrite alone is not: its material parts
#: (figures, quotes, headline) are reported as their own kinds.
MATERIAL_KINDS = frozenset(CHANGE_KINDS) - {"body_rewritten"}
#: A candidate with fewer than this share of the stored version's words is suspect: a
#: paywall, consent wall or broken template, not an edit.
SHRINK_LIMIT = 0.5
#: Share of words added or removed above which the body counts as rewritten.
REWRITE_SHARE = 0.5
#: Quotes shorter than this (in words) are scare quotes or titles, not someone's words.
MIN_QUOTE_WORDS = 3
#: Longest ``DiffSummary.excerpt``.
EXCERPT_CHARS = 400

_SPACES = "[ \u00a0\u202f]"  # space, no-break space, narrow no-break space (French grouping)
# "40,000", "40 000", "1,000,000.5", "40 000,5": thousands grouped by commas or spaces.
_GROUPED = rf"\d{{1,3}}(?:(?:,|{_SPACES})\d{{3}}(?!\d))+(?:[.,]\d+)?"
_PLAIN = r"\d+(?:[.,]\d+)?"
# Clock times and days of the month churn with live updates ("Updated Jan. 10, 10:32") and
# are not policy figures: they are kept as words. Years stay figures (a target year moving is
# news). English months are capitalised, French ones are not, which keeps "may 5" a figure.
_EN_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December"
    "|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec"
)
_FR_MONTHS = "janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre"
_FR_MONTHS += "|novembre|décembre|decembre"
_DATE = (
    rf"(?:{_EN_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?!\d)"
    rf"|\d{{1,2}}(?:er|st|nd|rd|th)?\s+(?:{_FR_MONTHS}|{_EN_MONTHS})\b"
)
_TIME = r"\d{1,2}(?::\d{2}|\s?h\s?\d{2})(?!\d)"
_TOKEN = re.compile(
    rf"(?P<date>{_DATE})|(?P<time>{_TIME})|(?P<number>{_GROUPED}|{_PLAIN})|[^\s\d]+"
)
_NUMBER_PARTS = re.compile(rf"^(?P<int>\d+(?:(?:,|{_SPACES})\d{{3}})*)(?:[.,](?P<frac>\d+))?$")
_DIGITS = re.compile(r"\d+(?: \d+)*")
_QUOTE = re.compile(r"“([^”\n]+)”|«([^»\n]+)»|\"([^\"\n]+)\"")
# Correction notices open a paragraph with a label and a colon or dash, in English or
# French (matched on folded text: lower case, no accents).
_NOTICE_LABEL = re.compile(
    r"^[\s*(\[]*(correction|corrected|editor['’]?s note|clarification|mise a jour|precision"
    r"|rectificatif|note de la redaction)\b[^\n]{0,60}?[:–—]"
)
# ... or say so in a sentence anywhere in a paragraph.
_NOTICE_SENTENCE = re.compile(
    r"(?:an earlier|a previous) version of this (?:story|article|report)"
    r"|this (?:story|article) (?:has been|was) (?:corrected|updated to correct)"
    r"|une version (?:precedente|anterieure) de (?:cet article|ce texte)"
    r"|(?:cet article|ce texte) a ete (?:corrige|modifie)"
)


@dataclass(frozen=True)
class StoredVersion:
    """The article's current version, as read from storage."""

    #: Headline of that version.
    title: str
    #: Main text of that version.
    text: str
    #: ``content_hash(title, text)`` as stored.
    content_hash: str
    #: Topic keys tagged on that version.
    topics: tuple[str, ...]


@dataclass(frozen=True)
class Candidate:
    """A fresh extraction of the article, tagged but not yet stored."""

    #: Headline as extracted now.
    title: str
    #: Main text as extracted now.
    text: str
    #: Topic keys tagged on this extraction.
    topics: tuple[str, ...]
    #: Why the extractor distrusts this page (consent wall, paywall, stub), if it does.
    suspect_reason: str | None


@dataclass(frozen=True)
class NumberChange:
    """One figure that changed value, e.g. ``40,000 → 50,000``."""

    #: Old value, normalised (``40,000``, ``40 000`` and ``40000`` are all 40000).
    old: Decimal
    #: New value, normalised.
    new: Decimal
    #: Old figure as written.
    old_text: str
    #: New figure as written.
    new_text: str

    def __str__(self) -> str:
        return f"{self.old_text} → {self.new_text}"


@dataclass(frozen=True)
class DiffSummary:
    """Word-level size and sample of the difference between two versions."""

    #: Words in the new version that the old one did not have.
    words_added: int
    #: Words of the old version that the new one dropped.
    words_removed: int
    #: Similarity of the two word sequences, from 0 (nothing shared) to 1 (identical).
    ratio: float
    #: A few ``[-old-]{+new+}`` hunks with context, at most ``EXCERPT_CHARS`` long.
    excerpt: str


@dataclass(frozen=True)
class Decision:
    """What to do with a candidate, and what changed."""

    #: new (first version), changed (store a version), unchanged, or suspect (record only).
    outcome: Outcome
    #: ``content_hash`` of the candidate.
    content_hash: str
    #: Kinds of change found, in ``CHANGE_KINDS`` order; empty unless ``changed``.
    change_kinds: tuple[str, ...] = ()
    #: Word-level diff against the stored version, when ``changed``.
    diff: DiffSummary | None = None
    #: Figures whose value changed, when ``changed``.
    figure_changes: tuple[NumberChange, ...] = ()
    #: Why the outcome is ``suspect``.
    reason: str | None = None


@dataclass(frozen=True)
class _Token:
    #: The word or figure as written.
    text: str
    #: What it is compared by: folded word, or ``#`` and the figure's value.
    key: str
    #: The figure's value, for figures.
    number: Decimal | None


def is_material(kinds: Iterable[str], material: frozenset[str] = MATERIAL_KINDS) -> bool:
    """True when any of ``kinds`` is worth an alert."""
    return any(kind in material for kind in kinds)


def decide(candidate: Candidate, stored: StoredVersion | None) -> Decision:
    """Compare a fresh extraction with the stored current version.

    - suspect: the extractor flagged the page, or the text shrank below ``SHRINK_LIMIT`` of
      the stored one. Recorded, but never a version: a paywall must not "delete" an article.
    - new: nothing stored yet.
    - unchanged: same normalised title and text (spacing, punctuation and case do not count).
    - changed: anything else, with its change kinds, figures and a diff summary.
    """
    digest = content_hash(candidate.title, candidate.text)
    if candidate.suspect_reason:
        return Decision("suspect", digest, reason=candidate.suspect_reason)
    if stored is None:
        return Decision("new", digest)
    # The recomputed hash also covers versions stored before a change in normalisation.
    if digest in (stored.content_hash, content_hash(stored.title, stored.text)):
        return Decision("unchanged", digest)
    old, new = _tokens(stored.text), _tokens(candidate.text)
    if old and len(new) < SHRINK_LIMIT * len(old):
        reason = f"extraction shrank from {len(old)} to {len(new)} words"
        return Decision("suspect", digest, reason=reason)
    matcher = SequenceMatcher(None, [t.key for t in old], [t.key for t in new], autojunk=False)
    opcodes = matcher.get_opcodes()
    figures = _figure_changes(old, new, opcodes)
    summary = _summary(old, new, opcodes, matcher.ratio())
    kinds = _change_kinds(stored, candidate, figures, summary)
    return Decision("changed", digest, kinds, summary, figures)


def _change_kinds(
    stored: StoredVersion,
    candidate: Candidate,
    figures: Sequence[NumberChange],
    summary: DiffSummary,
) -> tuple[str, ...]:
    quotes_added, quotes_removed = _quote_changes(stored.text, candidate.text)
    found = {
        "headline_changed": normalise_for_hash(stored.title) != normalise_for_hash(candidate.title),
        "figures_changed": bool(figures),
        "quote_added": bool(quotes_added),
        "quote_removed": bool(quotes_removed),
        "correction_notice": _has_new_notice(stored.text, candidate.text),
        "topic_added": bool(set(candidate.topics) - set(stored.topics)),
        "topic_removed": bool(set(stored.topics) - set(candidate.topics)),
        "body_rewritten": 1 - summary.ratio >= REWRITE_SHARE,
    }
    return tuple(kind for kind in CHANGE_KINDS if found[kind])


# --- words and figures ----------------------------------------------------------------------


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    for match in _TOKEN.finditer(text):
        written = match.group()
        number = parse_number(written) if match.group("number") else None
        key = f"#{number.normalize()}" if number is not None else normalise_for_hash(written)
        if key:  # lone punctuation is not a word
            tokens.append(_Token(written, key, number))
    return tokens


def parse_number(written: str) -> Decimal | None:
    """The value of a figure as English or French write it, or None.

    ``40,000``, ``40 000`` (with any kind of space) and ``40000`` are 40000; ``2,5`` and
    ``2.5`` are 2.5. A comma followed by exactly three digits groups thousands, so the rare
    French ``3,500`` (three and a half) reads as 3500.
    """
    match = _NUMBER_PARTS.match(written.strip())
    if not match:
        return None
    integer = re.sub(rf"(?:,|{_SPACES})", "", match.group("int"))
    fraction = match.group("frac")
    try:
        return Decimal(f"{integer}.{fraction}" if fraction else integer)
    except InvalidOperation:
        return None


def _figure_changes(
    old: Sequence[_Token], new: Sequence[_Token], opcodes: Iterable[tuple[str, int, int, int, int]]
) -> tuple[NumberChange, ...]:
    """Figures replaced in place: the n-th figure of a replaced run against the n-th new one.

    Pairing within a replaced run keeps the context: in "raise the target from 40,000 to
    50,000 immigrants" only the figures that were rewritten are paired.
    """
    changes: list[NumberChange] = []
    for tag, i1, i2, j1, j2 in opcodes:
        if tag != "replace":
            continue
        before = [t for t in old[i1:i2] if t.number is not None]
        after = [t for t in new[j1:j2] if t.number is not None]
        for was, now in zip(before, after, strict=False):
            if was.number is not None and now.number is not None and was.number != now.number:
                changes.append(NumberChange(was.number, now.number, was.text, now.text))
    return tuple(changes)


def _summary(
    old: Sequence[_Token],
    new: Sequence[_Token],
    opcodes: Sequence[tuple[str, int, int, int, int]],
    ratio: float,
) -> DiffSummary:
    added = sum(j2 - j1 for tag, _, _, j1, j2 in opcodes if tag in ("replace", "insert"))
    removed = sum(i2 - i1 for tag, i1, i2, _, _ in opcodes if tag in ("replace", "delete"))
    return DiffSummary(added, removed, round(ratio, 4), _excerpt(old, new, opcodes))


def _excerpt(
    old: Sequence[_Token], new: Sequence[_Token], opcodes: Sequence[tuple[str, int, int, int, int]]
) -> str:
    """``…context [-removed-]{+added+} context…`` hunks, as many as fit in EXCERPT_CHARS."""
    hunks: list[str] = []
    length = 0
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            continue
        hunk = _hunk(old, new, i1, i2, j1, j2)
        if hunks and length + len(hunk) + 3 > EXCERPT_CHARS:
            break
        hunks.append(hunk)
        length += len(hunk) + 3
    excerpt = " … ".join(hunks)
    return excerpt if len(excerpt) <= EXCERPT_CHARS else excerpt[: EXCERPT_CHARS - 1] + "…"


def _hunk(old: Sequence[_Token], new: Sequence[_Token], i1: int, i2: int, j1: int, j2: int) -> str:
    context = 3
    before = _words(old[max(0, i1 - context) : i1])
    after = _words(old[i2 : i2 + context])
    parts = [before] if before else []
    if i2 > i1:
        parts.append(f"[-{shorten(_words(old[i1:i2]), 120)}-]")
    if j2 > j1:
        parts.append(f"{{+{shorten(_words(new[j1:j2]), 120)}+}}")
    if after:
        parts.append(after)
    return " ".join(parts)


def _words(tokens: Sequence[_Token]) -> str:
    return " ".join(t.text for t in tokens)


# --- quotes and notices ---------------------------------------------------------------------


def _comparable(text: str) -> str:
    # Figures are masked: a figure changed inside a quote is reported once, as a figure.
    return _DIGITS.sub("#", normalise_for_hash(text))


def _quotes(text: str) -> set[str]:
    found: set[str] = set()
    for match in _QUOTE.finditer(text):
        quoted = _comparable(next(g for g in match.groups() if g is not None))
        if len(quoted.split()) >= MIN_QUOTE_WORDS:
            found.add(quoted)
    return found


def _quote_changes(old_text: str, new_text: str) -> tuple[set[str], set[str]]:
    """Quotes whose words appear in one text and nowhere in the other.

    Looking the words up in the whole other text, not among its quotes, means switching
    from "straight" to « French » quote marks, or reflowing a paragraph, changes nothing.
    """
    old_words = f" {_comparable(old_text)} "
    new_words = f" {_comparable(new_text)} "
    added = {q for q in _quotes(new_text) if f" {q} " not in old_words}
    removed = {q for q in _quotes(old_text) if f" {q} " not in new_words}
    return added, removed


def _notices(text: str) -> Counter[str]:
    """How many correction notices of each kind ``text`` carries."""
    found: Counter[str] = Counter()
    for paragraph in fold(text).splitlines():
        if label := _NOTICE_LABEL.match(paragraph):
            found[label.group(1).replace("’", "'")] += 1
        elif sentence := _NOTICE_SENTENCE.search(paragraph):
            found[sentence.group()] += 1
    return found


def _has_new_notice(old_text: str, new_text: str) -> bool:
    # Counted by kind, so a notice that was already there and only had its time stamp
    # updated ("Mise à jour à 14 h 32" -> "à 15 h 05") is not new.
    old, new = _notices(old_text), _notices(new_text)
    return any(count > old[kind] for kind, count in new.items())


# --- churn ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChurnGuard:
    """Caps how many versions one article may get within a sliding window.

    Some pages keep a clock, a view counter or a rotating "most read" box inside what
    extraction keeps, so their hash changes on every fetch. lemon24/reader caps such
    hash-only updates (``HASH_CHANGED_LIMIT``); Vigie caps versions per article: once
    ``max_versions`` versions were stored within ``window``, further changes stop counting,
    unless they carry a kind in ``always_count`` (a new headline or correction is never churn).

    The caller counts the versions stored in the window (``recent`` does it for a list of
    times; one SQL ``count`` does it in the database) and passes the decision to ``apply``.
    """

    #: Versions an article may get within ``window`` before further changes stop counting.
    max_versions: int = 6
    #: How far back versions are counted.
    window: timedelta = timedelta(hours=24)
    #: Change kinds that count as a version even past the cap.
    always_count: frozenset[str] = frozenset({"headline_changed", "correction_notice"})

    def recent(self, version_times: Iterable[datetime], now: datetime) -> int:
        """How many of ``version_times`` fall within the window ending at ``now``."""
        start = now - self.window
        return sum(1 for moment in version_times if start < moment <= now)

    def allows(self, versions_in_window: int, kinds: Iterable[str] = ()) -> bool:
        """Whether one more version counts, given the versions already in the window."""
        return versions_in_window < self.max_versions or any(
            kind in self.always_count for kind in kinds
        )

    def apply(self, decision: Decision, versions_in_window: int) -> Decision:
        """``decision``, turned suspect (recorded, not a version) when it is churn past the cap."""
        if decision.outcome != "changed" or self.allows(versions_in_window, decision.change_kinds):
            return decision
        reason = f"churn: {versions_in_window} versions in the last {self.window}"
        return replace(decision, outcome="suspect", reason=reason)


# --- re-check schedule ----------------------------------------------------------------------


@dataclass(frozen=True)
class RecheckTier:
    """One step of the re-check schedule."""

    #: Age (time since first seen) up to which this step applies.
    until_age: timedelta
    #: Time between two re-checks during this step.
    every: timedelta


@dataclass(frozen=True)
class RecheckSchedule:
    """How often an article is fetched again, thinning out as it ages; then never again.

    The default re-checks every 15 minutes for 3 hours (when most corrections and headline
    changes happen), hourly to a day, every 6 hours to a week, and then stops.
    """

    #: Steps in increasing ``until_age``; past the last one, re-checks stop.
    tiers: tuple[RecheckTier, ...] = (
        RecheckTier(timedelta(hours=3), timedelta(minutes=15)),
        RecheckTier(timedelta(hours=24), timedelta(hours=1)),
        RecheckTier(timedelta(days=7), timedelta(hours=6)),
    )

    def __post_init__(self) -> None:
        ages = [tier.until_age for tier in self.tiers]
        if ages != sorted(set(ages)) or any(tier.every <= timedelta(0) for tier in self.tiers):
            raise ValueError("re-check tiers need increasing ages and positive intervals")


def recheck_due_after(
    first_seen_at: datetime, now: datetime, schedule: RecheckSchedule | None = None
) -> datetime | None:
    """When to re-check an article first seen at ``first_seen_at``, after a check at ``now``.

    None when the article is past the schedule's last step: it is no longer re-checked.
    The next check never lands past the end of the schedule, so the last one happens on
    time. Both datetimes must be aware (UTC); a ``now`` before ``first_seen_at`` (clock skew)
    counts as age zero.
    """
    tiers = (schedule or RecheckSchedule()).tiers
    age = max(now - first_seen_at, timedelta(0))
    tier = next((t for t in tiers if age < t.until_age), None)
    if tier is None:
        return None
    return min(now + tier.every, first_seen_at + tiers[-1].until_age)


# --- full word diff, for people ---------------------------------------------------------------

#: One run of a word diff: ``equal``, ``delete`` or ``insert``, and its text.
DiffRun = tuple[Literal["equal", "delete", "insert"], str]


def word_diff(old: str, new: str) -> list[DiffRun]:
    """The whole word-level difference between two texts, as runs a terminal can colour.

    A paragraph break is a word of its own (``PARAGRAPH``): it survives in the runs, so the
    diff reads in the article's paragraphs, and a paragraph split or merged is a change.
    """
    old_words, new_words = _paragraph_words(old), _paragraph_words(new)
    matcher = SequenceMatcher(None, old_words, new_words, autojunk=False)
    runs: list[DiffRun] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            runs.append(("equal", _glue(old_words[i1:i2])))
            continue
        if i2 > i1:
            runs.append(("delete", _glue(old_words[i1:i2])))
        if j2 > j1:
            runs.append(("insert", _glue(new_words[j1:j2])))
    return runs


#: How a paragraph break reads in a diff (the way stored texts separate paragraphs).
PARAGRAPH = "\n\n"
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def _paragraph_words(text: str) -> list[str]:
    words: list[str] = []
    for paragraph in _PARAGRAPH_BREAK.split(text):
        if paragraph.split():
            words.extend([PARAGRAPH] if words else [])
            words.extend(paragraph.split())
    return words


def _glue(words: Sequence[str]) -> str:
    text = ""
    for word in words:
        text += " " + word if spaced(text, word) else word
    return text


def spaced(before: str, after: str) -> bool:
    """Whether a space goes between two pieces of a diff: between words, never around a
    paragraph break."""
    return bool(before) and not before.endswith(PARAGRAPH) and not after.startswith(PARAGRAPH)


def plain_diff(runs: Sequence[DiffRun]) -> str:
    """Runs as text with ``[-removed-]`` and ``{+added+}`` marks (for pipes and files); the
    paragraphs stay paragraphs."""
    marks = {"equal": "{}", "delete": "[-{}-]", "insert": "{{+{}+}}"}
    text, before = "", ""
    for op, words in runs:
        text += (" " if spaced(before, words) else "") + marks[op].format(words)
        before = words
    return text
