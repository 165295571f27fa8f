"""The version decider, as named scenarios; plus figures, churn cap and re-check schedule."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers.diffs import (
    CHANGE_KINDS,
    EXCERPT_CHARS,
    MATERIAL_KINDS,
    Candidate,
    ChurnGuard,
    Decision,
    RecheckSchedule,
    RecheckTier,
    StoredVersion,
    decide,
    is_material,
    parse_number,
    plain_diff,
    recheck_due_after,
    word_diff,
)
from parsers.text import content_hash

TITLE = "Quebec to cut immigration to 40,000 a year"
TEXT = """The CAQ government is in talks with Ottawa in hopes that it can gain control over immigration.

Quebec Immigration Minister Simon Jolin-Barrette continued high-level talks Thursday in Quebec City.

The CAQ wants to cut immigration levels in Quebec to 40,000 immigrants next year, down from about 52,000.

“We were clear in the last campaign about the fact that we will reduce immigration temporarily,” he said.

The province is currently only responsible for choosing economic immigrants, and it wants to gain control over the other categories."""  # noqa: E501
TITRE = "Québec abaisse ses seuils d’immigration"
TEXTE = """Le gouvernement du Québec accueillera 40 000 immigrants permanents l’an prochain, selon le plan déposé mercredi.

La part des immigrants qui parlent français devra atteindre 2,5 fois celle de 2019.

« Nous faisons le choix d’un niveau d’immigration qui correspond à notre capacité d’accueil », a déclaré la ministre.

