"""Near-duplicate detection, pure: shingles, signatures, band keys and the verdict.

The stories below are also the fixtures of ``test_clusters`` and ``test_import``: one Canadian
Press wire story as three outlets print it, a lightly edited copy, another newsroom's own
story about the same announcement, and the French wire version.
"""

from __future__ import annotations

import hashlib
import pickle
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.wire_copies import CASES, NEW_LEDE, WIRE, Case
from parsers import dedup
from parsers.dedup import Fingerprint, fingerprint

NOW = datetime(2025, 11, 4, 18, 0, tzinfo=UTC)

WIRE_PARAGRAPHS = (
    "The federal government will admit fewer permanent residents next year and sharply reduce "
    "the number of temporary residents, the immigration minister said Tuesday as she tabled "
    "the 2026-2028 immigration levels plan in the House of Commons.",
    "The plan sets a target of 380,000 new permanent residents in 2026, down from 395,000 this "
    "year, and holds that figure steady through 2028. Temporary arrivals, including "
    "international students and foreign workers, would fall to about 385,000 next year, less "
    "than half of the 2025 target.",
    "The minister said the government wants to bring population growth back in line with "
    'housing supply and the capacity of public services. "We are restoring balance to our '
    'immigration system so that newcomers can succeed and communities can plan," she told '
    "reporters on Parliament Hill.",
    "Economic immigrants would make up about 64 per cent of admissions by 2028, while family "
    "reunification would account for roughly one in five new permanent residents. The plan "
    "also includes a one-time measure to grant permanent residence to as many as 33,000 work "
    "permit holders already living in Canada.",
    "Refugee and protected person admissions would decline slightly, and the government said "
    "it would continue to speed up the processing of asylum claims, which have reached a "
    "backlog of more than 280,000 cases at the Immigration and Refugee Board.",
    "Quebec, which selects most of its own economic immigrants under the Canada-Quebec "
    "Accord, has asked Ottawa to reduce the number of asylum seekers and temporary residents "
    "living in the province. Quebec's immigration minister said the federal plan was a step "
    "in the right direction but did not go far enough.",
    "The Conservatives said the targets remain too high given the housing shortage, while the "
    "Bloc Québécois called for a fairer distribution of asylum seekers among the provinces.",
    "Immigration, Refugees and Citizenship Canada said it would publish detailed regional "
    "targets in the coming weeks, after consultations with provinces, territories and "
    "employers.",
)
WIRE_EN = "\n\n".join(WIRE_PARAGRAPHS)

#: The wire story as three outlets print it, each with its own furniture.
CTV_TITLE = "Ottawa cuts permanent resident targets, halves temporary arrivals in levels plan"
CTV_TEXT = (
    "OTTAWA — "
    + WIRE_EN
    + "\n\nThis report by The Canadian Press was first published Nov. 4, 2025."
    + "\n\nWith files from CTV News Ottawa Bureau."
    + "\n\nDownload the CTV News app for breaking news alerts and the latest headlines."
)
GLOBAL_TITLE = (
    "Federal immigration plan lowers permanent resident target to 380,000 | Globalnews.ca"
)
GLOBAL_TEXT = (
    "Listen to this article\n\n3 min\n\n"
    + WIRE_EN
    + "\n\n— With files from Global News\n\nTrending Now"
    + "\n\nSign up for our weekly newsletter on immigration and settlement in Canada."
)
NATIONAL_POST_TITLE = "Liberals cut immigration targets as housing pressure mounts"
NATIONAL_POST_TEXT = (
    "OTTAWA (CP) — "
    + "\n\nArticle content\n\n".join(WIRE_PARAGRAPHS)
    + "\n\nShare this article in your social network"
    + "\n\nRecommended from Editorial"
)

#: CTV's copy, lightly edited by an aggregator: another headline, one sentence rewritten.
EDITED_TITLE = "Immigration levels plan: Ottawa trims permanent resident admissions"
EDITED_TEXT = CTV_TEXT.replace(
    "The Conservatives said the targets remain too high given the housing shortage, while the "
    "Bloc Québécois called for a fairer distribution of asylum seekers among the provinces.",
    "Opposition parties were quick to respond: the Conservatives argued the numbers are still "
    "far too high, and the Bloc Québécois asked that asylum seekers be shared more evenly.",
)

