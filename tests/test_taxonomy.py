"""The taxonomy file: the seed one is complete, and every mistake gets one clear line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from parsers.exceptions import ConfigError
from parsers.taxonomy import KINDS, TOPIC_KEYS, Taxonomy, load_taxonomy

SEED_TAXONOMY = Path(__file__).resolve().parent.parent / "seeds" / "taxonomy.toml"


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_taxonomy(SEED_TAXONOMY)


def test_seed_taxonomy_is_versioned(taxonomy: Taxonomy) -> None:
    assert taxonomy.version
    assert taxonomy.source.endswith("taxonomy.toml")


def test_seed_taxonomy_has_exactly_the_ten_topics(taxonomy: Taxonomy) -> None:
    assert [c.key for c in taxonomy.of_kind("topic")] == list(TOPIC_KEYS)


@pytest.mark.parametrize(
    ("kind", "keys"),
    [
        (
            "programme",
            {"peq", "csq", "express_entry", "safe_third_country", "tfwp", "study_permit_cap"}
            | {"levels_plan", "bill_96", "bill_74"},
        ),
        (
            "actor",
            {"legault", "trudeau", "carney", "jolin_barrette", "roberge", "frechette", "hussen"}
            | {"fraser", "miller", "leblanc", "poilievre", "nadeau_dubois", "st_pierre_plamondon"},
        ),
        (
            "organisation",
            {"caq", "qs", "pq", "plq", "liberals", "conservatives", "bloc", "ircc", "mifi"}
            | {"cbsa", "unhcr"},
        ),
        (
            "place",
            {"quebec", "ottawa", "roxham_road", "lacolle", "montreal", "quebec_city"},
        ),
    ],
)
def test_seed_taxonomy_covers_the_brief(taxonomy: Taxonomy, kind: str, keys: set[str]) -> None:
    assert keys <= {c.key for c in taxonomy.of_kind(kind)}


def test_every_concept_is_bilingual_and_actors_have_roles(taxonomy: Taxonomy) -> None:
    for concept in taxonomy.concepts:
        assert concept.kind in KINDS
        assert concept.label_en and concept.label_fr
        if concept.kind == "actor":
            assert concept.role, concept.key
        if concept.kind == "topic":
            assert concept.terms_en and concept.terms_fr, concept.key


def test_programme_topics_are_known(taxonomy: Taxonomy) -> None:
    for programme in taxonomy.of_kind("programme"):
        assert set(programme.topics) <= set(TOPIC_KEYS)
    # Every programme tags a topic but the framework Act, whose name only says "refugee".
    assert {p.key for p in taxonomy.of_kind("programme") if not p.topics} == {"irpa"}


def test_disambiguation_rules_come_from_the_data(taxonomy: Taxonomy) -> None:
    trudeau, legault = taxonomy.concept("trudeau"), taxonomy.concept("legault")
    assert trudeau.exclude_context is not None
    assert "airport*" in trudeau.exclude_context.words
    assert legault.require_context is not None and "Legault" in legault.ambiguous_en
    assert "premier*" in legault.require_context.words  # @politics was expanded


def test_names_other_countries_share_are_listed_apart(taxonomy: Taxonomy) -> None:
    conservatives = taxonomy.concept("conservatives")
    assert "Conservatives" in conservatives.shared_en
    assert "Conservatives" not in conservatives.terms_en
    assert "conservateurs" in conservatives.shared_fr
    assert "Conservative Party of Canada" in conservatives.terms_en


def test_foreign_context_has_negative_anchors(taxonomy: Taxonomy) -> None:
    assert taxonomy.concept("texas").anchor < 0
    assert taxonomy.concept("quebec").anchor > 0
    assert taxonomy.concept("peq").anchor == 2.0


# --- Every mistake is one clear line ---------------------------------------------------------


def _topic(key: str) -> str:
    return f"""
