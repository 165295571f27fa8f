"""What the tagger judges: where a story happens, what a word means, a topic's scope, near
rules, primary and secondary topics, and passing mentions. Examples written for these tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from cli.render import render_article
from db import queries, repo
from db.engine import make_engine, make_sessions
from db.intents import ArticleIntent
from db.migrate import upgrade
from flows.pipeline import tag_specs
from parsers.exceptions import ConfigError
from parsers.relevance import AnchorClue, TopicClue, judge
from parsers.tagging import Tagger
from parsers.taxonomy import TOPIC_KEYS, load_taxonomy
from parsers.text import content_hash
from tests.tagged import tag_checked

TAXONOMY = Path(__file__).resolve().parent.parent / "seeds" / "taxonomy.toml"


# --- Where the story happens ------------------------------------------------------------------

FOREIGN = {
    "uk": (
        "Home Office tightens rules for care workers",
        "The Home Secretary said visa applications from care workers fell sharply. Britain "
        "will also cap student visas, the government in London announced.",
    ),
    "germany": (
        "L'Allemagne refoule des demandeurs d'asile",
        "Le ministre de l'Intérieur allemand a ordonné de refouler les demandeurs d'asile à la "
        "frontière. Berlin dit vouloir réduire l'immigration irrégulière.",
    ),
    "eu": (
        "Canadians will need a travel authorisation for Europe",
        "Travellers from Canada will need an online authorisation before visiting the Schengen "
        "area, the European Commission said. The European Union insists it is not a visa; "
        "the visa-free regime stays.",
    ),
    "us city": (
        "New York asks Washington for help with asylum costs",
        "The mayor of New York said the cost of sheltering asylum seekers keeps rising and "
        "asked Congress and the White House for more federal funding.",
    ),
}


@pytest.mark.parametrize("name", sorted(FOREIGN))
def test_foreign_immigration_stories_are_not_relevant(tagger: Tagger, name: str) -> None:
    title, text = FOREIGN[name]
    result = tag_checked(tagger, text, title)
    assert not result.relevant, result.why
    assert result.topics == ()
    assert result.mentioned  # the topic words are still there, as mentions
    assert result.geography is not None and result.geography.foreign > 0


def test_a_canadian_story_that_names_the_us_stays_relevant(tagger: Tagger) -> None:
    result = tag_checked(
        tagger,
        "Asylum seekers crossing from the United States at Roxham Road will be turned back, "
        "Ottawa said, under the expanded Safe Third Country Agreement with Washington.",
        "Canada closes Roxham Road",
    )
    assert result.relevant, result.why
    assert {"asylum_refugees", "border_enforcement"} <= set(result.topics)


def test_provinces_are_canadian_anchors(tagger: Tagger) -> None:
    result = tag_checked(tagger, "Manitoba wants more asylum seekers settled in Winnipeg.")
    assert {"western_provinces"} <= set(result.places)
    assert result.geography is not None and result.geography.canadian > 0
    assert result.relevant


# Party names and offices that other countries share: no Canadian anchor on their own.
SHARED_NAMES_ABROAD = {
    "en": (
        "Care worker visas fall after Conservatives' rule change",
        "Applications for care worker visas fell by a third in a year, figures published in "
        "Britain show. The Conservatives barred care workers from bringing their families, "
        "and the Tories' former minister defended the cut.\nThe Liberals said the rule "
        "should go. The House of Commons will debate the visa rules next month.",
    ),
    "fr": (
        "Les libéraux veulent plafonner les étudiants étrangers",
        "Le gouvernement libéral veut un plafond d'étudiants étrangers, a annoncé le ministre "
        "en Australie. Les conservateurs jugent le plafonnement des étudiants étrangers trop "
        "timide.\nLes libéraux promettent aussi de réduire l'immigration l'an prochain.",
    ),
}


@pytest.mark.parametrize("lang", sorted(SHARED_NAMES_ABROAD))
def test_party_names_abroad_do_not_place_a_story_in_canada(tagger: Tagger, lang: str) -> None:
    title, text = SHARED_NAMES_ABROAD[lang]
    result = tag_checked(tagger, text, title)
    assert not result.relevant, result.why
    assert result.geography is not None and result.geography.canadian == 0, result.why
    assert not {"liberals", "conservatives", "canadian_institutions"} & set(result.organisations)
    assert result.programmes == ()  # a cap on foreign students is not Canada's study permit cap


@pytest.mark.parametrize(
    ("title", "text"),
    [
        (
            "Conservatives want fewer temporary foreign workers",
            "The Conservatives in Ottawa say the temporary foreign worker program must shrink. "
            "The Liberals answered in the House of Commons that employers need the workers.",
        ),
        (
            "Les conservateurs veulent réduire l'immigration",
            "Les conservateurs promettent de réduire l'immigration s'ils forment le "
            "gouvernement. Le Parti libéral du Canada réplique que les libéraux ont déjà "
            "baissé les seuils d'immigration.",
        ),
    ],
)
def test_party_names_count_in_a_canadian_story(tagger: Tagger, title: str, text: str) -> None:
    result = tag_checked(tagger, text, title)
    assert result.relevant, result.why
    assert {"liberals", "conservatives"} <= set(result.organisations)


# --- Names that say a topic word, and money ------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Dana Roy, minister of immigration, refugees, and citizenship, said Canada will "
        "lift the visa requirement for visitors from three countries in June.",
        "Under the Immigration and Refugee Protection Act, Ottawa may sign immigration "
        "agreements with the provinces, and Quebec signed one on the selection of workers.",
        "En vertu de la Loi sur l'immigration et la protection des réfugiés, Ottawa peut "
        "conclure des ententes avec les provinces, comme le Québec l'a fait.",
    ],
)
def test_a_name_that_says_refugee_is_no_evidence_of_asylum(tagger: Tagger, text: str) -> None:
    result = tag_checked(tagger, text)
    assert "asylum_refugees" not in {e.topic for e in result.evidence}, result.why


@pytest.mark.parametrize(
    ("title", "text"),
    [
        (
            "Ottawa pledges $250 million to house asylum seekers",
            "The federal government will add $250 million to its interim housing program for "
            "asylum seekers, the minister said in Ottawa.",
        ),
        (
            "Québec réclame 300 M$ pour l'accueil des demandeurs d'asile",
            "Le gouvernement du Québec demande 300 millions de dollars à Ottawa pour les "
            "demandeurs d'asile hébergés à Montréal.",
        ),
    ],
)
def test_a_sum_for_newcomers_is_evidence_of_funding(tagger: Tagger, title: str, text: str) -> None:
    result = tag_checked(tagger, text, title)
    assert result.relevant, result.why
    assert {"asylum_refugees", "funding_costs"} <= set(result.topics), result.why


def test_one_sum_in_the_body_is_a_passing_mention_of_money(tagger: Tagger) -> None:
    result = tag_checked(
        tagger,
        "Ottawa announced new rules for international students on Thursday. Colleges must "
        "confirm every acceptance letter. Each international student must now show $20,635 to "
        "get a study permit.",
        "Ottawa tightens study permit rules",
    )
    assert result.topics == ("temporary_residents",), result.why
    assert "funding_costs" in result.mentioned


def test_a_sum_without_newcomers_is_no_evidence_of_funding(tagger: Tagger) -> None:
    result = tag_checked(
        tagger,
        "Quebec asks Ottawa for $2 billion more for hospitals. Ottawa says health transfers "
        "already grew by $500 million this year.",
        "Quebec wants $2 billion for health care",
    )
    assert "funding_costs" not in {e.topic for e in result.evidence}, result.why


@pytest.mark.parametrize(
    ("title", "text"),
    [
        (
            "Québec fixe ses propres plafonds pour les étudiants étrangers",
            "Le gouvernement limite le nombre de demandes de permis d'études des étudiants "
            "étrangers dans les cégeps et les universités.",
        ),
        (
            "Ottawa sets a cap for international students",
            "The cap for international students will cut new study permits by a third, the "
            "immigration minister said in Ottawa.",
        ),
    ],
)
def test_a_cap_on_students_is_temporary_residents_not_levels(
    tagger: Tagger, title: str, text: str
) -> None:
    result = tag_checked(tagger, text, title)
    assert result.topics and result.topics[0] == "temporary_residents", result.why
    assert "immigration_levels" not in result.topics, result.why


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        (
            "The RCMP intercepted 900 people between the ports of entry in July, most of them "
            "near Lacolle, Quebec.",
            "border_enforcement",
        ),
        (
            "La GRC a intercepté 900 personnes entre les points d'entrée en juillet, surtout "
            "près de Lacolle, au Québec.",
            "border_enforcement",
        ),
        (
            "Quebec wants 80% of newcomers to speak fluent French within three years.",
            "integration_french",
        ),
        (
            "Québec veut que 80 % des personnes admises parlent suffisamment bien le français.",
            "integration_french",
        ),
        (
            "Ottawa cut settlement services for newcomers in three B.C. towns this spring.",
            "integration_french",
        ),
        (
            "Les organismes d'accueil des nouveaux arrivants de Sherbrooke perdent leurs "
            "services d'établissement.",
            "integration_french",
        ),
        (
            "Ottawa will send irregular migrants back to the United States from Saturday.",
            "asylum_refugees",
        ),
        (
            "Les migrants irréguliers seront renvoyés aux États-Unis dès samedi, dit Ottawa.",
            "asylum_refugees",
        ),
        (
            "Ottawa alone selects immigrants in the family category, and Quebec in the "
            "economic one.",
            "family_reunification",
        ),
        (
            "Dans la catégorie de la famille, Ottawa sélectionne seul les immigrants.",
            "family_reunification",
        ),
        (
            "Ontario and Ottawa signed a new agreement on immigration on Friday.",
            "jurisdiction",
        ),
        (
            "Québec rappelle son entente unique au Canada sur l'immigration.",
            "jurisdiction",
        ),
    ],
)
def test_common_phrasings_of_a_topic_are_evidence(tagger: Tagger, text: str, topic: str) -> None:
    result = tag_checked(tagger, text)
    assert topic in {e.topic for e in result.evidence}, result.why


def test_the_safe_third_country_agreement_is_not_a_federal_provincial_one(
    tagger: Tagger,
) -> None:
    result = tag_checked(
        tagger,
        "The Safe Third Country Agreement on immigration between Canada and the United "
        "States now covers the whole border.",
    )
    assert "jurisdiction" not in {e.topic for e in result.evidence}, result.why


# Common phrasings, written the ways news writes them: plural, elided, unaccented,
# hyphenated, and in capitals in a headline.
PHRASINGS = {
    "asylum_refugees": [
        "Les demandeurs d'asile arrivent à Montréal",
        "Les demandeurs d’asile arrivent à Montréal",
        "Les demandeurs d asile arrivent a Montreal",
        "Asylum-Seeker Numbers Climb In Quebec",
    ],
    "immigration_levels": [
        "Québec baisse ses seuils d'immigration",
        "Quebec baisse ses seuils d immigration",
        "Canada to admit 395,000 permanent residents in 2025",
        "Québec veut admettre 45 000 nouveaux arrivants par année",
    ],
    "economic_immigration": [
        "Québec suspend le Programme de l'expérience québécoise",
        "Quebec suspend le programme de l experience quebecoise",
        "Les CSQ délivrés aux travailleurs",
    ],
    "temporary_residents": [
        "Québec gèle les permis de travail fermés à Montréal",
        "Ottawa limite les permis fermés des travailleurs",
        "Ottawa extends the study-permit cap",
        "Canada tightens rules for temporary foreign workers",
        "Le nombre de résidents non permanents augmente au Canada",
    ],
    "visas": ["Travellers from 13 more countries can apply for an eTA to fly to Canada"],
    "jurisdiction": [
        "Québec réclame les compétences en immigration à Ottawa",
        "Québec veut la compétence en immigration",
        "Legault demands full immigration powers",
        "Québec réclame tous les pouvoirs en matière d'immigration",
    ],
    "integration_french": ["L'apprentissage du français par les nouveaux arrivants piétine"],
    "border_enforcement": ["Canada and the U.S. expand the Safe Third Country Agreement"],
    "family_reunification": [
        "Québec plafonne le regroupement familial",
        "Quebec plafonne le regroupement familial des immigrants",
    ],
    "funding_costs": ["Québec réclame 470 M$ pour les demandeurs d'asile"],
}


@pytest.mark.parametrize(
    ("topic", "headline"), [(t, h) for t, heads in PHRASINGS.items() for h in heads]
)
@pytest.mark.parametrize("case", ["as written", "in capitals"])
def test_common_phrasings_in_headlines(
    tagger: Tagger, topic: str, headline: str, case: str
) -> None:
    title = headline.upper() if case == "in capitals" else headline
    result = tag_checked(tagger, "", title)
    assert topic in {e.topic for e in result.evidence}, result.why


def test_drugs_intercepted_at_customs_are_not_border_enforcement(tagger: Tagger) -> None:
    result = tag_checked(tagger, "CBSA officers intercepted 500 kilograms of cocaine in Montreal.")
    assert "border_enforcement" not in {e.topic for e in result.evidence}, result.why


def test_french_without_newcomers_is_not_their_proficiency(tagger: Tagger) -> None:
    result = tag_checked(
        tagger, "Most Montreal students speak French at home, a school board says."
    )
    assert "integration_french" not in {e.topic for e in result.evidence}, result.why


# --- What a word means ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "text", "topic"),
    [
        (
            "Card network reports strong quarter",
            "Visa and Mastercard both raised their fees for Canadian merchants; Visa Inc. said "
            "its payments volume grew in Canada.",
            "visas",
        ),
        (
            "L'histoire de l'asile de Beauport",
            "L'asile Saint-Michel-Archange accueillait des patients psychiatriques à Québec. "
            "L'asile a fermé ses portes au siècle dernier.",
            "asylum_refugees",
        ),
        (
            "Refugee team marches at the Olympics",
            "The Refugee Olympic Team includes a swimmer who trained in Montreal; the refugee "
            "athletes received a standing ovation.",
            "asylum_refugees",
        ),
    ],
)
def test_other_senses_of_topic_words_are_no_evidence(
    tagger: Tagger, title: str, text: str, topic: str
) -> None:
    result = tag_checked(tagger, text, title)
    assert topic not in result.topics and not result.relevant, result.why


def test_one_sense_per_article_for_a_word_seen_in_another_sense(tagger: Tagger) -> None:
    # "Asile Saint-…" shows the old sense; the bare "l'asile" later shares it.
    text = "Asile Saint-Benoît: l'asile ouvre en 1890 à Montréal, et l'asile ferme en 1950."
    assert not [m for m in tag_checked(tagger, text).mentions if m.concept == "asylum_refugees"]


def test_trudeau_airport_is_a_place_not_the_prime_minister(tagger: Tagger) -> None:
    result = tag_checked(tagger, "Customs lines at Trudeau airport grew to two hours on Friday.")
    assert "trudeau" not in result.actors
    assert not result.relevant


# --- A topic's scope ----------------------------------------------------------------------------


def test_french_without_newcomers_is_language_law_not_integration(tagger: Tagger) -> None:
    text = (
        "Under the Charter of the French Language, shops must put up signs in French, and "
        "English colleges face a cap on enrolment, the Quebec government said."
    )
    result = tag_checked(tagger, text, "Quebec enforces French on shop signs")
    assert "integration_french" not in result.topics and not result.relevant, result.why


def test_french_for_newcomers_is_integration(tagger: Tagger) -> None:
    text = "Quebec will offer free French classes to newcomers in every region, the minister said."
    result = tag_checked(tagger, text, "Free French classes for newcomers")
    assert result.topics[0] == "integration_french", result.why


def test_quebec_ottawa_money_needs_immigration_in_the_sentence(tagger: Tagger) -> None:
    child_care = tag_checked(
        tagger,
        "Quebec will receive $6 billion in federal compensation for its child-care network.",
        "Ottawa and Quebec sign child-care deal",
    )
    asylum = tag_checked(
        tagger,
        "Quebec wants Ottawa to reimburse the $1 billion it spent housing asylum seekers.",
        "Quebec asks Ottawa to pay for asylum seekers",
    )
    assert "funding_costs" not in child_care.topics and not child_care.relevant
    assert "funding_costs" in asylum.topics


# --- Near rules ---------------------------------------------------------------------------------


def test_a_province_ending_immigration_detention_is_border_enforcement(tagger: Tagger) -> None:
    text = (
        "Nova Scotia will stop holding immigration detainees in its jails for the Canada "
        "Border Services Agency, the province announced on Tuesday."
    )
    result = tag_checked(tagger, text, "Nova Scotia ends jail agreement with border agency")
    assert result.relevant, result.why
    assert result.topics[0] == "border_enforcement"
    near = [m for m in result.mentions if m.concept == "border_enforcement"]
    assert near and "detainees" in near[0].text


def test_detention_far_from_immigration_is_no_evidence(tagger: Tagger) -> None:
    text = (
        "Pre-trial detention in provincial jails is rising, a report said; the minister of "
        "public safety blamed court delays and not immigration."
    )
    assert "border_enforcement" not in tag_checked(tagger, text).mentioned


def test_powers_over_immigration_is_jurisdiction(tagger: Tagger) -> None:
    text = (
        "The premier wants Quebec to hold every power in immigration, and says Ottawa "
        "should hand over its remaining powers for newcomers."
    )
    result = tag_checked(tagger, text, "Quebec wants the last word on newcomers")
    assert "jurisdiction" in result.topics


def test_a_quarrel_over_jurisdiction_counts_only_in_an_immigration_story(
    tagger: Tagger,
) -> None:
    quarrel = "Quebec says Ottawa is encroaching on provincial jurisdiction once again."
    child_care = tag_checked(tagger, quarrel + " The dispute is over the new child-care plan.")
    immigration = tag_checked(
        tagger,
        quarrel + " The dispute is over who picks the skilled workers who settle here.",
        "Quebec and Ottawa clash over skilled workers",
    )
    assert "jurisdiction" not in child_care.mentioned and not child_care.relevant
    assert "jurisdiction" in immigration.topics + immigration.mentioned
    assert "economic_immigration" in immigration.topics


def _with_near(tmp_path: Path, near: str) -> Path:
    text = TAXONOMY.read_text(encoding="utf-8")
    marker = 'key = "visas"'
    start = text.index(marker)
    end = text.index("[[concept]]", start)
    path = tmp_path / "taxonomy.toml"
    path.write_text(text[:end] + near + "\n" + text[end:], encoding="utf-8")
    return path


def test_an_analyst_writes_a_near_rule_in_toml(tmp_path: Path) -> None:
    rule = '[[concept.near]]\nany = ["passport*"]\nwith = ["tourist*"]\nwithin = 2\n'
    tagger = Tagger(load_taxonomy(_with_near(tmp_path, rule)))
    near = tagger.tag("", "Mexican tourists need passports and an eTA.").mentions
    far = tagger.tag("", "Tourists came. Passports were checked at the airport gate today.")
    # The eTA counts too: it sits beside travel words (passports).
    assert [m.text for m in near if m.concept == "visas"] == ["tourists need passports", "eTA"]
    assert not [m for m in far.mentions if m.concept == "visas"]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ('[[concept.near]]\nany = ["a"]\n', "give both sides"),
        ('[[concept.near]]\nany = ["a"]\nwith = ["b"]\nwithin = -1\n', "within must be"),
        ('[[concept.near]]\nany = ["a"]\nwith = ["b"]\nwithn = 2\n', "did you mean 'within'"),
        ('[[concept.near]]\nany = ["@nope"]\nwith = ["b"]\n', "unknown set @nope"),
    ],
)
def test_a_bad_near_rule_is_one_clear_line(tmp_path: Path, rule: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_taxonomy(_with_near(tmp_path, rule))
    assert "\n" not in str(caught.value)
    number = len(load_taxonomy(TAXONOMY).concept("visas").near) + 1  # the rule appended
    assert f"'visas': near rule #{number}" in str(caught.value)
    assert message in str(caught.value)


def test_near_rules_belong_to_topics(tmp_path: Path) -> None:
    actor = (
        '\n[[concept]]\nkey = "someone"\nkind = "actor"\nlabel_en = "S"\nlabel_fr = "S"\n'
        'role = "MP"\nterms_en = ["Someone"]\n[[concept.near]]\nany = ["a"]\nwith = ["b"]\n'
    )
    path = tmp_path / "taxonomy.toml"
    path.write_text(TAXONOMY.read_text(encoding="utf-8") + actor, encoding="utf-8")
    with pytest.raises(ConfigError, match="'someone': only topics have near rules"):
        load_taxonomy(path)


def test_scope_words_are_checked_like_context_words(tmp_path: Path) -> None:
    text = TAXONOMY.read_text(encoding="utf-8").replace(
        'scope = ["@newcomers"]', 'scope = ["@newcomer"]'
    )
    path = tmp_path / "taxonomy.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="'integration_french': scope uses unknown set"):
        load_taxonomy(path)


# --- Primary and secondary topics, passing mentions -------------------------------------------


def test_the_subject_leads_and_a_passing_mention_is_not_a_topic(tagger: Tagger) -> None:
    title = "Quebec asks Ottawa for full control over immigration"
    text = (
        "Premier François Legault wants Quebec to take over all powers over immigration, he "
        "told reporters in Quebec City.\n"
        "The province already selects its economic immigrants under the Canada-Quebec Accord "
        "and wants the same say over family reunification.\n"
        "Legault made the demand a week after a dispute over the cost of housing asylum "
        "seekers.\n"
        "Ottawa has so far refused any transfer of powers, the minister said."
    )
    result = tag_checked(tagger, text, title)
    assert result.primary_topic == "jurisdiction", result.why
    assert "asylum_refugees" not in result.topics  # one sentence, in passing
    assert "asylum_refugees" in result.mentioned
    assert "funding_costs" in result.mentioned


def test_a_topic_in_two_sentences_of_the_body_is_a_secondary_topic(tagger: Tagger) -> None:
    title = "Ottawa lowers its immigration targets"
    text = (
        "The federal government will admit fewer permanent residents over the next three "
        "years under its new levels plan.\n"
        "Officials expect fewer newcomers in every province.\n"
        "The plan also caps study permits for international students.\n"
        "Colleges say the cap on international students will cost them dearly."
    )
    result = tag_checked(tagger, text, title)
    assert result.topics[0] == "immigration_levels"
    assert "temporary_residents" in result.topics[1:]


def test_a_sentence_giving_a_figure_makes_a_point(tagger: Tagger) -> None:
    text = (
        "Quebec unveiled its plan for the coming years in the National Assembly on Tuesday.\n"
        "The province opened three new offices this year.\n"
        "Its settlement budget for newcomers rises to $120 million next year."
    )
    result = tag_checked(tagger, text, "Quebec unveils its immigration plan")
    assert "funding_costs" in result.topics, result.why


def test_the_judgement_is_arithmetic_on_clues() -> None:
    clues = [
        TopicClue("visas", (0, 0), 0, False, "title"),
        TopicClue("asylum_refugees", (1, 5), 2, False, "body"),
        TopicClue("visas", (1, 7), 2, False, "body"),
        TopicClue("visas", (1, 7), 2, False, "body, again"),  # one sentence counts once
    ]
    judged = judge(clues, [AnchorClue("canada", 1.0, True)], threshold=0.4)
    assert judged.topics == ("visas",)
    assert [(e.topic, e.weight, e.sentences, e.role) for e in judged.evidence] == [
        ("visas", 4.0, 2, "primary"),
        ("asylum_refugees", 1.0, 1, "mention"),
    ]
    assert judged.geography.canadian == 1.5
    # p = 3 (visas, capped) + 1 (asylum); G = (1.5 + 0.5) / (1.5 + 0 + 1)
    assert judged.score == pytest.approx((1 - 0.4**4) * 0.8, abs=1e-4)
    foreign = judge(clues, [AnchorClue("united_kingdom", -1.0, True)], threshold=0.4)
    assert not foreign.relevant and foreign.topics == ()


def test_every_topic_has_its_label_for_messages(tagger: Tagger) -> None:
    labels = {c.key: c.label_en for c in tagger.taxonomy.of_kind("topic")}
    assert set(labels) == set(TOPIC_KEYS) and all(labels.values())


# --- What is stored and shown -----------------------------------------------------------------


def test_a_version_stores_its_topics_passing_mentions_show_and_a_cut_is_noted(
    database_url: str, tagger: Tagger
) -> None:
    narrow = Tagger(tagger.taxonomy, max_chars=400)
    title = "Quebec asks Ottawa for full control over immigration"
    text = (
        "Premier François Legault wants Quebec to take over all powers over immigration.\n"
        "Ottawa has refused any transfer of powers so far, the minister said.\n"
        "He spoke a week after a dispute over housing asylum seekers.\n"
    ) + "The talks go on. " * 30
    url = "https://news.example/control"
    intent = ArticleIntent(
        canonical_url=url, url=url, title=title, text=text,
        content_hash=content_hash(title, text), language="en", published_at=None,
        source="news.example", site="news.example", origin="feed", tags=narrow.tag(title, text),
    )  # fmt: skip
    engine = make_engine(database_url)
    upgrade(engine)
    with make_sessions(engine).begin() as session:
        tag_ids = repo.sync_tags(session, tag_specs(tagger.taxonomy))
        repo.store_articles(session, [intent], tag_ids, datetime(2026, 11, 21, tzinfo=UTC))
        [row] = repo.list_articles(session)
    with engine.connect() as connection:  # as `vigie show` reads it
        article = queries.article_view(connection, row.id)
    assert article is not None
    console = Console(record=True, width=200)
    render_article(console, article)
    engine.dispose()

    assert row.topics == intent.tags.topics and row.topics[0] == "jurisdiction"
    shown = console.export_text()
    assert "topics: jurisdiction" in shown
    assert "mentioned in passing: asylum_refugees" in shown
    assert f"tagged in part: text cut to its first 400 of {len(text):,} characters" in shown


def test_an_alert_quotes_the_text_s_evidence_of_the_primary_topic(tagger: Tagger) -> None:
    result = tag_checked(
        tagger,
        "Visitors from Mexico spoke of the wait for asylum hearings.\n"
        "Ottawa will again require visas from Mexican travellers, the minister said.\n"
        "The visa requirement takes effect on Thursday, and travel agents expect delays.",
        "Canada brings back visas for Mexican travellers",
    )
    assert result.primary_topic == "visas"
    assert result.evidence_sentence.startswith("Ottawa will again require visas")