#: Another newsroom's own story about the same tabling: same facts, its own words.
OWN_STORY_TITLE = "What Ottawa's new immigration levels plan means for Quebec"
OWN_STORY_TEXT = """Ottawa tabled its 2026-2028 immigration levels plan on Tuesday, and for
Quebec the headline numbers matter less than what happens to temporary residents.

The federal target for new permanent residents drops to 380,000 in 2026. Quebec sets its own
targets for economic immigrants under the Canada-Quebec Accord, so the federal cut changes
little for the province's selection programs such as the Programme de l'expérience québécoise.

The bigger change is on the temporary side. The plan caps new temporary arrivals at roughly
385,000, and officials said study permits would bear much of the reduction. Montreal's
universities and CEGEPs have already seen international enrolment fall since the study permit
cap was introduced last year.

Quebec's immigration minister has repeatedly asked Ottawa to move asylum seekers to other
provinces and to reimburse the province for the cost of housing them. Speaking in Quebec City,
he said the federal plan offered no new money and no timeline for relocations.

Employers' groups in the Montérégie and the Capitale-Nationale worry about the temporary
foreign workers they rely on. A spokesperson for a manufacturers' association said members
had been counting on renewals that may now be harder to obtain.

Immigration, Refugees and Citizenship Canada said regional targets would follow after
consultations with the provinces. Quebec expects to table its own multi-year immigration plan
in the fall, after public hearings at the National Assembly."""

#: The French wire version of the same story.
WIRE_FR_TITLE = "Ottawa réduit ses cibles de résidents permanents et de résidents temporaires"
WIRE_FR = """Le gouvernement fédéral admettra moins de résidents permanents l'an prochain et
réduira fortement le nombre de résidents temporaires, a annoncé mardi la ministre de
l'Immigration en déposant le plan des niveaux d'immigration 2026-2028 à la Chambre des communes.

Le plan fixe une cible de 380 000 nouveaux résidents permanents en 2026, en baisse par rapport
aux 395 000 de cette année, et maintient ce chiffre jusqu'en 2028. Les arrivées temporaires,
dont les étudiants étrangers et les travailleurs étrangers, passeraient à environ 385 000 l'an
prochain, soit moins de la moitié de la cible de 2025.

La ministre a affirmé que le gouvernement veut ramener la croissance démographique au rythme de
l'offre de logements et de la capacité des services publics. « Nous rétablissons l'équilibre de
notre système d'immigration pour que les nouveaux arrivants puissent réussir et que les
collectivités puissent planifier », a-t-elle déclaré aux journalistes sur la colline du
Parlement.

Les immigrants économiques représenteraient environ 64 % des admissions d'ici 2028, tandis que
la réunification familiale compterait pour environ un nouveau résident permanent sur cinq. Le
plan prévoit aussi une mesure ponctuelle pour accorder la résidence permanente à jusqu'à 33 000
titulaires de permis de travail qui vivent déjà au Canada.

Les admissions de réfugiés et de personnes protégées diminueraient légèrement, et le
gouvernement a dit qu'il continuerait d'accélérer le traitement des demandes d'asile, dont
l'arriéré dépasse 280 000 dossiers à la Commission de l'immigration et du statut de réfugié.

Le Québec, qui sélectionne la plupart de ses immigrants économiques en vertu de l'Accord
Canada-Québec, a demandé à Ottawa de réduire le nombre de demandeurs d'asile et de résidents
temporaires sur son territoire. Le ministre québécois de l'Immigration a dit que le plan fédéral
allait dans la bonne direction, mais qu'il n'allait pas assez loin.

Les conservateurs estiment que les cibles demeurent trop élevées compte tenu de la pénurie de
logements, tandis que le Bloc québécois réclame une répartition plus équitable des demandeurs
d'asile entre les provinces."""

