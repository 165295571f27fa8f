"""Figures with their source, in news it was not tuned on: a government's target is tracked;
a party's pledge (whichever party governs), a study's or a lobby's number, a past total and
a baseline are not; French "de X à Y" is a range unless a verb of change comes before it.
Examples written for these tests, EN and FR."""

from __future__ import annotations

import pytest

from flows.settings import SEEDS_DIR
from parsers.figures import find_figures
from parsers.tagging import Tagger
from parsers.taxonomy import load_taxonomy
from parsers.tracking import not_a_target, tracked_key

TAGGER = Tagger(load_taxonomy(SEEDS_DIR / "taxonomy.toml"))
QUEBEC = "immigration_levels|people|per_year|quebec"
CANADA = "immigration_levels|people|per_year|canada"


def _key(text: str, figure: str) -> str | None:
    mentions = {m.text: m for m in TAGGER.tag("", text).figures}
    assert figure in mentions, list(mentions)
    return tracked_key(mentions[figure])


@pytest.mark.parametrize(
    ("text", "figure", "expected"),
    [
        # Governments, whichever party forms them.
        (
            "The Liberal government will lower its target to 365,000 permanent residents a "
            "year for Canada, the immigration minister said Tuesday.",
            "365,000 permanent residents a year",
            CANADA,
        ),
        (
            "The Conservative government will admit 250,000 permanent residents a year for "
            "Canada, the immigration minister said in tabling the levels plan.",
            "250,000 permanent residents a year",
            CANADA,
        ),
        (
            "Le gouvernement du Québec prévoit d'admettre de 40 000 à 45 000 immigrants par "
            "année jusqu'en 2029, selon la planification déposée par le ministre.",
            "de 40 000 à 45 000 immigrants par année",
            QUEBEC,
        ),
        (
            "Le gouvernement du Québec fera passer son seuil de 50 000 à 55 000 immigrants par "
            "année, a annoncé le ministre de l'Immigration.",
            "55 000 immigrants par année",
            QUEBEC,
        ),
        (
            "The federal government will lower its permanent resident target from 500,000 to "
            "395,000 a year, the immigration minister said in Ottawa.",
            "395,000 a year",
            CANADA,
        ),
        # Parties, whichever governs: a pledge.
        (
            "La Coalition avenir Québec ramènerait l'immigration permanente à 35 000 personnes "
            "par année au Québec, a promis son chef en campagne électorale.",
            "35 000 personnes par année",
            None,
        ),
        (
            "The Liberals would raise immigration to 450,000 newcomers a year for Canada, the "
            "party's platform says.",
            "450,000 newcomers a year",
            None,
        ),
        (
            "Le Parti libéral du Québec hausserait le seuil d'immigration à 60 000 personnes "
            "par année, promet son chef.",
            "60 000 personnes par année",
            None,
        ),
        (
            "Un gouvernement solidaire hausserait le seuil d'immigration à 70 000 personnes "
            "par année au Québec, promet la formation de gauche.",
            "70 000 personnes par année",
            None,
        ),
        (
            "The Conservatives urged Ottawa on Monday to cut immigration to 250,000 permanent "
            "residents a year for Canada until housing supply catches up.",
            "250,000 permanent residents a year",
            None,
        ),
        (
            "Le gouvernement caquiste maintiendra le seuil à 45 000 immigrants permanents par "
            "année, a confirmé la ministre de l'Immigration du Québec.",
            "45 000 immigrants permanents par année",
            QUEBEC,
        ),
        # Someone else's number, named after it.
        (
            "Le Québec aurait besoin d'accueillir 55 000 immigrants par année pour maintenir sa "
            "population active, estime un institut dans une étude publiée lundi.",
            "55 000 immigrants par année",
            None,
        ),
        (
            "Canada should admit no more than 300,000 permanent residents a year until housing "
            "starts catch up, a report by a Toronto think tank recommends.",
            "300,000 permanent residents a year",
            None,
        ),
        (
            "Le Québec devrait accueillir 80 000 immigrants par année pour stabiliser sa "
            "main-d'œuvre, selon une étude publiée mardi.",
            "80 000 immigrants par année",
            None,
        ),
    ],
)
def test_whose_figure_it_is(text: str, figure: str, expected: str | None) -> None:
    assert _key(text, figure) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Quebec will take 25,000 fewer immigrants a year than it did in 2024, the premier said.",
        "Canada will admit 35,000 fewer permanent residents a year, the federal minister said.",
        "Ottawa will admit 20,000 more newcomers per year, the federal government said.",
        "Le gouvernement du Québec accueillera 5 000 immigrants de plus par année.",
    ],
)
def test_a_difference_is_not_the_target(text: str) -> None:
    [mention] = TAGGER.tag("", text).figures
    assert tracked_key(mention) is None
    assert not_a_target(mention) == "a difference, not the number itself"


def test_more_than_a_number_is_still_the_number() -> None:
    text = "Ottawa will admit more than 400,000 newcomers per year, the federal government said."
    assert _key(text, "400,000 newcomers per year") == CANADA


def test_a_pledge_says_so() -> None:
    text = (
        "Le Parti libéral du Québec hausserait le seuil d'immigration à 60 000 personnes par "
        "année, promet son chef."
    )
    [mention] = [m for m in TAGGER.tag("", text).figures if m.text.startswith("60 000")]
    assert not_a_target(mention) == "a party's pledge, not a government's plan"


@pytest.mark.parametrize(
    ("text", "figures"),
    [
        # A range goes up, after a verb that is not one of change.
        (
            "Québec prévoit d'accueillir de 50 000 à 60 000 immigrants par année.",
            [("de 50 000 à 60 000 immigrants par année", 55_000)],
        ),
        # A change: a verb of change before it, or the numbers going down.
        (
            "Le seuil passera de 50 000 à 60 000 immigrants par année.",
            [("50 000", 50_000), ("60 000 immigrants par année", 60_000)],
        ),
        (
            "Québec réduira le nombre d'immigrants de 60 000 à 50 000 par année.",
            [("60 000", 60_000), ("50 000 par année", 50_000)],
        ),
        (
            "Les demandes d'asile ont bondi de 20 000 à 32 000 demandeurs d'asile.",
            [("20 000", 20_000), ("32 000 demandeurs d'asile", 32_000)],
        ),
    ],
)
def test_french_de_x_a_y(text: str, figures: list[tuple[str, float]]) -> None:
    assert [(f.text, f.value) for f in find_figures(text)] == figures