[[concept]]
key = "{key}"
kind = "topic"
label_en = "{key} (en)"
label_fr = "{key} (fr)"
terms_en = ["{key.replace("_", " ")}"]
terms_fr = ["{key.replace("_", " ")} fr"]
"""


VALID_ACTOR = """
[[concept]]
key = "legault"
kind = "actor"
label_en = "François Legault"
label_fr = "François Legault"
role = "Premier"
terms_en = ["François Legault"]
ambiguous_en = ["Legault"]
require_context = ["@politics"]
"""


def _valid_file(actor: str = VALID_ACTOR, header: str = 'version = "t1"\n') -> str:
    contexts = '[contexts]\npolitics = ["premier", "minist*"]\n'
    return header + contexts + "".join(_topic(k) for k in TOPIC_KEYS) + actor


def _write(tmp_path: Path, content: str) -> Path:
    path = tmp_path / "taxonomy.toml"
    path.write_text(content, encoding="utf-8")
    return path


def test_a_minimal_valid_file_loads(tmp_path: Path) -> None:
    taxonomy = load_taxonomy(_write(tmp_path, _valid_file()))
    assert taxonomy.version == "t1"
    assert taxonomy.concept("legault").require_context is not None


def _actor(replace: str, by: str) -> Callable[[], str]:
    return lambda: _valid_file(actor=VALID_ACTOR.replace(replace, by))


MISTAKES: dict[str, tuple[Callable[[], str], str]] = {
    "missing version": (lambda: _valid_file(header=""), "version"),
    "bad toml": (lambda: _valid_file() + "\n[[concept]\n", "not valid TOML"),
    "unknown kind": (_actor('kind = "actor"', 'kind = "person"'), "'legault': kind"),
    "typo in a field": (
        _actor("terms_en =", "term_en ="),
        "'legault': unknown field 'term_en' (did you mean 'terms_en'?)",
    ),
    "terms not a list": (
        _actor('terms_en = ["François Legault"]', 'terms_en = "François Legault"'),
        "'legault': terms_en must be a list of strings",
    ),
    "missing label": (_actor('label_fr = "François Legault"\n', ""), "'legault': label_fr"),
    "ambiguous without context": (
        _actor('require_context = ["@politics"]\n', ""),
        "'legault': ambiguous terms need require_context",
    ),
    "unknown context set": (
        _actor("@politics", "@politic"),
        "'legault': require_context uses unknown set @politic",
    ),
    "unknown topic on an actor": (
        _actor('role = "Premier"', 'role = "Premier"\ntopics = ["asylum"]'),
        "'legault': topics has unknown topic 'asylum'",
    ),
    "role on a place": (
        _actor('kind = "actor"', 'kind = "place"'),
        "'legault': only actors have a role",
    ),
    "bad key": (_actor('key = "legault"', 'key = "Legault"'), "key must be lower_snake_case"),
    "negative window": (
        _actor('require_context = ["@politics"]', 'require_context = ["x"]\ncontext_window = -1'),
        "'legault': context_window must be a whole number",
    ),
    "shared name abroad": (
        _actor('role = "Premier"', 'role = "Premier"\nanchor = -1\nshared_en = ["Premier"]'),
        "'legault': shared_en/shared_fr are for Canadian names (anchor > 0)",
    ),
    "duplicate key": (lambda: _valid_file() + VALID_ACTOR, "'legault' is defined twice"),
    "missing topic": (
        lambda: _valid_file().replace('key = "visas"', 'key = "visa"'),
        "'visa': unknown topic key",
    ),
}


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_mistakes_raise_one_clear_line(tmp_path: Path, mistake: str) -> None:
    build, expected = MISTAKES[mistake]
    path = _write(tmp_path, build())
    with pytest.raises(ConfigError) as caught:
        load_taxonomy(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    assert expected in message


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read taxonomy file"):
        load_taxonomy(tmp_path / "nope.toml")


def test_all_ten_topics_are_required(tmp_path: Path) -> None:
    content = _valid_file().replace(_topic("funding_costs"), "")
    with pytest.raises(ConfigError, match="topic 'funding_costs' is missing"):
        load_taxonomy(_write(tmp_path, content))