#: Two versions of the wire story that each keep a different part of it and add a paragraph
#: of their own: they share two paragraphs, too few to be one story, but each keeps most of
#: the bare wire copy.
QUEBEC_REACTION = (
    "In Quebec City, Premier's office officials said the province would keep pressing for "
    "full control over temporary immigration programs, including the temporary foreign "
    "worker program, and for the relocation of thousands of asylum seekers now housed in "
    "Montreal shelters to other provinces before the end of the winter. The province also "
    "wants Ottawa to pay back the cost of housing and schooling them since 2023."
)
BUSINESS_REACTION = (
    "Business groups warned that the reduction in temporary residents would deepen labour "
    "shortages in construction, agriculture and health care, and the Canadian Federation "
    "of Independent Business asked Ottawa to protect work permit renewals for employees who "
    "are already in the country and have job offers from small employers in rural regions. "
    "Universities, for their part, said fewer study permits would cost them more revenue."
)
WIRE_WITH_QUEBEC = "\n\n".join((*WIRE_PARAGRAPHS[:5], QUEBEC_REACTION))
WIRE_WITH_BUSINESS = "\n\n".join((*WIRE_PARAGRAPHS[3:], BUSINESS_REACTION))


def _print(
    title: str, text: str, *, language: str = "en", outlet: str = "", at: datetime = NOW
) -> Fingerprint:
    return fingerprint(title, text, language=language, outlet=outlet, seen_at=at)


def _jaccard(a: Fingerprint, b: Fingerprint) -> float:
    return dedup.estimated_jaccard(a.signature, b.signature)


# --- shingles and signatures -------------------------------------------------------------


def test_shingles_stop_at_paragraph_breaks_and_count_repeats_once() -> None:
    found = dedup.shingles(["one two three four five", "article content", "article content"])
    assert found == {b"one two three four", b"two three four five", b"article content"}


def test_signature_is_compact_bytes_and_ignores_shingle_order() -> None:
    a = dedup.signature({b"alpha", b"beta", b"gamma"})
    b = dedup.signature({b"gamma", b"alpha", b"beta"})
    assert a == b
    assert len(a) == dedup.NUM_PERM * 4
    assert dedup.BANDS * dedup.ROWS == dedup.NUM_PERM


def test_signature_is_golden() -> None:
    """Stored signatures stay comparable only while this digest holds.

    If a rensa upgrade or a change of seed or shingling breaks it, every stored
    signature and band key must be recomputed before new articles are compared with them.
    """
    sig = _print(CTV_TITLE, CTV_TEXT).signature
    assert hashlib.sha256(sig).hexdigest()[:16] == GOLDEN_SIGNATURE_DIGEST


GOLDEN_SIGNATURE_DIGEST = "4de9d4f3a105be8c"


def test_band_keys_are_identical_in_another_process() -> None:
    here = [(k.band, k.hash) for k in dedup.band_keys(_print(CTV_TITLE, CTV_TEXT))]
    code = (
        "from datetime import UTC, datetime\n"
        "from parsers import dedup\n"
        "from tests.test_dedup import CTV_TEXT, CTV_TITLE\n"
        "fp = dedup.fingerprint(CTV_TITLE, CTV_TEXT, language='en', outlet='',"
        " seen_at=datetime.now(UTC))\n"
        "print([(k.band, k.hash) for k in dedup.band_keys(fp)])\n"
    )
    # A fresh interpreter has another string-hash seed: keys must not depend on it.
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "random", "PATH": ""},
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert result.stdout.strip() == str(here)


def test_band_keys_are_64_bit_and_cover_every_band_plus_the_title() -> None:
    keys = dedup.band_keys(_print(CTV_TITLE, CTV_TEXT))
    assert [k.band for k in keys] == [*range(dedup.BANDS), dedup.TITLE_BAND]
    assert all(-(2**63) <= k.hash < 2**63 for k in keys)


def test_band_keys_depend_on_language() -> None:
    en = dedup.band_keys(_print(CTV_TITLE, CTV_TEXT, language="en"))
    fr = dedup.band_keys(_print(CTV_TITLE, CTV_TEXT, language="fr"))
    assert not {k.hash for k in en} & {k.hash for k in fr}


