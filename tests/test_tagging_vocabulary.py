"""Canadian and Quebec news written the ways the development set does not show: acronyms
(IRB, CISR, PVT), statuses in the Act's words ("protected persons"), conjugated French verbs,
figures between a verb and the people it counts, powers over one stream of immigration,
parties named without a place, and removals that are another country's or a sports team's.
Examples written for these tests, EN and FR, in the forms of headlines, ledes and wire copy."""

from __future__ import annotations

import pytest

from parsers.tagging import Tagger
from tests.tagged import tag_checked

# --- Relevant, with the topic they must give -----------------------------------------------------

RELEVANT = {
    "the refugee board's backlog": (
        (
            "IRB backlog tops 250,000 claims",
            "The Immigration and Refugee Board of Canada now has more than 250,000 pending "
            "claims, and wait times have grown to nearly four years, the board told MPs.",
        ),
        "asylum_refugees",
    ),
    "the refugee board's backlog (fr)": (
        (
            "L'arriéré à la CISR dépasse les 250 000 dossiers",
            "La Commission de l'immigration et du statut de réfugié compte plus de 250 000 "
            "demandes en attente, et les délais atteignent près de quatre ans, a-t-elle "
            "indiqué aux députés.",
        ),
        "asylum_refugees",
    ),
    "protected persons": (
        (
            "Protected persons wait years for permanent residence",
            "Thousands of protected persons in Canada are waiting up to three years for "
            "permanent residence, lawyers say. IRCC says it is adding staff.",
        ),
        "asylum_refugees",
    ),
    "protected persons (fr)": (
        (
            "Les personnes protégées attendent leur résidence permanente",
            "Des milliers de personnes protégées au Canada attendent jusqu'à trois ans leur "
            "résidence permanente, selon des avocats. IRCC affirme ajouter du personnel.",
        ),
        "asylum_refugees",
    ),
    "a conjugated verb of the third group (fr)": (
        (
            "Québec réduit l'immigration permanente",
            "Le gouvernement réduit l'immigration permanente à 45 000 personnes par année "
            "d'ici 2026.",
        ),
        "immigration_levels",
    ),
    "halving immigration": (
        (
            "PQ would halve immigration to Quebec",
            "The Parti Québécois says it would halve immigration if elected, bringing "
            "permanent admissions down to 35,000 a year.",
        ),
        "immigration_levels",
    ),
    "a range of figures before the people": (
        (
            "Quebec sets next year's plan",
            "Quebec plans to admit between 45,000 and 50,000 immigrants next year, the "
            "province's immigration minister said.",
        ),
        "immigration_levels",
    ),
    "a range of figures before the people (fr)": (
        (
            "Québec dévoile son plan",
            "Le Québec prévoit accueillir entre 45 000 et 50 000 immigrants l'an prochain, a "
            "indiqué la ministre de l'Immigration.",
        ),
        "immigration_levels",
    ),
    "permanent residents welcomed": (
        (
            "Ottawa to welcome fewer newcomers in 2025",
            "Canada will welcome 395,000 new permanent residents in 2025, down from 485,000, "
            "under the federal government's new plan.",
        ),
        "immigration_levels",
    ),
    "reunification of families (fr)": (
        (
            "La réunification des familles de réfugiés piétine",
            "Des centaines de réfugiés à Montréal attendent la réunification des familles "
            "depuis des années, dénoncent des organismes.",
        ),
        "family_reunification",
    ),
    "sponsoring a husband": (
        (
            "Montreal woman waits three years to sponsor her husband",
            "A Montreal woman says she has been waiting three years for Immigration Canada to "
            "approve the sponsorship of her husband, who lives in Algeria.",
        ),
        "family_reunification",
    ),
    "migrant workers": (
        (
            "Migrant workers on Ontario farms report abuse",
            "Migrant workers on farms in southwestern Ontario say they are housed in crowded "
            "bunkhouses, an advocacy group says. Ottawa says it will inspect more employers.",
        ),
        "temporary_residents",
    ),
    "migrant workers (fr)": (
        (
            "Des travailleurs migrants dénoncent leurs conditions",
            "Des travailleurs migrants guatémaltèques employés dans des fermes du Québec "
            "dénoncent leurs conditions de logement, selon un rapport remis au gouvernement "
            "fédéral.",
        ),
        "temporary_residents",
    ),
    "working holidays (fr)": (
        (
            "Le PVT plus difficile à obtenir",
            "Ottawa réduit le nombre de permis vacances-travail offerts aux jeunes Français "
            "dans le cadre du programme Expérience internationale Canada.",
        ),
        "temporary_residents",
    ),
    "control over temporary workers": (
        (
            "Quebec demands control over temporary foreign workers",
            "Quebec is demanding that Ottawa hand over control of temporary foreign workers in "
            "the province, Immigration Minister Jean-François Roberge said.",
        ),
        "jurisdiction",
    ),
    "control over temporary workers (fr)": (
        (
            "Québec veut plus de pouvoirs sur les travailleurs étrangers temporaires",
            "Québec demande à Ottawa de lui céder le contrôle des travailleurs étrangers "
            "temporaires sur son territoire, a indiqué le ministre Jean-François Roberge.",
        ),
        "jurisdiction",
    ),
    "removals in the plural (fr)": (
        (
            "Record de renvois par l'ASFC",
            "L'Agence des services frontaliers du Canada a procédé à plus de 16 000 renvois "
            "l'an dernier, surtout des demandeurs d'asile déboutés.",
        ),
        "border_enforcement",
    ),
    "the safe third countries, plural (fr)": (
        (
            "Tiers pays sûrs : la Cour suprême maintient l'entente",
            "La Cour suprême du Canada a confirmé la constitutionnalité de l'Entente sur les "
            "tiers pays sûrs.",
        ),
        "border_enforcement",
    ),
    "a refugee's portrait": (
        (
            "A Syrian refugee rebuilds his life in Sherbrooke",
            "Khaled escaped the bombing of his city with his wife and three children. Seven "
            "years later, the refugee runs a bakery in Sherbrooke, Quebec, and employs six "
            "people.",
        ),
        "asylum_refugees",
    ),
    "a refugee's portrait (fr)": (
        (
            "Un réfugié syrien refait sa vie à Sherbrooke",
            "Khaled a échappé aux bombardements avec sa femme et ses trois enfants. Sept ans "
            "plus tard, le réfugié tient une boulangerie à Sherbrooke et emploie six personnes.",
        ),
        "asylum_refugees",
    ),
    "master of its own immigration (fr)": (
        (
            "Immigration : Québec doit être seul maître, dit le PQ",
            "Le chef péquiste affirme que le Québec doit être le seul maître de son immigration.",
        ),
        "jurisdiction",
    ),
    "bringing immigration home (fr)": (
        (
            "Legault veut rapatrier l'immigration temporaire",
            "François Legault demande à Ottawa de rapatrier au Québec la gestion de "
            "l'immigration temporaire.",
        ),
        "jurisdiction",
    ),
    "population growth from immigration": (
        (
            "Canada's population tops 41 million on immigration surge",
            "Canada's population grew by more than one million people last year, almost "
            "entirely because of immigration, Statistics Canada said.",
        ),
        "immigration_levels",
    ),
    "a visa imposed, in a brief": (
        (
            "Visa imposed on Mexican visitors",
            "Mexican visitors need a visa again as of Thursday, Ottawa said.",
        ),
        "visas",
    ),
    "a cap on immigration": (
        (
            "Quebec caps immigration at 50,000",
            "Quebec will cap immigration at 50,000 people a year until 2027, the premier said.",
        ),
        "immigration_levels",
    ),
    "a cap on immigration, conjugated (fr)": (
        (
            "Québec plafonne l'immigration",
            "Le gouvernement plafonne l'immigration permanente à 45 000 personnes.",
        ),
        "immigration_levels",
    ),
    "the french newcomers must show": (
        (
            "Quebec to require French for permanent residence",
            "Economic immigrants to Quebec will need to show oral French at level 7 to get "
            "permanent residence, the immigration minister said.",
        ),
        "integration_french",
    ),
    "crossings from the united states": (
        (
            "Irregular crossings into Quebec up 30 per cent",
            "Irregular border crossings from the U.S. into Quebec rose 30 per cent in January, "
            "the RCMP said.",
        ),
        "border_enforcement",
    ),
    "crossings as u.s. agents raid": (
        (
            "Irregular crossings into Quebec rise",
            "Irregular border crossings into Quebec rose sharply as U.S. immigration agents "
            "stepped up raids in New York, the RCMP said.",
        ),
        "border_enforcement",
    ),
    "minors in immigration detention": (
        (
            "CBSA held 138 minors last year",
            "The Canada Border Services Agency held 138 minors in immigration detention last "
            "year, including children of failed refugee claimants awaiting deportation.",
        ),
        "border_enforcement",
    ),
    "the risk assessment before a removal": (
        (
            "Family loses PRRA bid, faces removal",
            "A Colombian family in Sherbrooke lost its pre-removal risk assessment and could be "
            "sent back within weeks, their lawyer said.",
        ),
        "border_enforcement",
    ),
    "a stay of removal (fr)": (
        (
            "La Cour fédérale accorde un sursis",
            "La Cour fédérale a accordé un sursis de renvoi à une Haïtienne de Montréal quelques "
            "jours avant son départ prévu.",
        ),
        "border_enforcement",
    ),
    "humanitarian and compassionate grounds": (
        (
            "Minister urged to let family stay on humanitarian grounds",
            "Advocates in Montreal want the immigration minister to grant the family permanent "
            "residence on humanitarian and compassionate grounds before their removal.",
        ),
        "asylum_refugees",
    ),
    "the canadian experience class": (
        (
            "Ottawa targets Canadian Experience Class candidates",
            "IRCC invited 3,000 Canadian Experience Class candidates to apply for permanent "
            "residence.",
        ),
        "economic_immigration",
    ),
    "immigrants in the quebec government's words (fr)": (
        (
            "Québec admettra moins de personnes immigrantes",
            "Le Québec admettra entre 45 000 et 50 000 personnes immigrantes en 2026, selon le "
            "plan déposé par le ministre.",
        ),
        "immigration_levels",
    ),
    "two parties and no place": (
        (
            "Liberals and Tories trade blame over asylum",
            "The Conservatives accused the Liberals of losing control of the asylum system on "
            "Tuesday.",
        ),
        "asylum_refugees",
    ),
    "two parties and no place (fr)": (
        (
            "Asile : les libéraux et les conservateurs s'accusent",
            "Les conservateurs accusent les libéraux d'avoir perdu le contrôle du système d'asile.",
        ),
        "asylum_refugees",
    ),
}


