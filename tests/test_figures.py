"""Figures: numbers of people, percentages and money, in English and French."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parsers.figures import Figure, find_figures


@dataclass(frozen=True)
class Case:
    text: str
    #: The figure's text, value, unit, scope and topic.
    figure: str
    value: float
    unit: str
    scope: str | None = None
    topic: str | None = None


CASES = {
    "en per year": Case(
        "Quebec will take 40,000 immigrants per year.",
        "40,000 immigrants per year", 40_000, "people", "per_year", "immigration_levels",
    ),
    "fr par année": Case(
        "Québec accueillera 40 000 immigrants par année.",
        "40 000 immigrants par année", 40_000, "people", "per_year", "immigration_levels",
    ),
    "fr narrow no-break space": Case(
        "Québec accueillera 40\u202f000 immigrants par an.",
        "40\u202f000 immigrants par an", 40_000, "people", "per_year", "immigration_levels",
    ),
    "a target's threshold before a bare number (fr)": Case(
        "Le gouvernement fixe un seuil d'immigration de 50 000 par année.",
        "50 000 par année", 50_000, "people", "per_year", "immigration_levels",
    ),
    "a target of a bare number": Case(
        "Quebec's immigration plan sets a target of 45,000 a year.",
        "45,000 a year", 45_000, "people", "per_year", "immigration_levels",
    ),
    "admissions per year (fr)": Case(
        "Le Québec prévoit 50 000 admissions par année.",
        "50 000 admissions par année", 50_000, "people", "per_year", "immigration_levels",
    ),
    "bare count with a cue": Case(
        "Last year the immigration ministry admitted 52,000.",
        "52,000", 52_000, "count", None, "immigration_levels",
    ),
    "range": Case(
        "Quebec plans between 50,000 and 60,000 immigrants in 2025.",
        "between 50,000 and 60,000 immigrants", 55_000, "people", None, "immigration_levels",
    ),
    "fr range": Case(
        "Québec prévoit entre 45 000 et 50 000 immigrants.",
        "entre 45 000 et 50 000 immigrants", 47_500, "people", None, "immigration_levels",
    ),
    "per cent": Case(
        "The CAQ wants to cut immigration levels by 20 per cent.",
        "20 per cent", 20, "percent", None, "immigration_levels",
    ),
    "fr percent sign": Case(
        "Les seuils baisseront de 20 % l'an prochain.",
        "20 %", 20, "percent", None, "immigration_levels",
    ),
    "dollars billion": Case(
        "Quebec wants $1 billion for asylum seekers.",
        "$1 billion", 1e9, "CAD", None, "funding_costs",
    ),
    "fr milliard": Case(
        "Québec réclame 1 milliard $ pour l'accueil.",
        "1 milliard $", 1e9, "CAD", None, "funding_costs",
    ),
    "fr millions de dollars": Case(
        "Un budget de 2,5 millions de dollars pour la francisation.",
        "2,5 millions de dollars", 2.5e6, "CAD", None, "funding_costs",
    ),
    "fr M$": Case("Ottawa versera 750 M$ à Québec.", "750 M$", 7.5e8, "CAD", None, "funding_costs"),
    "hyphenated billion": Case(
        "A C$1.5-billion border plan.", "C$1.5-billion", 1.5e9, "CAD", None, "funding_costs"
    ),
    "us dollars": Case("It cost US$2 million.", "US$2 million", 2e6, "USD", None, "funding_costs"),
    "asylum seekers": Case(
        "Près de 7 000 demandeurs d'asile sont hébergés à Montréal.",
        "7 000 demandeurs d'asile", 7_000, "people", None, "asylum_refugees",
    ),
    "study permits": Case(
        "IRCC will issue 360,000 study permits.",
        "360,000 study permits", 360_000, "permits", None, "temporary_residents",
    ),
    "adjective before the noun": Case(
        "Canada will admit 395,000 new permanent residents.",
        "395,000 new permanent residents", 395_000, "people", None, "immigration_levels",
    ),
    "annual before": Case(
        "an annual target of 50,000 immigrants",
        "50,000 immigrants", 50_000, "people", "per_year", "immigration_levels",
    ),
    "thousand word": Case(
        "Ottawa admitted 40 thousand refugees.",
        "40 thousand refugees", 40_000, "people", None, "asylum_refugees",
    ),
}  # fmt: skip


def _only(text: str) -> Figure:
    (figure,) = find_figures(text)
    return figure


@pytest.mark.parametrize("name", sorted(CASES))
def test_figure_formats(name: str) -> None:
    case = CASES[name]
    figure = _only(case.text)
    assert case.text[figure.start : figure.end] == figure.text == case.figure
    assert (figure.value, figure.unit, figure.scope, figure.topic) == (
        case.value,
        case.unit,
        case.scope,
        case.topic,
    )


@pytest.mark.parametrize(
    "text",
    [
        "June 14, 2024",
        "March 15",
        "by Dec. 7.",
        "Bill 96 and Bill 74",
        "a majority government with 76 seats",
        "In 2024 immigrants arrived in record numbers",
        "COVID-19 cases",
        "Call 514 555 1234",
        "The team won 5-2 on Saturday.",
    ],
)
def test_dates_bills_seats_and_years_are_not_figures(text: str) -> None:
    assert find_figures(text) == []


def test_a_bare_number_needs_a_topic_cue() -> None:
    assert find_figures("The stadium holds 52,000.") == []


def test_from_x_to_y_is_two_figures_old_then_new() -> None:
    old, new = find_figures("Quebec cut immigration from 50,000 to 40,000 immigrants a year.")
    assert (old.text, old.value, new.text, new.value) == (
        "50,000",
        50_000,
        "40,000 immigrants a year",
        40_000,
    )
    assert old.unit == new.unit == "people"
    assert old.scope == new.scope == "per_year"


def test_x_and_y_without_between_is_not_a_range() -> None:
    figures = find_figures("They admitted 50,000 and 60,000 immigrants.")
    assert [f.value for f in figures] == [60_000]


def test_cost_us_is_not_us_dollars() -> None:
    assert _only("It will cost us $5 billion for refugees.").unit == "CAD"


def test_percentage_topic_comes_from_the_nearest_cue() -> None:
    text = "Study permits fell 35 per cent while immigration levels held steady."
    assert _only(text).topic == "temporary_residents"


def test_several_figures_in_order() -> None:
    text = (
        "Last year, Quebec accepted around 52,000 immigrants. The CAQ wants a 20 per cent cut, "
        "to 40,000 immigrants per year."
    )
    assert [(f.value, f.unit) for f in find_figures(text)] == [
        (52_000, "people"),
        (20, "percent"),
        (40_000, "people"),
    ]


@given(
    st.integers(min_value=1_000, max_value=9_999_999),
    st.sampled_from([",", " ", "\u00a0", "\u202f"]),
    st.sampled_from(["immigrants", "newcomers", "nouveaux arrivants", "réfugiés"]),
)
def test_grouped_numbers_round_trip(number: int, separator: str, noun: str) -> None:
    written = f"{number:,}".replace(",", separator)
    figure = _only(f"Ils ont accueilli {written} {noun} cette année.")
    assert figure.value == number
    assert figure.unit == "people"


@given(st.text(alphabet=st.sampled_from("0123456789 ,.$%-àé'’abcdeimnprst\u00a0"), max_size=80))
def test_offsets_always_slice_back(text: str) -> None:
    for figure in find_figures(text):
        assert text[figure.start : figure.end] == figure.text
