"""The tagger: seeds, folding and offsets, disambiguation, relevance, figures, the CLI."""

from __future__ import annotations

import math
import pickle
import time
import unicodedata
from pathlib import Path

import pytest

from parsers import tagging
from parsers.tagging import Tagger
from parsers.taxonomy import load_taxonomy
from tests.tagged import assert_offsets, tag_checked

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED_000 = SEEDS / "000_e1b8015c5445bc90.txt"
SEED_004 = SEEDS / "004_070607473756bd18.txt"
TAXONOMY = SEEDS / "taxonomy.toml"


# --- The two seed articles ------------------------------------------------------------------


def _title_and_text(path: Path, first_line_as_title: bool) -> tuple[str, str]:
    content = path.read_text(encoding="utf-8")
    if not first_line_as_title:
        return "", content
    title, _, rest = content.strip().partition("\n")
    return title, rest


@pytest.mark.parametrize("first_line_as_title", [False, True])
def test_seed_000_topics_are_exact(tagger: Tagger, first_line_as_title: bool) -> None:
    title, text = _title_and_text(SEED_000, first_line_as_title)
    result = tag_checked(tagger, text, title)
    # Exact: "economic growth", "skilled professionals", "immigration flows", "financial
    # burden", "strain" and "influx" must not add economic, levels or funding topics.
    assert set(result.topics) == {"asylum_refugees", "jurisdiction", "visas"}
    assert result.relevant
    assert {"legault", "trudeau"} <= set(result.actors)


@pytest.mark.parametrize("first_line_as_title", [False, True])
def test_seed_004_topics_are_exact(tagger: Tagger, first_line_as_title: bool) -> None:
    title, text = _title_and_text(SEED_004, first_line_as_title)
    result = tag_checked(tagger, text, title)
    assert set(result.topics) == {
        "immigration_levels",
        "family_reunification",
        "economic_immigration",
        "asylum_refugees",
        "integration_french",
        "jurisdiction",
    }
    assert result.relevant


def test_seed_004_figures_actors_and_organisations(tagger: Tagger) -> None:
    result = tag_checked(tagger, SEED_004.read_text(encoding="utf-8"))
    figures = {(m.text, m.value, m.unit, m.topic, m.scope) for m in result.figures}
    assert (
        "40,000 immigrants per year",
        40_000,
        "people",
        "immigration_levels",
        "per_year",
    ) in figures
    assert any(value == 52_000 for _, value, *_ in figures)
    assert ("20 per cent", 20, "percent", "immigration_levels", None) in figures
    assert all(m.kind == "figure" and m.concept == "figure" for m in result.figures)
    assert {"jolin_barrette", "trudeau", "nadeau_dubois"} <= set(result.actors)
    assert {"caq", "qs"} <= set(result.organisations)
    assert "quebec_city" in result.places  # "in Quebec City" is the city, not the province


def test_mentions_carry_their_sentence_and_topic(tagger: Tagger) -> None:
    result = tag_checked(tagger, SEED_004.read_text(encoding="utf-8"))
    family = next(m for m in result.mentions if m.concept == "family_reunification")
    assert family.kind == "topic" and family.topic == "family_reunification"
    assert "family reunification program" in family.sentence
    plan = next(m for m in result.mentions if m.concept == "levels_plan")
    assert plan.topic == "immigration_levels"
    assert plan.sentence.startswith("Jolin-Barrette is set to table")