def test_short_text_is_filed_under_its_title_only() -> None:
    brief = _print(CTV_TITLE, "Ottawa tabled its immigration levels plan on Tuesday.")
    assert brief.short
    assert [k.band for k in dedup.band_keys(brief)] == [dedup.TITLE_BAND]


def test_generic_title_gives_no_title_key() -> None:
    assert dedup.title_key(_print("Live updates", "Short text.")) is None


# --- estimated Jaccard and the length ratio ----------------------------------------------


def test_estimated_jaccard_of_identical_and_unrelated_texts() -> None:
    a = _print(CTV_TITLE, WIRE_EN)
    assert dedup.estimated_jaccard(a.signature, a.signature) == 1.0
    assert _jaccard(a, _print(OWN_STORY_TITLE, OWN_STORY_TEXT)) < 0.1


def test_estimated_jaccard_rejects_signatures_of_different_sizes() -> None:
    with pytest.raises(ValueError):
        dedup.estimated_jaccard(b"\0" * 8, b"\0" * 12)


@pytest.mark.parametrize(
    ("a", "b", "ok"),
    [(100, 100, True), (100, 125, True), (100, 126, False), (0, 0, False), (10, 0, False)],
)
def test_length_ratio_bounds_the_possible_jaccard(a: int, b: int, ok: bool) -> None:
    assert dedup.length_ratio_ok(a, b, 0.8) is ok


# --- the verdict ---------------------------------------------------------------------------


def same_wire_story_ctv_and_global() -> tuple[Fingerprint, Fingerprint]:
    return _print(CTV_TITLE, CTV_TEXT), _print(GLOBAL_TITLE, GLOBAL_TEXT)


def same_wire_story_ctv_and_national_post() -> tuple[Fingerprint, Fingerprint]:
    return _print(CTV_TITLE, CTV_TEXT), _print(NATIONAL_POST_TITLE, NATIONAL_POST_TEXT)


def edited_copy() -> tuple[Fingerprint, Fingerprint]:
    return _print(CTV_TITLE, CTV_TEXT), _print(EDITED_TITLE, EDITED_TEXT)


def bare_wire_and_each_extended_version() -> tuple[Fingerprint, Fingerprint]:
    return _print(CTV_TITLE, WIRE_EN), _print(CTV_TITLE, WIRE_WITH_QUEBEC)


def truncated_copy() -> tuple[Fingerprint, Fingerprint]:
    """A copy cut to its first half: every one of its paragraphs is the wire's."""
    first_half = "\n\n".join(WIRE_PARAGRAPHS[:4])
    return _print(CTV_TITLE, WIRE_EN), _print(CTV_TITLE, first_half)


def short_items_with_one_title_a_day_apart() -> tuple[Fingerprint, Fingerprint]:
    brief = "Ottawa tabled its immigration levels plan on Tuesday. More to come."
    return (
        _print("Ottawa cuts immigration targets - CTV News", brief, outlet="ctvnews.ca"),
        _print(
            "Ottawa cuts immigration targets | Globalnews.ca",
            "The federal government released new targets.",
            outlet="globalnews.ca",
            at=NOW + timedelta(hours=20),
        ),
    )


def short_item_and_full_story_with_one_title() -> tuple[Fingerprint, Fingerprint]:
    return _print(CTV_TITLE, "Ottawa tabled its levels plan on Tuesday."), _print(
        CTV_TITLE, CTV_TEXT
    )


@pytest.mark.parametrize(
    "pair",
    [
        same_wire_story_ctv_and_global,
        same_wire_story_ctv_and_national_post,
        edited_copy,
        bare_wire_and_each_extended_version,
        truncated_copy,
        short_items_with_one_title_a_day_apart,
        short_item_and_full_story_with_one_title,
    ],
)
def test_near_duplicates(pair: object) -> None:
    a, b = pair()  # type: ignore[operator]
    assert dedup.is_near_duplicate(a, b)
    assert dedup.is_near_duplicate(b, a)


