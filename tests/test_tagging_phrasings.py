"""News in phrasings the vocabulary did not know (taxonomy 2026.5): protection sought in
Canada, the appeal division's family cases, families brought over, visas refused to many,
the department's portal down, the last word on immigration, a program taken over; and look-
alikes: a film's refugees who fled, a player's transfer, suburban refugees, a bare "Labour"
beside a rival party, provincial powers over health, levels of water and lead. Examples
written for these tests, EN and FR, in the forms of headlines, ledes and wire copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from parsers.tagging import Tagger
from parsers.taxonomy import load_taxonomy
from tests.tagged import tag_checked

RELEVANT = {
    "asy sought protection": (
        (
            "Ottawa moves hundreds of claimants out of Montreal hotels",
            "The federal government will relocate about 400 people who sought protection in "
            "Canada from Montreal hotels to Ontario and the Atlantic provinces, IRCC said.",
        ),
        "asylum_refugees",
    ),
    "lvl immigration numbers": (
        (
            "Ottawa to hold immigration numbers steady",
            "The federal government will hold immigration numbers steady at 500,000 a year, the "
            "immigration minister said.",
        ),
        "immigration_levels",
    ),
    "lvl fr nouveaux résidents permanents": (
        (
            "Ottawa réduira de 20 % l'accueil",
            "Ottawa réduira de 20 % le nombre de nouveaux résidents permanents dès l'an "
            "prochain, selon le plan des niveaux.",
        ),
        "immigration_levels",
    ),
    "fam IAD wife": (
        (
            "Montreal man wins IAD appeal over wife's application",
            "The Immigration Appeal Division ruled the marriage was genuine and overturned the "
            "refusal of his wife's permanent residence application.",
        ),
        "family_reunification",
    ),
    "fam fr SAI mère": (
        (
            "La SAI donne raison à un Lavallois",
            "La Section d'appel de l'immigration a accueilli l'appel d'un Lavallois dont la "
            "demande de parrainage de sa mère avait été refusée.",
        ),
        "family_reunification",
    ),
    "fam fr SAI parrainage": (
        (
            "Parrainage : les appels s'accumulent à la SAI",
            "Les appels de parrainage refusés attendent désormais deux ans à la Section d'appel "
            "de l'immigration, selon la CISR.",
        ),
        "family_reunification",
    ),
    "fam fr faire venir enfants": (
        (
            "Des réfugiés attendent leurs enfants depuis des années",
            "Des réfugiés qui veulent faire venir leurs enfants restés au pays doivent attendre "
            "des années, déplore un organisme de Montréal qui interpelle le gouvernement "
            "fédéral.",
        ),
        "family_reunification",
    ),
    "vis researchers refused": (
        (
            "AI conference in Montreal loses African speakers to visa refusals",
            "Dozens of researchers from Africa invited to a machine learning conference in "
            "Montreal were refused visitor visas, organizers say.",
        ),
        "visas",
    ),
    "vis fr chercheurs refus": (
        (
            "Des chercheurs africains privés de colloque à Montréal",
            "Plusieurs chercheurs africains invités à un colloque à Montréal se sont vu refuser "
            "leur visa, déplorent les organisateurs.",
        ),
        "visas",
    ),
    "vis portal outage": (
        (
            "IRCC portal outage delays thousands of applications",
            "Applicants for permanent residence and citizenship could not upload documents for "
            "three days after the department's online portal went down, IRCC confirmed.",
        ),
        "visas",
    ),
    "jur last word": (
        (
            "Quebec wants the final say on who settles in the province",
            "Premier François Legault said Quebec must have the last word on selecting all "
            "immigrants who settle on its territory, including temporary workers.",
        ),
        "jurisdiction",
    ),
    "jur fr dernier mot": (
        (
            "Québec veut avoir le dernier mot sur l'immigration",
            "Le premier ministre François Legault estime que Québec doit avoir le dernier mot "
            "sur l'ensemble de l'immigration sur son territoire.",
        ),
        "jurisdiction",
    ),
    "jur alberta deal": (
        (
            "Alberta seeks its own immigration deal with Ottawa",
            "Alberta wants a Quebec-style agreement that would let the province select more of "
            "its own immigrants, the premier said.",
        ),
        "jurisdiction",
    ),
    "jur take over TFWP": (
        (
            "Ottawa rejects Quebec's bid to run foreign worker program",
            "The federal immigration minister rejected Quebec's request to take over the "
            "Temporary Foreign Worker Program in the province.",
        ),
        "jurisdiction",
    ),
    "jur fr confier gestion": (
        (
            "Ottawa refuse de céder la gestion des travailleurs temporaires",
            "Le fédéral refuse de confier au Québec la gestion du Programme des travailleurs "
            "étrangers temporaires.",
        ),
        "jurisdiction",
    ),
    "eco trades pilot": (
        (
            "Quebec opens new stream for construction trades",
            "Quebec will select 2,000 skilled tradespeople a year for permanent residence under "
            "a new pilot, the immigration ministry said.",
        ),
        "economic_immigration",
    ),
    "bor rcmp walked across": (
        (
            "RCMP intercepts 12 people walking into Quebec",
            "RCMP officers intercepted 12 people who walked across the border into Quebec from "
            "New York state overnight, the force said.",
        ),
        "border_enforcement",
    ),
    "lvl en 'bring in'": (
        (
            "Quebec to bring in 60,000 immigrants next year",
            "Quebec will bring in 60,000 immigrants next year, its highest number in a decade, "
            "the province's immigration minister said.",
        ),
        "immigration_levels",
    ),
    "fam parents cap": (
        (
            "Ottawa caps new applications for parents",
            "IRCC will accept only 15,000 new applications this year from Canadians who want to "
            "sponsor their mothers and fathers.",
        ),
        "family_reunification",
    ),
    "bor fr expulsion": (
        (
            "Une famille colombienne sera expulsée",
            "L'Agence des services frontaliers du Canada expulsera jeudi une famille "
            "colombienne établie à Sherbrooke depuis cinq ans, malgré une pétition de 10 000 "
            "signatures.",
        ),
        "border_enforcement",
    ),
    "fam en grandparents wait": (
        (
            "Grandparents wait years to join families in Canada",
            "Thousands of Canadians hoping to bring their parents and grandparents to Canada "
            "face waits of up to 24 years, a report finds.",
        ),
        "family_reunification",
    ),
    "vis students refused visas": (
        (
            "Students admitted to Quebec universities refused visas",
            "Hundreds of students from francophone Africa accepted at Quebec universities were "
            "refused visas this summer, days before classes start.",
        ),
        "visas",
    ),
    "vis fr portail panne": (
        (
            "Panne du portail d'IRCC : des milliers de demandes retardées",
            "Des demandeurs de permis de travail et de visa de visiteur n'ont pu soumettre "
            "leurs documents pendant trois jours en raison d'une panne du portail en ligne "
            "d'IRCC.",
        ),
        "visas",
    ),
    "fam IAD sponsorship appeal": (
        (
            "Sponsorship appeals pile up at the IAD",
            "Appeals of refused sponsorship applications for parents and spouses now wait two "
            "years at the Immigration Appeal Division of the IRB.",
        ),
        "family_reunification",
    ),
    "jur en deal powers": (
        (
            "Ottawa and Quebec strike deal on temporary workers",
            "Ottawa will give Quebec more control over temporary foreign workers in the "
            "province under a deal announced Friday.",
        ),
        "jurisdiction",
    ),
    "vis en TRV rate": (
        (
            "Visa refusal rates for Africans twice the average",
            "Applicants from sub-Saharan Africa are refused temporary resident visas at twice "
            "the average rate, an internal IRCC report found.",
        ),
        "visas",
    ),
    "lvl fr baisse": (
        (
            "Québec abaisse ses cibles",
            "Québec sélectionnera 8 000 immigrants de moins par année d'ici 2027, a annoncé le "
            "gouvernement.",
        ),
        "immigration_levels",
    ),
    "fam en reunite refugees": (
        (
            "Refugees wait years to reunite with children",
            "Refugees in Canada wait an average of three years to bring their children here, a "
            "Senate committee heard.",
        ),
        "family_reunification",
    ),
    "vis fr visas refusés chercheurs": (
        (
            "Congrès scientifique : des visas refusés en série",
            "Des dizaines de chercheurs invités à un congrès à Montréal ont essuyé des refus de "
            "visa, selon les organisateurs.",
        ),
        "visas",
    ),
    "jur en selection powers": (
        (
            "Quebec wants to choose its temporary workers",
            "Quebec says it should have the power to choose which temporary foreign workers "
            "come to the province, not Ottawa.",
        ),
        "jurisdiction",
    ),
    "fam fr réunifier": (
        (
            "Des réfugiés séparés de leurs enfants",
            "Des réfugiés établis à Sherbrooke attendent depuis quatre ans d'être réunis avec "
            "leurs enfants restés en Ouganda, faute de traitement par IRCC.",
        ),
        "family_reunification",
    ),
    "vis en visas for tourists": (
        (
            "Visa waits keep Indian tourists away",
            "Tourism operators in Niagara say long waits for visitor visas are keeping Indian "
            "travellers away this summer.",
        ),
        "visas",
    ),
    "vis fr visa refusé artistes": (
        (
            "Des artistes africains privés de festival",
            "Une dizaine d'artistes africains invités au festival ont vu leurs demandes de visa "
            "refusées par Ottawa.",
        ),
        "visas",
    ),
}
NOT_RELEVANT = {
    "neg MLS transfer visa": (
        "CF Montreal signs Brazilian midfielder",
        "CF Montreal acquired the midfielder on a transfer from Flamengo; he is expected to "
        "arrive in Montreal once his visa is approved, the coach said.",
    ),
    "neg suburban refugees": (
        "Toronto renters become suburban refugees",
        "Priced out of downtown, thousands of Toronto renters fled to Hamilton and Oshawa last "
        "year, according to the city's housing office.",
    ),
    "neg uk labour": (
        "Labour to halve net migration",
        "Labour will halve net migration by the next election, the prime minister said, as the "
        "Conservatives and the Liberals accused the government of losing control of the asylum "
        "system.",
    ),
    "neg fr film fui": (
        "Un film sur une famille qui a fui la Syrie primé à Toronto",
        "Le long métrage du cinéaste montréalais suit une famille de réfugiés qui a fui Alep "
        "pour s'établir à Montréal; il a remporté le prix du public au festival de Toronto.",
    ),
    "neg doc fled": (
        "Documentary about family that fled Afghanistan premieres in Montreal",
        "The documentary follows a refugee family that fled Kabul and rebuilt its life in "
        "Montreal; it premieres Friday at the festival.",
    ),
    "neg novel fled": (
        "Quebec novelist's debut follows a young refugee",
        "The novel, set in Montreal, follows a young refugee who fled the war in Lebanon and "
        "arrived in the city in 1976.",
    ),
    "neg en film refugee escaped": (
        "Montreal film festival opens with refugee drama",
        "The festival's opening film tells of a Syrian family that escaped Aleppo and arrived "
        "in Montreal in winter.",
    ),
    "neg health control": (
        "Quebec demands full control over health transfers",
        "Premier François Legault said Quebec wants full control over health spending, with no "
        "federal conditions attached to transfers.",
    ),
    "neg fr santé ingérence": (
        "Santé : Québec dénonce l'ingérence d'Ottawa",
        "Québec accuse Ottawa d'empiéter sur ses compétences en santé avec son programme "
        "national d'assurance dentaire.",
    ),
    "neg water levels": (
        "Great Lakes water levels hit record",
        "Water levels in Lake Ontario reached a record high this spring, the federal government "
        "said.",
    ),
    "neg fr niveaux plomb": (
        "Des niveaux de plomb inquiétants",
        "Le ministère de l'Environnement juge élevés les niveaux de plomb mesurés dans des "
        "écoles de Montréal.",
    ),
    "neg EPL transfer": (
        "Arsenal land Spanish striker in record transfer",
        "Arsenal completed the transfer of the Spanish striker for 60 million pounds, with the "
        "player arriving in London for his medical.",
    ),
    "neg fr transfert CF": (
        "Transfert record pour le CF Montréal",
        "Le CF Montréal a vendu son attaquant au club italien pour 12 millions de dollars, un "
        "transfert record pour le club.",
    ),
    "neg fr compétences santé": (
        "Soins dentaires : Québec veut un droit de retrait",
        "Le Québec exige un droit de retrait avec pleine compensation du programme fédéral de "
        "soins dentaires, qui empiète selon lui sur ses compétences.",
    ),
    "neg en provincial powers education": (
        "Ottawa steps on provincial powers over schools, Quebec says",
        "Quebec says a new federal school food program intrudes on provincial jurisdiction over "
        "education.",
    ),
    "neg fr seuil pauvreté": (
        "Le seuil de pauvreté relevé au Québec",
        "Le gouvernement du Québec relève le seuil de faible revenu de 5 %, ce qui rendra 40 "
        "000 familles admissibles à l'aide.",
    ),
    "neg en uk bare labour only": (
        "Labour's migration plan under fire from Tories",
        "The Tories say Labour's plan to cut net migration does not go far enough.",
    ),
    "neg fr transfert joueur": (
        "Le Canadien accueille un attaquant tchèque",
        "L'attaquant tchèque est arrivé à Montréal lundi, deux jours après son transfert, et "
        "jouera dès jeudi, a confirmé l'entraîneur.",
    ),
    "neg en uk bare labour": (
        "Labour and Tories clash on small-boat crossings",
        "Labour and the Conservatives traded blows over asylum hotels on Wednesday.",
    ),
    "neg fr compétence santé": (
        "Québec défend sa compétence en santé",
        "Le ministre de la Santé du Québec rappelle que la santé est une compétence exclusive "
        "des provinces, en réponse au projet fédéral sur l'assurance médicaments.",
    ),
    "neg en refugee of style": (
        "Toronto chef, a refugee from fine dining, opens taco stand",
        "A refugee from the fine-dining world, the Toronto chef now runs a taco stand in "
        "Kensington Market.",
    ),
    "neg fr film réfugiés": (
        "Le documentaire sur des réfugiés afghans ovationné",
        "Le documentaire raconte l'arrivée à Montréal d'une famille afghane ayant fui les "
        "talibans; il a été ovationné au festival.",
    ),
    "neg en data migration": (
        "Service Canada's data migration delays payments",
        "A migration of Service Canada's data to a new system delayed benefit payments to "
        "thousands of seniors, the department said.",
    ),
    "neg en quebec pension transfer": (
        "Quebec wants control over employment insurance",
        "Quebec is asking Ottawa to hand over control of employment insurance, the premier said.",
    ),
    "neg en sports visa": (
        "Raptors guard's visa delay",
        "The Raptors' new guard is stuck in Serbia awaiting a work visa and will miss the first "
        "two games, the coach said.",
    ),
    "neg en sponsor hockey": (
        "Bank renews sponsorship of Canadiens",
        "The bank renewed its sponsorship of the Montreal Canadiens for ten years, the team said.",
    ),
    "neg fr pouvoirs santé": (
        "Québec veut plus de pouvoirs sur la santé",
        "Le premier ministre réclame plus de pouvoirs en santé et le plein contrôle des "
        "transferts fédéraux.",
    ),
    "neg en levels of debt": (
        "Quebec's debt levels fall",
        "Quebec's debt fell to 37 per cent of GDP, the finance minister said, below the target "
        "set in 2015.",
    ),
    "neg fr plafond vitesse": (
        "Québec abaisse le plafond de vitesse",
        "Le ministère des Transports abaisse la limite de vitesse à 30 km/h près des écoles, un "
        "plafond jugé nécessaire par les villes.",
    ),
}


@pytest.mark.parametrize("name", sorted(RELEVANT))
def test_news_in_unseen_phrasings_is_relevant(tagger: Tagger, name: str) -> None:
    (title, text), topic = RELEVANT[name]
    result = tag_checked(tagger, text, title)
    assert result.relevant, result.why
    assert topic in result.topics, result.why


@pytest.mark.parametrize("name", sorted(NOT_RELEVANT))
def test_look_alikes_in_unseen_phrasings_are_not_relevant(tagger: Tagger, name: str) -> None:
    title, text = NOT_RELEVANT[name]
    result = tag_checked(tagger, text, title)
    assert not result.relevant, result.why
    assert result.topics == ()


def test_a_journey_names_a_policy_except_in_entertainment(tagger: Tagger) -> None:
    text = "The family fled Aleppo and arrived in Montreal in winter, {}."
    news = tag_checked(tagger, text.format("among 300 Syrian refugees this month"))
    film = tag_checked(tagger, text.format("in the film about Syrian refugees"))
    assert news.relevant and "asylum_refugees" in news.topics, news.why
    assert not film.relevant, film.why
    assert film.why.endswith("no policy at stake (no government, law, court...)"), film.why


def test_a_policy_word_still_counts_in_entertainment(tagger: Tagger) -> None:
    # A film festival's guest refused asylum is news of the policy: the word "claim" is
    # policy, not a journey.
    result = tag_checked(
        tagger,
        "The Montreal festival's guest director had his asylum claim rejected by the refugee "
        "board on Monday.",
        "Festival guest's asylum claim rejected",
    )
    assert result.relevant and "asylum_refugees" in result.topics, result.why


def test_a_visa_refused_to_one_player_is_still_his_story(tagger: Tagger) -> None:
    researchers = tag_checked(
        tagger,
        "Researchers invited to a Montreal conference were refused visas, organizers say.",
        "Researchers refused visas",
    )
    player = tag_checked(
        tagger,
        "The Montreal Canadiens' new forward was refused a work visa and will miss the season "
        "opener, the coach said.",
        "Forward refused visa",
    )
    assert researchers.relevant and "visas" in researchers.topics, researchers.why
    assert not player.relevant, player.why


def test_bare_labour_is_a_party_only_beside_a_rival_party(tagger: Tagger) -> None:
    british = tag_checked(tagger, "Labour and the Conservatives clashed over asylum hotels.")
    assert british.geography is not None, british.why
    assert "labour_parties" in british.geography.foreign_names, british.why
    canadian = tag_checked(
        tagger,
        "Labour Minister Patty Hajdu said the Conservatives misread the labour shortage in "
        "Ontario, as temporary foreign workers fill more jobs.",
    )
    assert canadian.geography is not None, canadian.why
    assert canadian.geography.foreign == 0, canadian.why
    # The words that cancel a bare "Labour" cancel no other foreign name.
    australian = tag_checked(tagger, "The Prime Minister of Australia met Labor MPs in Canberra.")
    assert australian.geography is not None, australian.why
    assert "australia_new_zealand" in australian.geography.foreign_names, australian.why


def test_a_charge_of_lost_control_is_not_a_quarrel_over_powers(tagger: Tagger) -> None:
    result = tag_checked(
        tagger,
        "The Conservatives accused the Liberals of losing control of the asylum system, as "
        "Ottawa moved claimants out of Montreal hotels.",
        "Tories say Liberals lost control of asylum",
    )
    assert "asylum_refugees" in result.topics, result.why
    assert "jurisdiction" not in {e.topic for e in result.evidence}, result.why


def test_an_appeal_division_removal_case_is_not_family(tagger: Tagger) -> None:
    result = tag_checked(
        tagger,
        "The Immigration Appeal Division upheld the removal order against a Montreal man "
        "convicted of fraud.",
    )
    assert "family_reunification" not in {e.topic for e in result.evidence}, result.why


def test_an_analyst_names_journeys_and_entertainment(tmp_path: Path) -> None:
    seed = (Path(__file__).resolve().parent.parent / "seeds" / "taxonomy.toml").read_text(
        encoding="utf-8"
    )
    start = seed.index("\n[relevance]\n") + 1
    table = '[relevance]\npolicy = ["law*"]\njourneys = ["fled"]\nentertainment = ["film"]\n'
    path = tmp_path / "taxonomy.toml"
    path.write_text(seed[:start] + table + seed[seed.index("[[concept]]", start) :], "utf-8")
    tagger = Tagger(load_taxonomy(path))
    title, text = "Refugees in Montreal", "The refugee family fled Aleppo for Montreal."
    assert tagger.tag(title, text).relevant
    assert not tagger.tag(title, text + " The film opens Friday.").relevant
    assert tagger.tag(title, text + " The film opens Friday, as a law lets refugees work.").relevant


def test_resettlement_in_canada_is_of_refugees(tagger: Tagger) -> None:
    refugees = tag_checked(
        tagger,
        "Hundreds of Afghans who worked for the Canadian Armed Forces are still waiting in "
        "Pakistan for Canada to process their resettlement, veterans' groups say.",
        "Afghan interpreters still waiting to come to Canada",
    )
    assert refugees.relevant and "asylum_refugees" in refugees.topics, refugees.why
    flood = tag_checked(
        tagger,
        "Residents of the flooded streets of Gatineau await their resettlement, the "
        "municipality said.",
    )
    assert "asylum_refugees" not in {e.topic for e in flood.evidence}, flood.why


def test_protection_asked_of_canada_is_asylum(tagger: Tagger) -> None:
    result = tag_checked(
        tagger,
        "Les personnes qui demandent la protection du Canada attendent jusqu'à quatre ans "
        "avant d'être entendues par la CISR.",
        "Jusqu'à quatre ans d'attente pour une audience",
    )
    assert result.relevant and "asylum_refugees" in result.topics, result.why


def test_controlling_one_s_own_immigration_is_powers_restricting_it_is_not(
    tagger: Tagger,
) -> None:
    own = tag_checked(
        tagger,
        "Un Québec souverain contrôlerait seul son immigration et ses frontières, promet le "
        "chef péquiste.",
        "Le PQ promet un Québec maître de ses frontières",
    )
    assert own.relevant and "jurisdiction" in own.topics, own.why
    restricting = tag_checked(
        tagger, "Le gouvernement fédéral veut mieux contrôler l'immigration temporaire."
    )
    assert "jurisdiction" not in {e.topic for e in restricting.evidence}, restricting.why