# --- Folding, boundaries and offsets ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "concept", "matched"),
    [
        ("Les demandeurs d'asile attendent.", "asylum_refugees", "demandeurs d'asile"),
        ("Le droit d’asile est menacé.", "asylum_refugees", "droit d’asile"),
        ("Il faut qu’Ottawa agisse.", "ottawa", "Ottawa"),
        ("La hausse de l'immigration temporaire inquiète.", "temporary_residents", None),
        ("Simon Jolin Barrette a parlé.", "jolin_barrette", "Simon Jolin Barrette"),
        ("Simon Jolin‑Barrette a parlé.", "jolin_barrette", "Simon Jolin‑Barrette"),
        ("LES DEMANDEURS D'ASILE", "asylum_refugees", "DEMANDEURS D'ASILE"),
        ("Les REFUGIES arrivent.", "asylum_refugees", "REFUGIES"),
        ("Quebec wants to integrate newcomers.", "integration_french", "integrate newcomers"),
        (
            "Immigrants were well integrated, studies on immigration show.",
            "integration_french",
            "integrated",
        ),
        ("L'intégration des immigrants progresse.", "integration_french", None),
        ("Des travailleurs étrangers temporaires", "temporary_residents", None),
        ("Des travailleuses étrangères temporaires", "temporary_residents", None),
        ("Les femmes réfugiées", "asylum_refugees", "réfugiées"),
        ("Two refugee claimants were heard.", "asylum_refugees", "refugee claimants"),
        ("Quebec's premier spoke.", "quebec", "Quebec"),
    ],
)
def test_elision_accents_hyphens_and_inflections(
    tagger: Tagger, text: str, concept: str, matched: str | None
) -> None:
    result = tag_checked(tagger, text)
    found = [m.text for m in result.mentions if m.concept == concept]
    assert found, result.mentions
    if matched is not None:
        assert matched in found


@pytest.mark.parametrize(
    "text",
    [
        "Œuvre: la main-d’œuvre qualifiée manque au Québec, dit le ministre.",
        "Le re\u0301fugie\u0301 est arrive\u0301 au Que\u0301bec.",  # decomposed accents
        "Les demandeurs d'a\u00adsile à Montréal.",  # soft hyphen inside a word
        "ﬁnancement: les demandeurs d’asile coûtent cher à Québec, dit Legault.",  # ligature
        "Straße: Quebec and the İstanbul office of IRCC.",
    ],
)
def test_offsets_survive_folding_that_changes_length(tagger: Tagger, text: str) -> None:
    result = tag_checked(tagger, text)
    assert result.mentions


def test_decomposed_text_tags_like_composed_text(tagger: Tagger) -> None:
    composed = "Les réfugiés arrivent au Québec et à Montréal."
    decomposed = unicodedata.normalize("NFD", composed)
    assert tag_checked(tagger, decomposed).topics == tag_checked(tagger, composed).topics
    assert tag_checked(tagger, decomposed).places == tag_checked(tagger, composed).places


def test_capital_terms_need_capitals(tagger: Tagger) -> None:
    assert "united_states" not in tag_checked(tagger, "Let us talk about asylum.").places
    assert "united_states" in tag_checked(tagger, "Asylum seekers came from the US.").places
    assert "caq" not in tag_checked(tagger, "caq").organisations


def test_inflection_does_not_invent_other_words(tagger: Tagger) -> None:
    # "renvoie" (sends back) is not a feminine "renvoi" (removal).
    text = "Ottawa renvoie la balle à Québec sur l'immigration."
    assert "border_enforcement" not in tag_checked(tagger, text).topics


def test_words_are_whole_words(tagger: Tagger) -> None:
    result = tag_checked(
        tagger, "The visionary plan is temporarily delayed; Canadiana exhibits open."
    )
    assert result.topics == ()
    assert result.places == ()


# --- Disambiguation -------------------------------------------------------------------------


def test_trudeau_airport_is_not_the_actor(tagger: Tagger) -> None:
    for text in (
        "Flights were cancelled at Montréal-Trudeau airport.",
        "Des vols annulés à l'aéroport Montréal-Trudeau.",
        "Delays at Trudeau International Airport.",
        "Delays at Pierre Elliott Trudeau International Airport.",
    ):
        result = tag_checked(tagger, text)
        assert "trudeau" not in result.actors, text
        assert "montreal_trudeau_airport" in result.places, text


def test_trudeau_alone_is_the_actor(tagger: Tagger) -> None:
    assert "trudeau" in tag_checked(tagger, "In Montreal, Trudeau defended the plan.").actors


def test_bare_legault_needs_a_political_context(tagger: Tagger) -> None:
    assert "legault" in tag_checked(tagger, "Premier Legault met the minister.").actors
    assert "legault" in tag_checked(tagger, "Legault said immigration must fall.").actors
    hockey = "Forward Samuel Legault scored twice for the Laval Rocket."
    assert "legault" not in tag_checked(tagger, hockey).actors
    assert "legault" not in tag_checked(tagger, "Legault, a Quebec City native, is 24.").actors