def other_newsroom_same_event() -> tuple[Fingerprint, Fingerprint]:
    return _print(CTV_TITLE, CTV_TEXT), _print(OWN_STORY_TITLE, OWN_STORY_TEXT)


def french_translation() -> tuple[Fingerprint, Fingerprint]:
    return _print(CTV_TITLE, CTV_TEXT), _print(WIRE_FR_TITLE, WIRE_FR, language="fr")


def french_translation_even_if_mislabelled() -> tuple[Fingerprint, Fingerprint]:
    return _print(CTV_TITLE, CTV_TEXT), _print(WIRE_FR_TITLE, WIRE_FR, language="en")


def same_text_in_another_language_label() -> tuple[Fingerprint, Fingerprint]:
    return _print(CTV_TITLE, CTV_TEXT, language="en"), _print(CTV_TITLE, CTV_TEXT, language="fr")


def two_extended_versions() -> tuple[Fingerprint, Fingerprint]:
    return _print(CTV_TITLE, WIRE_WITH_QUEBEC), _print(CTV_TITLE, WIRE_WITH_BUSINESS)


def short_items_with_one_title_three_days_apart() -> tuple[Fingerprint, Fingerprint]:
    brief = "Ottawa tabled its immigration levels plan on Tuesday."
    return _print(CTV_TITLE, brief), _print(CTV_TITLE, brief, at=NOW + timedelta(days=3))


def short_items_with_different_titles() -> tuple[Fingerprint, Fingerprint]:
    brief = "Ottawa tabled its immigration levels plan on Tuesday."
    return _print(CTV_TITLE, brief), _print(NATIONAL_POST_TITLE, brief)


def long_stories_with_one_generic_title() -> tuple[Fingerprint, Fingerprint]:
    return _print(CTV_TITLE, CTV_TEXT), _print(CTV_TITLE, OWN_STORY_TEXT)


@pytest.mark.parametrize(
    "pair",
    [
        other_newsroom_same_event,
        french_translation,
        french_translation_even_if_mislabelled,
        same_text_in_another_language_label,
        two_extended_versions,
        short_items_with_one_title_three_days_apart,
        short_items_with_different_titles,
        long_stories_with_one_generic_title,
    ],
)
def test_not_near_duplicates(pair: object) -> None:
    a, b = pair()  # type: ignore[operator]
    assert not dedup.is_near_duplicate(a, b)
    assert not dedup.is_near_duplicate(b, a)


def test_threshold_is_configurable() -> None:
    a, b = two_extended_versions()
    similarity = _jaccard(a, b)
    assert dedup.is_near_duplicate(a, b, threshold=similarity - 0.01)
    assert not dedup.is_near_duplicate(a, b, threshold=similarity + 0.01)


def test_match_says_why() -> None:
    a, b = same_wire_story_ctv_and_global()
    found = dedup.match(a, b)
    assert found is not None and found.basis == "text" and 0.8 <= found.similarity <= 1.0
    a, b = short_items_with_one_title_a_day_apart()
    assert dedup.match(a, b) == dedup.Match(1.0, "title")


@pytest.mark.parametrize("case", CASES, ids=[case.kind for case in CASES])
def test_reworked_wire_copies_match_and_lookalikes_do_not(case: Case) -> None:
    original = _print(case.original.title, case.original.body)
    variant = _print(case.variant.title, case.variant.body, at=NOW + timedelta(hours=2))
    assert dedup.is_near_duplicate(original, variant) is case.copy
    assert dedup.is_near_duplicate(variant, original) is case.copy


def test_a_new_lede_is_found_by_passages_where_jaccard_falls_short() -> None:
    original = _print(WIRE.title, WIRE.body)
    relede = _print(NEW_LEDE.title, NEW_LEDE.body)
    assert dedup.estimated_jaccard(original.signature, relede.signature) < 0.8
    assert dedup.match(original, relede) == dedup.Match(6 / 7, "passages")