@pytest.mark.parametrize("name", sorted(RELEVANT))
def test_news_in_unseen_wording_is_relevant(tagger: Tagger, name: str) -> None:
    (title, text), topic = RELEVANT[name]
    result = tag_checked(tagger, text, title)
    assert result.relevant, result.why
    assert topic in result.topics, result.why


# --- Not relevant, or not that topic -----------------------------------------------------------

NOT_RELEVANT = {
    "a canadian deported by the united states": (
        "Canadian deported from U.S. after serving drug sentence",
        "A Toronto man who served eight years in a U.S. prison for drug trafficking was "
        "deported to Canada on Tuesday, U.S. Immigration and Customs Enforcement said. He was "
        "handed over at the Buffalo border crossing.",
    ),
    "a canadian deported by the united states (fr)": (
        "Un Québécois expulsé des États-Unis après une peine pour trafic de drogue",
        "Un Montréalais qui a purgé une peine de sept ans dans une prison américaine pour "
        "trafic de drogue a été expulsé vers le Canada mardi, selon les autorités américaines.",
    ),
    "a team deports a player to its farm club": (
        "Canadiens deport rookie to Laval",
        "The Montreal Canadiens deported their rookie forward to the Laval Rocket on Sunday "
        "after he went scoreless in five games. The coach said he needs more ice time in the "
        "AHL.",
    ),
    "aid to a refugee camp abroad": (
        "Fire tears through Rohingya refugee camp",
        "A fire destroyed thousands of shelters in a Rohingya refugee camp in Bangladesh. "
        "Canada pledged $5 million in emergency aid, the international development minister "
        "said.",
    ),
    "british parties": (
        "Tories and Labour clash over asylum hotels",
        "The Conservatives accused Labour of losing control of the asylum system, as the Home "
        "Secretary defended the plan.",
    ),
    "a work visa refused to a player": (
        "Canadiens forward refused visa, will miss opener",
        "The Montreal Canadiens' new Russian forward was refused a work visa and will miss the "
        "season opener, the coach said.",
    ),
}


