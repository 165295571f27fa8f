"""Language detection: declared tags win; otherwise English and French are told apart."""

from __future__ import annotations

from pathlib import Path

import pytest

from parsers.language import detect_language, primary_subtag

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

FRENCH = [
    "Le chemin Roxham a été fermé en mars 2023 après la modification de l’Entente sur les tiers "
    "pays sûrs.",
    "Québec accueillera 50 000 immigrants permanents par année, selon le plan déposé mercredi.",
    "Les demandeurs d’asile attendent des mois avant d’obtenir un permis de travail.",
    "PEQ : les nouvelles exigences de français entrent en vigueur jeudi",
    "Le gouvernement Legault réclame à Ottawa le remboursement d’environ 1 milliard de dollars.",
    "Réunification familiale : Québec plafonne les demandes de parrainage",
]
ENGLISH = [
    "Ottawa caps international study permits for two years",
    "Asylum claims at Quebec's southern border fall a year after Roxham Road closure",
    "The CAQ wants to cut immigration levels in Quebec by 20 per cent.",
    "Family reunification targets will fall to 94,500 in 2025.",
]


@pytest.mark.parametrize("seed", sorted(SEEDS.glob("*.txt")), ids=lambda p: p.name)
def test_seed_articles_are_english(seed: Path) -> None:
    assert detect_language(seed.read_text(encoding="utf-8")) == "en"


@pytest.mark.parametrize("text", FRENCH)
def test_french_samples(text: str) -> None:
    assert detect_language(text) == "fr"


@pytest.mark.parametrize("text", ENGLISH)
def test_english_samples(text: str) -> None:
    assert detect_language(text) == "en"


def test_other_languages_are_not_forced_into_english_or_french() -> None:
    spanish = "El gobierno canadiense anunció nuevas medidas para los solicitantes de asilo."
    assert detect_language(spanish) == "es"


@pytest.mark.parametrize("text", ["", "Ottawa", "PEQ", "Roxham Road", "2024-01-10 14:32", "…"])
def test_too_little_text_gives_no_answer(text: str) -> None:
    assert detect_language(text) is None


@pytest.mark.parametrize(
    ("declared", "expected"),
    [("fr-CA", "fr"), ("fr_CA", "fr"), ("FR", "fr"), ("en-US", "en"), (" en ", "en"), ("iu", "iu")],
)
def test_declared_language_wins(declared: str, expected: str) -> None:
    assert detect_language(ENGLISH[0], declared=declared) == expected


@pytest.mark.parametrize("declared", [None, "", "und", "x-klingon", "12", "français", "zxx"])
def test_unusable_declarations_fall_back_to_detection(declared: str | None) -> None:
    assert detect_language(FRENCH[0], declared=declared) == "fr"


def test_primary_subtag() -> None:
    assert primary_subtag("fr-CA") == "fr"
    assert primary_subtag("zh-Hant-TW") == "zh"
    assert primary_subtag("mul") is None
    assert primary_subtag(None) is None
