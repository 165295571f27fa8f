"""The tagger against the gold set: scores, hard negatives, the fully labelled seeds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cli.tagging import register
from parsers.evaluation import EvalReport, GoldExample, evaluate, load_gold
from parsers.exceptions import ConfigError
from parsers.tagging import Tagger
from parsers.taxonomy import TOPIC_KEYS, load_taxonomy

ROOT = Path(__file__).resolve().parent.parent
GOLD = Path(__file__).resolve().parent / "gold"
SEEDS = ROOT / "seeds"
TAXONOMY = SEEDS / "taxonomy.toml"
REQUIRED_HARD_NEGATIVES = {
    "hn_weather_trudeau_airport",
    "hn_us_asylum_texas",
    "hn_hockey_legault",
    "hn_immigration_of_capital",
}


@pytest.fixture(scope="module")
def gold() -> list[GoldExample]:
    return load_gold(GOLD, SEEDS)


@pytest.fixture(scope="module")
def report(tagger: Tagger, gold: list[GoldExample]) -> EvalReport:
    return evaluate(tagger, gold)


def _by_id(gold: list[GoldExample]) -> dict[str, GoldExample]:
    return {example.id: example for example in gold}


# --- The gold set is what the brief asks for --------------------------------------------------


def test_gold_has_30_plus_passages_in_both_languages(gold: list[GoldExample]) -> None:
    passages = [e for e in gold if not e.id.startswith("seed_")]
    assert len(passages) >= 30
    for lang in ("en", "fr"):
        assert sum(e.lang == lang for e in passages) >= 10


@pytest.mark.parametrize("topic", TOPIC_KEYS)
def test_every_topic_is_covered(gold: list[GoldExample], topic: str) -> None:
    assert sum(topic in e.topics for e in gold if e.relevant) >= 3


def test_required_hard_negatives_are_present(gold: list[GoldExample]) -> None:
    hard = {e.id for e in gold if e.hard_negative}
    assert hard >= REQUIRED_HARD_NEGATIVES
    assert all(not e.relevant for e in gold if e.hard_negative)


def test_both_seeds_are_fully_labelled(gold: list[GoldExample]) -> None:
    seeds = [e for e in gold if e.id.startswith("seed_")]
    assert len(seeds) == 2
    for seed in seeds:
        labels = (seed.actors, seed.organisations, seed.places, seed.programmes, seed.figures)
        assert all(label is not None for label in labels), seed.id


# --- Scores --------------------------------------------------------------------------------


def test_micro_f1_is_at_least_0_90(report: EvalReport) -> None:
    failures = {e.id: e.problems for e in report.failures}
    assert report.micro_f1 >= 0.90, failures


def test_no_hard_negative_is_relevant(report: EvalReport) -> None:
    assert report.hard_negative_false_positives == ()


@pytest.mark.parametrize("example_id", sorted(REQUIRED_HARD_NEGATIVES))
def test_named_hard_negative(report: EvalReport, example_id: str) -> None:
    result = next(e for e in report.examples if e.id == example_id)
    assert not result.relevant, result


def test_seeds_match_every_label(report: EvalReport) -> None:
    for result in report.examples:
        if result.id.startswith("seed_"):
            assert result.problems == (), result.problems


def test_hard_negatives_keep_trudeau_and_legault_out(
    tagger: Tagger, gold: list[GoldExample]
) -> None:
    examples = _by_id(gold)
    for example_id in ("hn_weather_trudeau_airport", "hn_meteo_aeroport_trudeau"):
        example = examples[example_id]
        assert "trudeau" not in tagger.tag(example.title, example.text).actors
    for example_id in ("hn_hockey_legault", "hn_hockey_legault_fr"):
        example = examples[example_id]
        assert "legault" not in tagger.tag(example.title, example.text).actors


def test_every_mention_slices_back_on_the_gold_set(tagger: Tagger, gold: list[GoldExample]) -> None:
    for example in gold:
        result = tagger.tag(example.title, example.text)
        fields = {"title": example.title, "text": example.text}
        for mention in result.mentions:
            assert fields[mention.field][mention.start : mention.end] == mention.text


def test_scores_are_consistent(report: EvalReport) -> None:
    for score in report.topics:
        assert score.tp + score.fn == score.support
        assert 0.0 <= score.f1 <= 1.0
    assert [s.topic for s in report.topics] == list(TOPIC_KEYS)


def test_evaluate_counts_errors() -> None:
    tagger = Tagger(load_taxonomy(TAXONOMY))
    wrong = GoldExample(
        id="wrong",
        lang="en",
        title="",
        text="Quebec wants fewer asylum seekers.",
        topics=frozenset({"visas"}),
        relevant=False,
        hard_negative=True,
    )
    report = evaluate(tagger, [wrong])
    visas = next(s for s in report.topics if s.topic == "visas")
    asylum = next(s for s in report.topics if s.topic == "asylum_refugees")
    assert (visas.fn, asylum.fp) == (1, 1)
    assert report.micro_f1 == 0.0
    assert report.hard_negative_false_positives == ("wrong",)
    assert len(report.failures[0].problems) == 3


# --- Reading gold files --------------------------------------------------------------------


def test_malformed_gold_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text(
        '[[example]]\nid = "x"\nlang = "en"\ntext = "t"\ntopics = []\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError) as caught:
        load_gold(tmp_path)
    assert "\n" not in str(caught.value)
    assert "example #1 (x): relevant must be true or false" in str(caught.value)


def test_empty_gold_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no gold files"):
        load_gold(tmp_path)


# --- The `eval-tagging` command -------------------------------------------------------------


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_eval_tagging_prints_the_table(cli: typer.Typer) -> None:
    args = ["eval-tagging", "--gold", str(GOLD), "--taxonomy", str(TAXONOMY)]
    run = CliRunner().invoke(cli, [*args, "--min-micro-f1", "0.9"], env={"COLUMNS": "160"})
    assert run.exit_code == 0, run.output
    for topic in TOPIC_KEYS:
        assert topic in run.output
    assert "micro-F1" in run.output
    assert "hn_hockey_legault" in run.output


def test_eval_tagging_fails_below_the_minimum(cli: typer.Typer, tmp_path: Path) -> None:
    (tmp_path / "hard.toml").write_text(
        '[[example]]\nid = "h"\nlang = "en"\ntitle = ""\n'
        'text = "Quebec wants fewer asylum seekers."\ntopics = ["visas"]\nrelevant = false\n'
        "hard_negative = true\n",
        encoding="utf-8",
    )
    args = ["eval-tagging", "--gold", str(tmp_path), "--taxonomy", str(TAXONOMY)]
    assert CliRunner().invoke(cli, args).exit_code == 1


def test_eval_tagging_help(cli: typer.Typer) -> None:
    run = CliRunner().invoke(cli, ["eval-tagging", "--help"])
    assert run.exit_code == 0
    assert "precision" in run.output.lower() or "P/R/F1" in run.output


# --- A development set of real news: JSON items, split in halves ---------------------------

ITEMS = {
    "A1": {
        "title": "Quebec asks Ottawa for more powers over immigration",
        "text": "Premier François Legault wants Quebec to hold all powers over immigration.",
        "relevant": True,
        "topics": ["jurisdiction"],
        "topics_borderline": [],
    },
    "A2": {
        "title": "Asylum seekers wait longer in Montreal",
        "text": "Asylum seekers in Montreal wait two years for a hearing, and some say the "
        "family reunification files wait as long.",
        "relevant": True,
        "topics": ["asylum_refugees"],
        "topics_borderline": ["family_reunification"],
    },
    "B1": {
        "title": "Home Office caps care visas",
        "text": "The Home Secretary in London capped visas for care workers in Britain.",
        "relevant": False,
        "topics": [],
        "topics_borderline": ["visas"],
        "notes": "HARD NEGATIVE: a British story",
    },
    "B2": {
        "title": "Ottawa plans study permit changes",
        "text": "Ottawa will change study permits for international students next year.",
        "relevant": True,
        "topics": ["temporary_residents", "visas"],
        "topics_borderline": [],
    },
}


def _devset(tmp_path: Path) -> Path:
    for item_id, item in ITEMS.items():
        body = {"id": item_id, "language": "en", **item}
        (tmp_path / f"{item_id}.json").write_text(json.dumps(body), encoding="utf-8")
    split = {"tune": ["A1", "A2"], "check": ["B1", "B2"]}
    (tmp_path / "split.json").write_text(json.dumps(split), encoding="utf-8")
    return tmp_path


def test_a_development_set_is_read_and_split(tmp_path: Path) -> None:
    folder = _devset(tmp_path)
    everything = load_gold(folder)
    tune = load_gold(folder, split="tune")
    assert [e.id for e in everything] == ["A1", "A2", "B1", "B2"]
    assert [e.id for e in tune] == ["A1", "A2"]
    assert tune[1].borderline == {"family_reunification"}
    assert [e.hard_negative for e in everything] == [False, False, True, False]
    with pytest.raises(ConfigError, match="no half named 'train' \\(halves: check, tune\\)"):
        load_gold(folder, split="train")


def test_borderline_topics_count_neither_way(tmp_path: Path, tagger: Tagger) -> None:
    report = evaluate(tagger, load_gold(_devset(tmp_path)))
    family = next(s for s in report.topics if s.topic == "family_reunification")
    assert (family.tp, family.fp, family.fn) == (0, 0, 0)
    visas = next(s for s in report.topics if s.topic == "visas")
    assert visas.fn == 1  # B2 expects visas and gets none: a miss is a miss
    assert report.relevance_precision == 1.0
    assert report.relevance_recall == 1.0
    assert report.hard_negative_false_positives == ()


def test_eval_tagging_lists_false_relevant_and_misses_with_their_evidence(
    cli: typer.Typer, tmp_path: Path
) -> None:
    folder = _devset(tmp_path)
    # Flip two labels, so the tagger disagrees on one each way.
    a1 = json.loads((folder / "A1.json").read_text(encoding="utf-8"))
    (folder / "A1.json").write_text(json.dumps({**a1, "relevant": False, "topics": []}))
    b1 = json.loads((folder / "B1.json").read_text(encoding="utf-8"))
    (folder / "B1.json").write_text(json.dumps({**b1, "relevant": True, "notes": ""}))
    args = ["eval-tagging", "--gold", str(folder), "--taxonomy", str(TAXONOMY)]

    run = CliRunner().invoke(cli, args, env={"COLUMNS": "200"})

    assert run.exit_code == 0, run.output
    assert "relevance precision 0.667 (2 of 3 called relevant), recall 0.667 (2 of 3)" in (
        run.output
    )
    called, missed = run.output.split("Called relevant, but not (1):")[1].split(
        "Relevant, but missed (1):"
    )
    assert "A1 score " in called and "jurisdiction" in called and "Canadian" in called
    assert "B1 score " in missed and "foreign" in missed and "united_kingdom" in missed
    half = CliRunner().invoke(cli, [*args, "--split", "check"], env={"COLUMNS": "200"})
    assert "2 examples (check half)" in half.output


# --- `vigie tag` and `vigie eval-tagging` read an item alike --------------------------------

# A page copied line by line: a dateline and a byline with no full stop, then the story.
# Joined into one line, the dateline runs into the first sentence, and the second sentence
# (family files) becomes part of the lede: a topic there, a passing mention otherwise.
LINE_BY_LINE = {
    "id": "L1",
    "language": "en",
    "title": "Employers in the regions want more help",
    "text": "MONTREAL\nBy a staff writer\nEmployers in Quebec's regions say the federal "
    "government must do more for skilled workers.\nFamily reunification files also wait "
    "for years, one lawyer added.\nThe province wants more skilled workers selected "
    "under its own programmes.",
    "relevant": True,
    "topics": ["economic_immigration"],
    "topics_borderline": [],
}


def test_tag_and_eval_tagging_judge_an_item_alike(cli: typer.Typer, tmp_path: Path) -> None:
    (tmp_path / "L1.json").write_text(json.dumps(LINE_BY_LINE), encoding="utf-8")
    tagged = CliRunner().invoke(
        cli, ["tag", "--format", "json", "--taxonomy", str(TAXONOMY), str(tmp_path / "L1.json")]
    )
    assert tagged.exit_code == 0, tagged.output
    row = json.loads(tagged.stdout)

    [example] = evaluate(Tagger(load_taxonomy(TAXONOMY)), load_gold(tmp_path)).examples

    assert (row["score"], row["relevant"], set(row["topics"])) == (
        example.score,
        example.relevant,
        example.found_topics,
    )
    # The lines stay apart: the family files are a passing mention of the body.
    assert row["topics"] == ["economic_immigration"]
    assert "family_reunification" in row["mentioned"]