@pytest.mark.parametrize("name", sorted(NOT_RELEVANT))
def test_look_alikes_in_unseen_wording_are_not_relevant(tagger: Tagger, name: str) -> None:
    title, text = NOT_RELEVANT[name]
    result = tag_checked(tagger, text, title)
    assert not result.relevant, result.why
    assert result.topics == ()


def test_a_province_s_own_control_of_its_selection_is_not_a_quarrel_over_powers(
    tagger: Tagger,
) -> None:
    result = tag_checked(
        tagger,
        "Le projet de loi donne au gouvernement du Québec le contrôle de la sélection des "
        "étudiants étrangers admis dans les cégeps et les universités.",
        "Québec encadre l'admission des étudiants étrangers",
    )
    assert "temporary_residents" in result.topics, result.why
    assert "jurisdiction" not in result.topics, result.why


def test_an_employer_s_power_over_workers_is_not_a_government_s(tagger: Tagger) -> None:
    result = tag_checked(
        tagger,
        "A UN special rapporteur says Canada's employer-specific work permits give bosses too "
        "much power over temporary foreign workers.",
        "Closed work permits give employers power over workers, UN says",
    )
    assert "temporary_residents" in result.topics, result.why
    assert "jurisdiction" not in {e.topic for e in result.evidence}, result.why