def test_one_sense_per_article(tagger: Tagger) -> None:
    text = "Premier François Legault spoke on Monday. Legault, 67, is a former businessman."
    legaults = [m for m in tag_checked(tagger, text).mentions if m.concept == "legault"]
    assert [m.text for m in legaults] == ["François Legault", "Legault"]


def test_longest_name_wins(tagger: Tagger) -> None:
    result = tag_checked(tagger, "Québec solidaire met in Quebec City with the Parti Québécois.")
    assert set(result.organisations) == {"qs", "pq"}
    assert result.places == ("quebec_city",)


def test_topic_terms_inside_names_do_not_count(tagger: Tagger) -> None:
    result = tag_checked(tagger, "Immigration, Refugees and Citizenship Canada opened an office.")
    assert result.organisations == ("ircc",)
    assert result.topics == ()


def test_topics_do_not_fire_on_a_bare_ambiguous_word(tagger: Tagger) -> None:
    for text in (
        "Montreal start-ups benefit from an immigration of capital and venture funding.",
        "Water levels rose near Gatineau.",
        "The integration of the two banks cost $2 billion.",
        "Visa and Mastercard lowered their fees in Canada.",
        "The immigration system was discussed.",
    ):
        assert tag_checked(tagger, text).topics == (), text


def test_ambiguous_topic_words_count_in_context(tagger: Tagger) -> None:
    text = "Quebec wants Ottawa to reimburse the cost of housing asylum seekers."
    assert "funding_costs" in tag_checked(tagger, text).topics
    assert "immigration_levels" in tag_checked(tagger, "Ottawa lowers immigration targets.").topics


def test_programmes_tag_their_topics(tagger: Tagger) -> None:
    result = tag_checked(tagger, "The Safe Third Country Agreement was expanded.")
    assert result.programmes == ("safe_third_country",)
    assert set(result.topics) == {"asylum_refugees", "border_enforcement"}


# --- Relevance ------------------------------------------------------------------------------


def test_us_asylum_story_is_not_relevant(tagger: Tagger) -> None:
    text = (
        "Texas Governor Greg Abbott bused asylum seekers from El Paso as the Biden "
        "administration faced record illegal border crossings at the southern border."
    )
    result = tag_checked(tagger, text, "Texas buses asylum seekers")
    assert not result.relevant
    assert result.topics == ()  # not about Canadian immigration, so about none of its topics
    assert "asylum_refugees" in result.mentioned


def test_a_topic_and_a_canadian_anchor_are_relevant(tagger: Tagger) -> None:
    result = tag_checked(tagger, "Quebec wants fewer asylum seekers.")
    assert result.relevant
    # One sentence of evidence (p = 1); Quebec named once, in the lede (C = 1.5).
    assert result.score == pytest.approx((1 - 0.4) * (1.5 + 0.5) / (1.5 + 1), abs=1e-4)


def test_no_topic_is_never_relevant(tagger: Tagger) -> None:
    result = tag_checked(tagger, "Premier François Legault opened a bridge in Quebec City.")
    assert result.score == 0.0
    assert not result.relevant


def test_strong_topic_evidence_needs_no_anchor(tagger: Tagger) -> None:
    weak = tag_checked(tagger, "Asylum claims are rising.")
    strong = tag_checked(tagger, "Asylum claims are rising.", "Refugee claimants wait")
    assert not weak.relevant
    assert strong.relevant


def test_threshold_is_configurable() -> None:
    strict = Tagger(load_taxonomy(TAXONOMY), relevance_threshold=0.99)
    assert not strict.tag("", "Quebec wants fewer asylum seekers.").relevant


def test_result_records_the_taxonomy_version(tagger: Tagger) -> None:
    assert tag_checked(tagger, "x").taxonomy_version == tagger.taxonomy.version


# --- Build once, tag fast ------------------------------------------------------------------