def test_passages_skip_short_lines_and_repeats() -> None:
    text = "Photo: staff\n\n" + WIRE.paragraphs[0] + "\n\n" + WIRE.paragraphs[0].upper()
    [passage] = dedup.text_passages(text)  # the caption is short, the repeat differs in case only
    assert passage == dedup.text_passages(WIRE.paragraphs[0])[0]


def test_a_sketch_crosses_to_the_storing_process_with_its_passages_as_tuples() -> None:
    # Sketches are made in a worker and unpickled in the run's process: each passage is one
    # object there (no per-instance dict), and the sketch comes back equal.
    sketch = dedup.sketch(WIRE.body, "hash")
    assert sketch.passages
    assert not any(hasattr(passage, "__dict__") for passage in sketch.passages)
    loaded = pickle.loads(pickle.dumps(sketch, protocol=pickle.HIGHEST_PROTOCOL))
    assert loaded == sketch
    assert [p._asdict() for p in loaded.passages] == [p._asdict() for p in sketch.passages]


def test_a_template_filled_with_other_names_and_figures_has_the_same_shapes() -> None:
    a = dedup.text_passages(
        "Expect sun in Trois-Rivières today, with a high of 14 degrees and wind."
    )
    b = dedup.text_passages("Expect sun in Sherbrooke today, with a high of 9 degrees and wind.")
    assert a[0].hash != b[0].hash and a[0].shape == b[0].shape
    assert dedup.other_figures(a, b, shared=set())


# --- titles and outlets --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "outlet", "expected"),
    [
        ("Ottawa cuts targets - CTV News", "ctvnews.ca", "ottawa cuts targets"),
        ("Ottawa cuts targets | Globalnews.ca", "Global News", "ottawa cuts targets"),
        ("Québec veut plus de pouvoirs — La Presse", "lapresse.ca", "quebec veut plus de pouvoirs"),
        ("Levels plan - what changes", "ctvnews.ca", "levels plan what changes"),
        ("National Post", "nationalpost.com", "national post"),
    ],
)  # fmt: skip
def test_normalised_title_cuts_the_outlets_suffix(title: str, outlet: str, expected: str) -> None:
    assert dedup.normalised_title(title, outlet) == expected


@pytest.mark.parametrize(
    ("url", "source", "expected"),
    [
        ("https://www.ctvnews.ca/politics/levels-plan-1.7000000", "CTV Politics", "ctvnews.ca"),
        ("https://m.ctvnews.ca/canada/other-story", "CTV News Canada", "ctvnews.ca"),
        ("urn:vigie:import:0123456789abcdef", "The Canadian Press", "The Canadian Press"),
    ],
)  # fmt: skip
def test_outlet_is_the_site_of_a_web_url(url: str, source: str, expected: str) -> None:
    assert dedup.outlet_of(url, source) == expected


_WORDS = st.sampled_from(
    [
        "the",
        "plan",
        "Ottawa",
        "«Québec",
        "—Two",
        "«ici",
        "380,000",
        "x9",
        "٣",
        "e\u0301te",
        "ÉTÉ",
        ",",
    ]
)
_SKETCH_TEXT = st.lists(st.lists(_WORDS, max_size=12).map(" ".join), max_size=5).map("\n".join)


@settings(max_examples=300)
@given(_SKETCH_TEXT)
def test_a_sketch_is_its_parts_made_one_by_one(text: str) -> None:
    """``sketch`` splits each paragraph once and spares the digit search of paragraphs
    without digits; what it gives must be what its public parts give."""
    paragraphs = dedup.normalised_paragraphs(text)
    made = dedup.sketch(text, "hash")
    assert made.signature == dedup.signature(dedup.shingles(paragraphs))
    assert made.words == sum(len(p.split()) for p in paragraphs)
    assert made.passages == dedup.text_passages(text)
    shapes = [
        " ".join(
            word
            for word in paragraph.split()
            if not (word.lstrip("«“\"'(¿¡—–-")[:1].isupper() or any(c.isdecimal() for c in word))
        ).lower()
        for paragraph in text.split("\n")
    ]
    for passage in made.passages:
        assert passage.shape in {dedup._passage_hash(shape) for shape in shapes}