Les organismes d’accueil demandent plus de ressources pour la francisation des nouveaux arrivants."""  # noqa: E501


def stored(
    title: str = TITLE, text: str = TEXT, topics: tuple[str, ...] = ("levels",)
) -> StoredVersion:
    return StoredVersion(title, text, content_hash(title, text), topics)


def candidate(
    title: str = TITLE,
    text: str = TEXT,
    topics: tuple[str, ...] = ("levels",),
    suspect: str | None = None,
) -> Candidate:
    return Candidate(title, text, topics, suspect)


@dataclass(frozen=True)
class Scenario:
    stored: StoredVersion | None
    candidate: Candidate
    outcome: str
    #: Kinds that must be reported.
    kinds: frozenset[str] = frozenset()
    #: Kinds that must not be reported.
    not_kinds: frozenset[str] = frozenset()
    #: (old_text, new_text) figure pairs expected, exactly.
    figures: tuple[tuple[str, str], ...] | None = None
    check: Callable[[Decision], None] | None = field(default=None, compare=False)


def first_sighting() -> Scenario:
    return Scenario(None, candidate(), "new")


def figure_40000_to_50000() -> Scenario:
    new = TEXT.replace("to 40,000 immigrants", "to 50,000 immigrants")
    return Scenario(
        stored(),
        candidate(text=new),
        "changed",
        frozenset({"figures_changed"}),
        figures=(("40,000", "50,000"),),
    )


def french_figure_with_spaces() -> Scenario:
    new = TEXTE.replace("40 000", "50\u202f000")  # narrow no-break space, as typeset
    return Scenario(
        stored(TITRE, TEXTE),
        candidate(TITRE, new),
        "changed",
        frozenset({"figures_changed"}),
        figures=(("40 000", "50\u202f000"),),
    )


def french_decimal_comma() -> Scenario:
    new = TEXTE.replace("2,5 fois", "3,1 fois")
    return Scenario(
        stored(TITRE, TEXTE),
        candidate(TITRE, new),
        "changed",
        frozenset({"figures_changed"}),
        figures=(("2,5", "3,1"),),
    )


def figure_respelled_only() -> Scenario:
    # 40 000 -> 40,000 -> 40000: the same figure, spelled three ways.
    new = TEXTE.replace("40 000", "40,000")
    return Scenario(stored(TITRE, TEXTE), candidate(TITRE, new), "unchanged")


def whitespace_only() -> Scenario:
    new = "  " + TEXT.replace(". ", ".   ").replace("\n\n", "\n\n\n") + "\n"
    return Scenario(stored(), candidate(text=new), "unchanged")


def comma_only() -> Scenario:
    new = TEXT.replace("immigrants, and it wants", "immigrants and it wants")
    return Scenario(stored(), candidate(text=new), "unchanged")


def case_and_quote_style_only() -> Scenario:
    new = TEXT.replace("Thursday", "thursday").replace("“", "«").replace("”", "»")
    return Scenario(stored(), candidate(title=TITLE.upper(), text=new), "unchanged")


def consent_wall() -> Scenario:
    wall = "Before you continue. We use cookies. Accept all cookies or manage options."
    check = _reason_contains("consent wall")
    return Scenario(
        stored(),
        candidate(text=wall, suspect="consent wall: 'accept cookies'"),
        "suspect",
        check=check,
    )


def shrank_by_more_than_half() -> Scenario:
    new = TEXT.split("\n\n")[0]
    return Scenario(stored(), candidate(text=new), "suspect", check=_reason_contains("shrank"))


def correction_notice_added() -> Scenario:
    new = TEXT + "\n\nCorrection: An earlier version of this story misstated the minister's title."
    return Scenario(stored(), candidate(text=new), "changed", frozenset({"correction_notice"}))


def french_correction_notice_added() -> Scenario:
    new = TEXTE + "\n\nRectificatif : une version précédente de ce texte indiquait mardi."
    return Scenario(
        stored(TITRE, TEXTE), candidate(TITRE, new), "changed", frozenset({"correction_notice"})
    )


def correction_sentence_added() -> Scenario:
    new = TEXT + "\n\nAn earlier version of this article gave the wrong date for the meeting."
    return Scenario(stored(), candidate(text=new), "changed", frozenset({"correction_notice"}))


def existing_notice_restamped() -> Scenario:
    old = TEXTE + "\n\nMise à jour le 10 janvier à 14 h 32 : ajout de réactions."
    new = TEXTE + "\n\nMise à jour le 11 janvier à 9 h 05 : ajout de réactions."
    return Scenario(
        stored(TITRE, old),
        candidate(TITRE, new),
        "changed",
        not_kinds=frozenset({"correction_notice", "figures_changed"}),
    )


def headline_changed() -> Scenario:
    new_title = "Quebec wants full control over immigration, minister says"
    return Scenario(
        stored(),
        candidate(title=new_title),
        "changed",
        frozenset({"headline_changed"}),
        not_kinds=frozenset({"body_rewritten"}),
    )


def quote_removed() -> Scenario:
    paragraphs = TEXT.split("\n\n")
    new = "\n\n".join(p for p in paragraphs if "We were clear" not in p)
    return Scenario(
        stored(),
        candidate(text=new),
        "changed",
        frozenset({"quote_removed"}),
        not_kinds=frozenset({"quote_added"}),
    )


def french_quote_added() -> Scenario:
    new = TEXTE + "\n\n« Ce plan ne répond pas aux besoins des régions », a réagi le porte-parole."
    return Scenario(
        stored(TITRE, TEXTE),
        candidate(TITRE, new),
        "changed",
        frozenset({"quote_added"}),
        not_kinds=frozenset({"quote_removed"}),
    )


def figure_inside_quote_is_a_figure_not_a_quote() -> Scenario:
    old = TEXT + '\n\n"We will take in 40,000 people next year," the minister said.'
    new = TEXT + '\n\n"We will take in 45,000 people next year," the minister said.'
    return Scenario(
        stored(text=old),
        candidate(text=new),
        "changed",
        frozenset({"figures_changed"}),
        not_kinds=frozenset({"quote_added", "quote_removed"}),
    )


def topic_added() -> Scenario:
    new = TEXT + "\n\nThe talks also covered asylum seekers arriving at Roxham Road."
    return Scenario(
        stored(),
        candidate(text=new, topics=("levels", "asylum")),
        "changed",
        frozenset({"topic_added"}),
        not_kinds=frozenset({"topic_removed"}),
    )


def topic_removed() -> Scenario:
    new = TEXT.replace("high-level talks Thursday", "talks")
    return Scenario(
        stored(topics=("levels", "federal-provincial")),
        candidate(text=new, topics=("levels",)),
        "changed",
        frozenset({"topic_removed"}),
    )


def body_rewritten() -> Scenario:
    new = (
        "Montreal's shelters say they are running out of beds as more asylum claimants arrive "
        "by air. Workers describe families sleeping in waiting rooms while they wait for a "
        "place, and say the provincial housing program has a months-long backlog. The city "
        "has asked both levels of government for emergency funding, and a decision on the "
        "request is expected before the end of the month, officials said on Friday."
    )
    return Scenario(stored(), candidate(text=new), "changed", frozenset({"body_rewritten"}))


def clock_times_are_not_figures() -> Scenario:
    old = TEXT + "\n\nUpdated at 10:32 a.m."
    new = TEXT + "\n\nUpdated at 11:05 a.m."
    return Scenario(
        stored(text=old), candidate(text=new), "changed", not_kinds=frozenset({"figures_changed"})
    )


def _reason_contains(fragment: str) -> Callable[[Decision], None]:
    def check(decision: Decision) -> None:
        assert decision.reason is not None and fragment in decision.reason

    return check


SCENARIOS = [
    first_sighting, figure_40000_to_50000, french_figure_with_spaces, french_decimal_comma,
    figure_respelled_only, whitespace_only, comma_only, case_and_quote_style_only, consent_wall,
    shrank_by_more_than_half, correction_notice_added, french_correction_notice_added,
    correction_sentence_added, existing_notice_restamped, headline_changed, quote_removed,
    french_quote_added, figure_inside_quote_is_a_figure_not_a_quote, topic_added, topic_removed,
    body_rewritten, clock_times_are_not_figures,
]  # fmt: skip


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__)
def test_decide(scenario: Callable[[], Scenario]) -> None:
    case = scenario()
    decision = decide(case.candidate, case.stored)
    assert decision.outcome == case.outcome, decision
    assert decision.content_hash == content_hash(case.candidate.title, case.candidate.text)
    assert case.kinds <= set(decision.change_kinds), decision.change_kinds
    assert not case.not_kinds & set(decision.change_kinds), decision.change_kinds
    if case.figures is not None:
        assert tuple((c.old_text, c.new_text) for c in decision.figure_changes) == case.figures
    if case.check:
        case.check(decision)
    if decision.outcome == "changed":
        assert decision.diff is not None and len(decision.diff.excerpt) <= EXCERPT_CHARS
        assert list(decision.change_kinds) == [
            k for k in CHANGE_KINDS if k in decision.change_kinds
        ]
    else:
        assert decision.change_kinds == () and decision.diff is None


def test_figure_change_values_and_diff_summary() -> None:
    new = TEXT.replace("to 40,000 immigrants", "to 50,000 immigrants")
    decision = decide(candidate(text=new), stored())
    (change,) = decision.figure_changes
    assert (change.old, change.new) == (Decimal(40000), Decimal(50000))
    assert str(change) == "40,000 → 50,000"
    assert decision.diff is not None
    assert (decision.diff.words_added, decision.diff.words_removed) == (1, 1)
    assert "[-40,000-] {+50,000+}" in decision.diff.excerpt
    assert 0.9 < decision.diff.ratio < 1
    assert is_material(decision.change_kinds)


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("40,000", "40000"),
        ("40 000", "40000"),
        ("40\u00a0000", "40000"),
        ("40\u202f000", "40000"),
        ("40000", "40000"),
        ("1,000,000.50", "1000000.5"),
        ("2,5", "2.5"),
        ("2.5", "2.5"),
        ("40 000,75", "40000.75"),
        ("365", "365"),
        ("abc", None),
    ],
)
def test_parse_number(written: str, value: str | None) -> None:
    assert parse_number(written) == (Decimal(value) if value is not None else None)


def test_is_material() -> None:
    assert set(CHANGE_KINDS) - {"body_rewritten"} == MATERIAL_KINDS
    assert not is_material(())
    assert not is_material(("body_rewritten",))
    assert is_material(("body_rewritten", "quote_removed"))
    assert not is_material(("quote_removed",), material=frozenset({"headline_changed"}))


def test_excerpt_stays_short_on_many_hunks() -> None:
    words = TEXT.split(" ")
    new = " ".join(w.upper() + "x" if i % 4 == 0 else w for i, w in enumerate(words))
    decision = decide(candidate(text=new), stored())
    assert decision.diff is not None
    assert 0 < len(decision.diff.excerpt) <= EXCERPT_CHARS


def test_ten_kilobyte_articles_diff_to_the_point() -> None:
    long_text = "\n\n".join(
        f"{TEXT} Paragraph {i} mentions {i * 1000:,} people." for i in range(18)
    )
    assert len(long_text) > 10_000
    rewritten = " ".join(reversed(long_text.split(" ")))
    edited = long_text.replace("52,000", "53,000").replace("Thursday", "Friday")
    figure_edit = decide(candidate(text=edited), stored(text=long_text))
    rewrite = decide(candidate(text=rewritten), stored(text=long_text))
    assert "figures_changed" in figure_edit.change_kinds
    assert {str(c) for c in figure_edit.figure_changes} == {"52,000 → 53,000"}
    assert "body_rewritten" in rewrite.change_kinds


_PROSE = st.text(
    alphabet=st.sampled_from(list("abcdéèà ÉQ0123456789,.;:!?«»“”\"'\n -")), max_size=300
)


@settings(max_examples=150, deadline=None)
@given(_PROSE, st.sampled_from([" ", "  ", "\n\n", ", ", " ; "]))
def test_spacing_and_punctuation_never_make_a_version(text: str, separator: str) -> None:
    respaced = separator.join(text.split())
    assert decide(candidate(text=respaced), stored(text=text)).outcome == "unchanged"


@settings(max_examples=150, deadline=None)
@given(_PROSE, _PROSE, st.text(max_size=30), st.text(max_size=30))
def test_decide_handles_any_text(old: str, new: str, old_title: str, new_title: str) -> None:
    decision = decide(candidate(title=new_title, text=new), stored(title=old_title, text=old))
    assert decision.outcome in ("changed", "unchanged", "suspect")
    if decision.diff is not None:
        assert len(decision.diff.excerpt) <= EXCERPT_CHARS
        assert 0.0 <= decision.diff.ratio <= 1.0


# --- churn cap -------------------------------------------------------------------------------

NOW = datetime(2024, 6, 14, 12, 0, tzinfo=UTC)


def test_churn_guard_counts_versions_in_window() -> None:
    guard = ChurnGuard(max_versions=3, window=timedelta(hours=6))
    times = [NOW - timedelta(hours=h) for h in (0.5, 1, 2, 7, 30)]
    assert guard.recent(times, NOW) == 3
    assert guard.allows(2)
    assert not guard.allows(3)
    assert guard.allows(3, ("correction_notice",))
    assert not guard.allows(3, ("figures_changed",))


def test_churn_guard_turns_churn_into_suspect() -> None:
    guard = ChurnGuard(max_versions=2)
    new = TEXT.replace("to 40,000 immigrants", "to 50,000 immigrants")
    changed = decide(candidate(text=new), stored())
    capped = guard.apply(changed, versions_in_window=2)
    assert capped.outcome == "suspect" and capped.reason and "churn" in capped.reason
    assert guard.apply(changed, versions_in_window=1) is changed
    headline = decide(candidate(title="A new headline entirely"), stored())
    assert guard.apply(headline, versions_in_window=50).outcome == "changed"
    unchanged = decide(candidate(), stored())
    assert guard.apply(unchanged, versions_in_window=50) is unchanged


# --- re-check schedule ------------------------------------------------------------------------

FIRST_SEEN = datetime(2024, 6, 14, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("age", "gap"),
    [
        (timedelta(0), timedelta(minutes=15)),
        (timedelta(hours=2, minutes=59), timedelta(minutes=15)),
        (timedelta(hours=3), timedelta(hours=1)),
        (timedelta(hours=23), timedelta(hours=1)),
        (timedelta(hours=24), timedelta(hours=6)),
        (timedelta(days=6), timedelta(hours=6)),
    ],
)
def test_recheck_thins_out_with_age(age: timedelta, gap: timedelta) -> None:
    now = FIRST_SEEN + age
    assert recheck_due_after(FIRST_SEEN, now, RecheckSchedule()) == now + gap


def test_recheck_stops_after_a_week_and_lands_on_the_last_step() -> None:
    end = FIRST_SEEN + timedelta(days=7)
    assert recheck_due_after(FIRST_SEEN, end - timedelta(hours=1)) == end
    assert recheck_due_after(FIRST_SEEN, end) is None
    assert recheck_due_after(FIRST_SEEN, end + timedelta(days=30)) is None


def test_recheck_tolerates_clock_skew() -> None:
    now = FIRST_SEEN - timedelta(minutes=5)
    assert recheck_due_after(FIRST_SEEN, now) == now + timedelta(minutes=15)


def test_recheck_schedule_is_configurable_and_validated() -> None:
    short = RecheckSchedule((RecheckTier(timedelta(hours=1), timedelta(minutes=5)),))
    assert recheck_due_after(FIRST_SEEN, FIRST_SEEN, short) == FIRST_SEEN + timedelta(minutes=5)
    assert recheck_due_after(FIRST_SEEN, FIRST_SEEN + timedelta(hours=1), short) is None
    with pytest.raises(ValueError):
        RecheckSchedule(
            (
                RecheckTier(timedelta(hours=2), timedelta(hours=1)),
                RecheckTier(timedelta(hours=1), timedelta(hours=1)),
            )
        )
    with pytest.raises(ValueError):
        RecheckSchedule((RecheckTier(timedelta(hours=1), timedelta(0)),))


def test_word_diff_keeps_paragraph_breaks_and_sees_a_split_paragraph() -> None:
    old = "One two three.\n\nFour five."
    split = "One two\n\nthree.\n\nFour five."

    assert plain_diff(word_diff(old, old)) == old
    assert word_diff(old, split) == [
        ("equal", "One two"),
        ("insert", "\n\n"),
        ("equal", "three.\n\nFour five."),
    ]
    assert plain_diff(word_diff(old, split)) == "One two{+\n\n+}three.\n\nFour five."