def test_automaton_is_built_once_per_tagger(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[int] = []
    original = tagging.build_automaton

    def counting(*args: object) -> object:
        built.append(1)
        return original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(tagging, "build_automaton", counting)
    fresh = Tagger(load_taxonomy(TAXONOMY))
    for _ in range(3):
        fresh.tag("Asylum", "Quebec wants fewer asylum seekers.")
    assert built == [1]


# --- Bounds: linear in the text, a limit on what is tagged, a CPU budget ----------------------

MEGABYTE = 1_000_000
ADVERSARIAL = {
    # An ambiguous name needing its context in the sentence, with no sentence end at all.
    "one ambiguous name": lambda n: "Legault " * (n // 8),
    "ambiguous words mixed": lambda n: "Legault Miller levels cost integrate visa " * (n // 42),
    "both sides of a near rule": lambda n: "detention immigration " * (n // 22),
    "topic terms": lambda n: "asylum seekers " * (n // 15),
    "a list of numbers": lambda n: "1 000 " * (n // 6),
    "figures with units": lambda n: "40,000 immigrants, $5 million, " * (n // 31),
    "one endless number": lambda n: "1" + " 000" * (n // 4) + " immigrants per year",
    "dots": lambda n: "." * n,
}


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_a_one_megabyte_single_sentence_item_is_tagged_in_under_a_second(
    tagger: Tagger, name: str
) -> None:
    text = ADVERSARIAL[name](MEGABYTE)
    started = time.process_time()
    result = tagger.tag("", text)
    spent = time.process_time() - started
    assert spent < 1.0, f"{name}: {spent:.2f} CPU-s"
    assert result.cut is not None and "characters" in result.cut
    assert all(m.end <= tagging.MAX_TAGGED_CHARS for m in result.mentions)


@pytest.mark.parametrize(
    "name", ["one ambiguous name", "both sides of a near rule", "figures with units"]
)
def test_tagging_without_limits_grows_linearly(name: str) -> None:
    free = Tagger(load_taxonomy(TAXONOMY), cpu_budget=math.inf, max_chars=10**9)
    small, large = (ADVERSARIAL[name](size) for size in (100_000, 800_000))
    free.tag("", small)  # warm the caches
    times = [_least_cpu(free, text) for text in (small, large)]
    # Eight times the text: about eight times the time (quadratic would be sixty-four), and in
    # absolute terms far from the minutes the quadratic tagger took. The least of three runs,
    # so that a collection or a busy neighbour during one run does not count.
    assert times[1] < 24 * max(times[0], 0.02), times
    assert times[1] < 8.0, times


def _least_cpu(tagger: Tagger, text: str, runs: int = 3) -> float:
    spent = []
    for _ in range(runs):
        started = time.process_time()
        tagger.tag("", text)
        spent.append(time.process_time() - started)
    return min(spent)


def test_the_cpu_budget_cuts_the_text_and_says_where(tagger: Tagger) -> None:
    hasty = Tagger(tagger.taxonomy, cpu_budget=0.0, max_chars=10**9)
    text = "Quebec wants fewer asylum seekers, Legault said. " * 20_000
    result = hasty.tag("", text)
    assert result.cut is not None
    assert "CPU-second budget was spent" in result.cut and "text tagged up to" in result.cut
    assert_offsets(result, "", text)
    short = hasty.tag("", "Quebec wants fewer asylum seekers.")  # too short to be clocked
    assert short.cut is None and short.relevant


def test_only_the_first_characters_are_tagged(tagger: Tagger) -> None:
    narrow = Tagger(tagger.taxonomy, max_chars=60)
    text = "Quebec wants fewer asylum seekers, Legault said. " * 10
    result = narrow.tag("", text)
    assert result.cut == f"text cut to its first 60 of {len(text):,} characters"
    assert max(m.end for m in result.mentions) <= 60


def test_a_result_crosses_to_the_storing_process_as_few_objects(tagger: Tagger) -> None:
    # A worker's tagged result is unpickled in the run's process: a mention, a topic's
    # evidence and the geography are each one object there (no per-instance dict), and
    # come back equal, field by field.
    result = tag_checked(tagger, SEED_004.read_text(encoding="utf-8"))
    assert result.mentions and result.evidence and result.geography is not None
    parts = [*result.mentions, *result.evidence, result.geography]
    assert not any(hasattr(part, "__dict__") for part in parts)
    loaded = pickle.loads(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
    assert loaded == result
    assert [m._asdict() for m in loaded.mentions] == [m._asdict() for m in result.mentions]
    assert loaded.evidence_sentence == result.evidence_sentence
