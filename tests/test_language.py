"""Language detection: declared tags win; otherwise English and French are told apart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from parsers import language
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


# --- The restricted model's cache ----------------------------------------------------------

OTHERS = [
    "El gobierno canadiense anunció nuevas medidas para los solicitantes de asilo.",
    "Die Regierung kündigte neue Maßnahmen für Asylsuchende an.",
    "Il governo ha annunciato nuove misure per i richiedenti asilo.",
    "O governo anunciou novas medidas para os requerentes de asilo.",
    "أعلنت الحكومة عن إجراءات جديدة لطالبي اللجوء",
    "政府宣布了针对寻求庇护者的新措施",
    "Ottawa PEQ 2024",
    "",
]


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A cache directory of the test's own; the process's identifier is loaded anew."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    language._identifier.cache_clear()
    yield tmp_path
    language._identifier.cache_clear()


def _texts() -> list[str]:
    seeds = [seed.read_text(encoding="utf-8") for seed in sorted(SEEDS.glob("*.txt"))]
    return FRENCH + ENGLISH + OTHERS + seeds


def _same_model(read: Any, built: Any) -> None:
    for name in ("nb_ptc", "nb_pc"):
        a, b = getattr(read, name), getattr(built, name)
        # Same values, type and memory layout: the scores' arithmetic is then the same.
        assert (a.dtype, a.shape, a.strides) == (b.dtype, b.shape, b.strides)
        assert np.array_equal(a, b)
    assert read.nb_classes == built.nb_classes
    assert read.tk_nextmove == built.tk_nextmove
    assert read.tk_nextmove.typecode == built.tk_nextmove.typecode
    assert read.tk_row == built.tk_row
    assert read.tk_output == built.tk_output


def test_the_cached_model_scores_every_text_as_the_packaged_one(cache_home: Path) -> None:
    path = language._cache_file()
    assert path is not None and path.is_relative_to(cache_home)
    built = language._from_package()
    language._write_cached(built, path)
    read = language._read_cached(path)
    _same_model(read, built)
    for text in _texts():
        assert read.classify(text[:3000]) == built.classify(text[:3000])  # confidence too


def test_the_first_load_writes_the_cache_the_next_reads(cache_home: Path) -> None:
    first = language._identifier()
    path = language._cache_file()
    assert path is not None and path.exists()
    _same_model(first, language._from_package())
    # A cached model whose labels are renamed: what the next load answers comes from it.
    first.nb_classes = [label.upper() for label in first.nb_classes]
    language._write_cached(first, path)
    language._identifier.cache_clear()
    assert language._identifier().classify(FRENCH[1]) == ("FR", first.classify(FRENCH[1])[1])


def test_an_unreadable_cache_is_built_again(cache_home: Path) -> None:
    path = language._cache_file()
    assert path is not None
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a model")
    assert detect_language(FRENCH[0]) == "fr"
    _same_model(language._read_cached(path), language._from_package())


def test_no_place_for_the_cache_still_loads(cache_home: Path) -> None:
    (cache_home / "vigie").write_text("a file where the cache directory would be")
    assert detect_language(FRENCH[0]) == "fr"
    assert detect_language(ENGLISH[0]) == "en"


def test_a_model_for_other_candidates_is_cached_apart(
    cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ours = language._cache_file()
    assert ours is not None and ours == language._cache_file()  # the same model, file
    monkeypatch.setattr(language, "CANDIDATE_LANGUAGES", ("en", "fr"))
    theirs = language._cache_file()
    assert theirs is not None and theirs != ours and theirs.parent == ours.parent