def test_two_shared_names_place_a_story_only_with_nothing_foreign(tagger: Tagger) -> None:
    canadian = tag_checked(
        tagger, "The Conservatives accused the Liberals of losing control of the asylum system."
    )
    assert canadian.geography is not None and canadian.geography.canadian > 0, canadian.why
    assert {"conservatives", "liberals"} <= set(canadian.organisations)
    british = tag_checked(
        tagger,
        "The Conservatives accused the Liberals of losing control of the asylum system, the "
        "Home Office said.",
    )
    assert british.geography is not None and british.geography.canadian == 0, british.why
    assert not {"conservatives", "liberals"} & set(british.organisations)


# --- Inflections: verbs in -sh and -ch, French verbs with their object --------------------------

INFLECTED = {
    "slashes": ("Ottawa slashes immigration by 20 per cent, the minister announced.", "en"),
    "augmente (fr)": (
        "Le gouvernement augmente l'immigration francophone, a annoncé le ministre.",
        "fr",
    ),
    "diminuera (fr)": (
        "Le gouvernement fédéral diminuera l'immigration permanente l'an prochain, selon le "
        "plan déposé aux Communes.",
        "fr",
    ),
}


@pytest.mark.parametrize("name", sorted(INFLECTED))
def test_conjugated_verbs_of_a_term_are_the_term(tagger: Tagger, name: str) -> None:
    text, _ = INFLECTED[name]
    result = tag_checked(tagger, text)
    assert "immigration_levels" in {e.topic for e in result.evidence}, result.why


def test_a_verb_form_needs_its_object(tagger: Tagger) -> None:
    # "augmente" alone is not "augmenter l'immigration".
    result = tag_checked(tagger, "Le prix de l'essence augmente à Montréal, selon la Régie.")
    assert "immigration_levels" not in {e.topic for e in result.evidence}, result.why


def test_a_government_s_promise_to_pay_is_funding(tagger: Tagger) -> None:
    result = tag_checked(
        tagger,
        "Le gouvernement fédéral paiera 100 millions pour l'hébergement des demandeurs d'asile "
        "au Québec.",
        "Demandeurs d'asile : Ottawa paiera",
    )
    assert {"asylum_refugees", "funding_costs"} <= set(result.topics), result.why


def test_the_skills_of_immigrants_are_not_a_province_s_powers(tagger: Tagger) -> None:
    skills = tag_checked(
        tagger,
        "La reconnaissance des compétences des travailleurs étrangers temporaires reste un défi "
        "pour les employeurs québécois, selon le gouvernement.",
        "Les compétences des travailleurs étrangers mal reconnues",
    )
    assert "temporary_residents" in skills.topics, skills.why
    assert "jurisdiction" not in {e.topic for e in skills.evidence}, skills.why
    powers = tag_checked(
        tagger,
        "Le gouvernement du Québec réclame à Ottawa toutes les compétences en immigration.",
        "Québec réclame les compétences en immigration",
    )
    assert "jurisdiction" in powers.topics, powers.why


def test_the_refugee_board_s_appeals_are_not_all_refugee_claims(tagger: Tagger) -> None:
    result = tag_checked(
        tagger,
        "The Immigration Appeal Division of the IRB allowed the sponsorship appeal of a "
        "Montreal man.",
    )
    assert "asylum_refugees" not in {e.topic for e in result.evidence}, result.why


def test_a_regional_town_or_a_cegep_places_a_story_in_quebec(tagger: Tagger) -> None:
    result = tag_checked(
        tagger,
        "Des travailleuses étrangères temporaires d'une usine de Saint-Hyacinthe dénoncent "
        "leurs conditions, comme des étudiantes étrangères d'un cégep voisin.",
    )
    assert result.geography is not None, result.why
    assert result.geography.canadian_names == ("quebec_regions",), result.why
