"""Stories that share the topic's vocabulary but are not about Canadian immigration policy,
and terse or unusual stories that are. Examples written for these tests, in the kinds real
news has: customs and drug seizures at the border, trade and tariffs, foreign immigration
stories that name Canada in passing, sport, film, genealogy, obituaries, other "migrations";
wire briefs, releases, Q&As and headlines in capitals on Canadian and Quebec programmes."""

from __future__ import annotations

from pathlib import Path

import pytest

from parsers.exceptions import ConfigError
from parsers.tagging import Tagger
from parsers.taxonomy import load_taxonomy
from tests.tagged import tag_checked

TAXONOMY = Path(__file__).resolve().parent.parent / "seeds" / "taxonomy.toml"


# --- Border enforcement is about people crossing, not goods ------------------------------------

BORDER_NOT_MIGRATION = {
    "drugs seized (en)": (
        "Border officers seize cocaine at Windsor crossing",
        "Canada Border Services Agency officers seized 120 kilograms of cocaine hidden in a "
        "truck at the Ambassador Bridge, the CBSA said Tuesday. The driver, a Canadian, was "
        "arrested and handed to the RCMP. Border security has been stepped up at Ontario "
        "crossings since the spring.",
    ),
    "guns seized (fr)": (
        "Des douaniers saisissent des armes à feu à Lacolle",
        "Des agents des services frontaliers ont saisi une trentaine d'armes de poing dans un "
        "véhicule au poste frontalier de Lacolle, a indiqué l'ASFC. La sécurité à la "
        "frontière a été renforcée contre le trafic d'armes, selon Ottawa. Le conducteur a "
        "été arrêté.",
    ),
    "tariffs (en)": (
        "Ottawa boosts border security to avoid U.S. tariffs",
        "Canada will spend $1.3 billion on border security, including drones and helicopters, "
        "to stop fentanyl and guns, the public safety minister said in Ottawa. The plan aims "
        "to persuade Washington to drop its 25 per cent tariffs on Canadian goods. Border "
        "officers will get new scanners.",
    ),
    "tariffs (fr, capitals)": (
        "TARIFS : OTTAWA RENFORCE LA SÉCURITÉ FRONTALIÈRE",
        "Le gouvernement fédéral investira 1,3 milliard de dollars dans la sécurité "
        "frontalière, notamment contre le fentanyl, afin d'éviter les droits de douane "
        "américains sur les produits canadiens. Des hélicoptères surveilleront la frontière, a "
        "annoncé le ministre à Ottawa. Les exportateurs québécois s'inquiètent.",
    ),
    "customs queues": (
        "Long waits at the border this long weekend",
        "Travellers heading back into Canada faced waits of up to two hours at the Lacolle "
        "and Peace Arch crossings, the Canada Border Services Agency said. Border officers "
        "advised drivers to have their passports ready and to declare goods bought abroad.",
    ),
    "wine held by customs (fr)": (
        "Les douaniers bloquent des cargaisons de vin",
        "Des douaniers canadiens ont retenu des cargaisons de vin américain à la frontière, "
        "en raison des droits de douane imposés par Ottawa. Les importateurs québécois "
        "demandent des exemptions.",
    ),
    "cigarette smuggling": (
        "RCMP dismantles cigarette smuggling ring near Cornwall",
        "The RCMP dismantled a contraband cigarette smuggling network operating across the "
        "St. Lawrence near Cornwall, Ontario. Border security officials said the ring moved "
        "tobacco from the United States by boat.",
    ),
}


@pytest.mark.parametrize("name", sorted(BORDER_NOT_MIGRATION))
def test_border_policing_of_goods_is_not_border_enforcement(tagger: Tagger, name: str) -> None:
    title, text = BORDER_NOT_MIGRATION[name]
    result = tag_checked(tagger, text, title)
    assert not result.relevant, result.why
    assert "border_enforcement" not in {e.topic for e in result.evidence}, result.why


BORDER_MIGRATION = {
    "interceptions": (
        "RCMP intercepts migrants crossing into Quebec",
        "RCMP officers intercepted 20 migrants who crossed the border irregularly near "
        "Hemmingford, Quebec, on Sunday.",
    ),
    "border plan against irregular crossings": (
        "Ottawa unveils border plan",
        "The federal government will hire 90 border officers to stop irregular crossings "
        "into Quebec and Manitoba, the minister said. Border security will be tightened "
        "where migrants cross on foot.",
    ),
    "removals": (
        "CBSA removals hit record",
        "The Canada Border Services Agency removed more than 16,000 people last year, most of "
        "them failed refugee claimants, the agency said.",
    ),
    "expulsion (fr)": (
        "L'ASFC expulse une famille de demandeurs d'asile",
        "L'Agence des services frontaliers du Canada a expulsé une famille mexicaine dont la "
        "demande d'asile avait été refusée, malgré les appels de son église à Sherbrooke.",
    ),
    "roxham (fr)": (
        "Fermeture du chemin Roxham : un an plus tard",
        "Un an après la fermeture du chemin Roxham, les passages irréguliers ont chuté, selon "
        "la GRC.",
    ),
    "agents at the border with asylum seekers (fr)": (
        "Plus d'agents frontaliers à Lacolle",
        "Ottawa déploie 50 agents frontaliers supplémentaires pour traiter l'arrivée de "
        "demandeurs d'asile au poste de Lacolle. La sécurité à la frontière reste la "
        "priorité du gouvernement face aux migrants.",
    ),
}


@pytest.mark.parametrize("name", sorted(BORDER_MIGRATION))
def test_border_policing_of_migrants_is_border_enforcement(tagger: Tagger, name: str) -> None:
    title, text = BORDER_MIGRATION[name]
    result = tag_checked(tagger, text, title)
    assert result.relevant, result.why
    assert "border_enforcement" in result.topics, result.why


# --- Vocabulary of the topic, no Canadian immigration policy -----------------------------------

NOT_POLICY = {
    "us raids naming canada": (
        "ICE raids spread across U.S. cities",
        "Immigration and Customs Enforcement agents arrested hundreds of undocumented "
        "immigrants in Chicago and Los Angeles this week as the Trump administration expanded "
        "its deportation drive. Some families have relatives in Canada, advocates said. The "
        "White House defended the raids.",
    ),
    "us border wall (fr)": (
        "Trump relance le mur à la frontière mexicaine",
        "Le président Donald Trump a promis de terminer le mur à la frontière avec le Mexique "
        "et d'expulser des millions de migrants sans papiers. Plusieurs Canadiens vivant aux "
        "États-Unis se disent inquiets. La Maison-Blanche a demandé des fonds au Congrès.",
    ),
    "uk small boats": (
        "Small boats crossings hit record",
        "More than 1,000 migrants crossed the English Channel in small boats on Saturday, the "
        "Home Office said. The Prime Minister promised to smash the smuggling gangs. Canada "
        "has offered to share intelligence, officials said.",
    ),
    "france immigration law (fr)": (
        "La France durcit sa loi sur l'immigration",
        "Le Parlement français a adopté une loi restreignant le regroupement familial et "
        "l'accès à l'asile, a annoncé le ministre de l'Intérieur à Paris. Le texte prévoit des "
        "quotas d'immigration votés chaque année.",
    ),
    "australia student cap": (
        "Australia cuts student visas",
        "Australia will cap international student enrolments at 270,000 next year, the Labor "
        "government said in Canberra, as it tries to bring net migration down. Universities "
        "warned of job losses.",
    ),
    "uk removals (fr)": (
        "Londres expulse des migrants vers le Rwanda",
        "Le gouvernement britannique a commencé à expulser des demandeurs d'asile vers le "
        "Rwanda, a annoncé le ministère de l'Intérieur à Londres. Des vols sont prévus chaque "
        "semaine.",
    ),
    "foreign election": (
        "Germany's far right gains in state election",
        "The Alternative for Germany party won 30 per cent in the Saxony state election, "
        "campaigning against immigration and asylum. Observers in Berlin called it a warning.",
    ),
    "hockey player's visa": (
        "Canadiens' new forward awaits his visa",
        "The Montreal Canadiens' newly signed Russian forward is still waiting for his work "
        "visa and will miss the first two games of the regular season, the coach said. The "
        "team hopes he will join them in Toronto next week.",
    ),
    "hockey player's visa (fr)": (
        "Le nouvel attaquant du Canadien attend son visa",
        "Le nouvel attaquant du Canadien de Montréal attend toujours son visa et ratera les "
        "deux premiers matchs de la saison, a indiqué l'entraîneur. L'équipe espère le voir "
        "à Toronto la semaine prochaine.",
    ),
    "a refugee metaphor": (
        "A refugee from the Leafs finds a home in Calgary",
        "The veteran goalie, a refugee from Toronto's crowded crease, has found a home with "
        "the Calgary Flames. He stopped 34 shots on Saturday as the Flames beat Edmonton 3-1.",
    ),
    "a film about refugees": (
        "Quebec film about Syrian refugees wins at TIFF",
        "A Quebec drama following a Syrian refugee family in their first winter in Montreal "
        "won the audience award at the Toronto International Film Festival. The director said "
        "she wanted to show the warmth of strangers. The film opens in theatres on Friday.",
    ),
    "a film about refugees (fr)": (
        "Un film québécois sur des réfugiés primé à Toronto",
        "Le drame d'une cinéaste de Montréal, qui suit une famille de réfugiés syriens "
        "pendant son premier hiver au Québec, a remporté le prix du public au festival de "
        "Toronto. Le film prend l'affiche vendredi.",
    ),
    "immigrant ancestors": (
        "Tracing your immigrant ancestors at Library and Archives Canada",
        "Library and Archives Canada has put passenger lists from 1865 to 1935 online, "
        "letting Canadians trace immigrant ancestors who landed at Quebec City and Halifax. "
        "Many immigrants arrived at Pier 21 in Halifax.",
    ),
    "an obituary": (
        "Obituary: Maria Costa, 1931-2026",
        "Maria Costa, who immigrated to Canada from Portugal in 1958 and ran a bakery in "
        "Toronto for forty years, died on Sunday. She is survived by three children and "
        "seven grandchildren.",
    ),
    "talent migration": (
        "Tech talent migration to the U.S. worries Canadian startups",
        "Canadian startups say talent migration to Silicon Valley is hurting them, as "
        "engineers leave Toronto and Waterloo for higher salaries.",
    ),
    "data migration": (
        "Province's data migration to the cloud delayed",
        "Ontario's migration of health records to a new cloud system is six months behind, "
        "the auditor general said in Toronto. The data migration has cost $80 million.",
    ),
    "birds' migration": (
        "Birds' fall migration begins over Quebec",
        "Millions of snow geese have begun their fall migration along the St. Lawrence, bird "
        "watchers in Quebec say.",
    ),
    "housing starts": (
        "Ontario housing starts fall to a five-year low",
        "Housing starts in Ontario fell 20 per cent last year, the Canada Mortgage and "
        "Housing Corporation said. Builders blamed high interest rates.",
    ),
    "h-1b fee naming canada": (
        "H-1B fee pushes tech workers to look at Canada",
        "The $100,000 fee on new H-1B visas announced by the White House has U.S. tech "
        "workers looking north, recruiters in Seattle say. Some are asking about moving to "
        "Toronto.",
    ),
    "a documentary on refugee musicians": (
        "Documentary on Afghan refugee musicians premieres in Vancouver",
        "The film follows three Afghan musicians who rebuilt their band in Vancouver. It "
        "premieres at the Vancouver International Film Festival on Friday.",
    ),
    "a footballer's citizenship": (
        "Canadian citizenship clears way for striker to join national team",
        "The Toronto FC striker, born in Ghana, received his Canadian citizenship and is now "
        "eligible for the men's national soccer team, Canada Soccer said.",
    ),
    "immigrants of 1847 (fr)": (
        "Il y a 175 ans, des immigrants irlandais fuyaient la famine",
        "Le musée de Grosse-Île raconte l'arrivée de milliers d'immigrants irlandais au "
        "Québec en 1847. Beaucoup sont morts du typhus à la quarantaine.",
    ),
    "border officers' strike": (
        "CBSA workers threaten strike ahead of summer",
        "Border officers with the Canada Border Services Agency could walk off the job next "
        "week, their union said, warning of delays for travellers and trucks at the Ontario "
        "border.",
    ),
    "tax refugees": (
        "Tax refugees flee Ontario for Alberta",
        "High earners are moving from Toronto to Calgary to escape Ontario's top tax rate, "
        "accountants say. Alberta's finance minister welcomed them.",
    ),
    "a player thrown out of the game (fr)": (
        "Le Canadien perd son capitaine, expulsé du match",
        "Le capitaine du Canadien de Montréal a été expulsé du match pour une mise en échec à "
        "la tête. L'entraîneur a dénoncé la décision des arbitres.",
    ),
    "a reference to the court (fr)": (
        "Renvoi à la Cour d'appel sur la laïcité",
        "Le gouvernement du Québec soumet un renvoi à la Cour d'appel sur la laïcité de l'État.",
    ),
    "pre-trial detention": (
        "Montreal man held in detention pending trial",
        "A Montreal man accused of fraud will remain in detention until his trial, a Quebec "
        "judge ruled on Tuesday.",
    ),
    "a payment card (fr)": (
        "Desjardins lance une nouvelle carte Visa",
        "Desjardins offre une nouvelle carte Visa sans frais aux étudiants du Québec.",
    ),
    "us asylum order naming canada": (
        "Biden limits asylum at southern border",
        "President Joe Biden signed an order limiting asylum claims at the US-Mexico border. "
        "Critics in Canada warned more migrants could head north.",
    ),
    "a drug seizure at the port (fr)": (
        "Saisie record de cocaïne au port de Montréal",
        "L'Agence des services frontaliers du Canada a saisi 2,5 tonnes de cocaïne au port de "
        "Montréal, a annoncé la GRC. La sécurité frontalière sera renforcée au port.",
    ),
    "a basketball pick's visa": (
        "Raptors' draft pick clears visa hurdle",
        "The Toronto Raptors' second-round pick finally received his visa and will join the "
        "team for training camp, the general manager said.",
    ),
    "an obituary of a refugee": (
        "Obituary: Tran Van Minh, who came as a boat person",
        "Tran Van Minh, who came to Canada as a refugee in 1979 and founded a restaurant in "
        "Calgary, died at 81. He leaves four children.",
    ),
    "tourism (fr)": (
        "Le tourisme américain en baisse au Québec",
        "Le nombre de touristes américains au Québec a chuté de 15 % cet été. Les hôteliers "
        "de Montréal blâment la faiblesse du dollar. Les visiteurs européens, eux, sont plus "
        "nombreux.",
    ),
}


@pytest.mark.parametrize("name", sorted(NOT_POLICY))
def test_topic_vocabulary_without_canadian_policy_is_not_relevant(
    tagger: Tagger, name: str
) -> None:
    title, text = NOT_POLICY[name]
    result = tag_checked(tagger, text, title)
    assert not result.relevant, result.why
    assert result.topics == ()


@pytest.mark.parametrize(
    "name", ["hockey player's visa", "a refugee metaphor", "a film about refugees (fr)"]
)
def test_a_person_s_story_names_no_policy_and_says_so(tagger: Tagger, name: str) -> None:
    title, text = NOT_POLICY[name]
    result = tag_checked(tagger, text, title)
    assert result.mentioned and result.score >= tagger.relevance_threshold, result.why
    assert "no policy at stake" in result.why


# --- Terse or unusual stories that are about Canadian immigration policy ------------------------

POLICY = {
    "wire brief": (
        (
            "Ottawa caps asylum claims",
            "OTTAWA (CP) — The federal government will limit new asylum claims at the border, "
            "the immigration minister said Tuesday.",
        ),
        "asylum_refugees",
    ),
    "op-ed": (
        (
            "Opinion: Canada needs fewer temporary workers, not more",
            "Canada's reliance on temporary foreign workers has gone too far. Employers should "
            "pay more instead of importing labour through the Temporary Foreign Worker Program. "
            "Ottawa must cut the number of LMIAs it approves.",
        ),
        "temporary_residents",
    ),
    "q&a": (
        (
            "Q&A: What the new Express Entry draws mean for you",
            "Q: What changed? A: IRCC will hold category-based Express Entry draws for French "
            "speakers and health workers. Q: Who benefits? A: Candidates with strong French "
            "scores can get an invitation to apply for permanent residence.",
        ),
        "economic_immigration",
    ),
    "news release on citizenship": (
        (
            "News release: Canada welcomes new citizens",
            "Immigration, Refugees and Citizenship Canada is pleased to announce that 3,000 new "
            "Canadians took the oath of citizenship at ceremonies across the country on Canada "
            "Day.",
        ),
        "integration_french",
    ),
    "headline in capitals (fr)": (
        (
            "QUÉBEC RÉDUIT LE NOMBRE D'IMMIGRANTS",
            "Le gouvernement du Québec accueillera 45 000 immigrants permanents l'an prochain, a "
            "annoncé le ministre.",
        ),
        "immigration_levels",
    ),
    "skilled worker selection (fr)": (
        (
            "Québec relance le Programme de sélection des travailleurs qualifiés",
            "Le ministère de l'Immigration, de la Francisation et de l'Intégration rouvre les "
            "invitations du Programme de sélection des travailleurs qualifiés (PSTQ). Les "
            "candidats devront démontrer une connaissance du français.",
        ),
        "economic_immigration",
    ),
    "temporary foreign workers in a region (fr)": (
        (
            "Les travailleurs étrangers temporaires de plus en plus nombreux en région",
            "Les entreprises de la Beauce embauchent de plus en plus de travailleurs étrangers "
            "temporaires, faute de main-d'œuvre locale. Le gel des EIMT à Montréal inquiète les "
            "employeurs.",
        ),
        "temporary_residents",
    ),
    "lmia freeze": (
        (
            "Ottawa freezes LMIAs in Montreal",
            "Employers in Montreal and Laval will not be able to get a Labour Market Impact "
            "Assessment for low-wage jobs for six months, the federal government said.",
        ),
        "temporary_residents",
    ),
    "caregivers": (
        (
            "New pilot offers caregivers permanent residence",
            "Home care workers will be able to get permanent residence on arrival under two new "
            "pilots, Immigration, Refugees and Citizenship Canada said. Caregivers will need a "
            "job offer and a language test.",
        ),
        "economic_immigration",
    ),
    "students' work hours (fr)": (
        (
            "Les étudiants étrangers pourront travailler 24 heures par semaine",
            "À partir de l'automne, les étudiants étrangers pourront travailler 24 heures par "
            "semaine hors campus.",
        ),
        "temporary_residents",
    ),
    "targets for permanent residence": (
        (
            "Ottawa lowers its targets for permanent residence",
            "The federal government will lower its targets for permanent residence to 395,000 "
            "next year.",
        ),
        "immigration_levels",
    ),
    "students' work hours": (
        (
            "International students can work 24 hours a week",
            "International students in Canada will be allowed to work up to 24 hours a week off "
            "campus, the immigration minister said.",
        ),
        "temporary_residents",
    ),
    "express entry draw": (
        (
            "Express Entry draw invites 4,500 candidates",
            "IRCC issued 4,500 invitations to apply for permanent residence in its latest "
            "Express Entry draw.",
        ),
        "economic_immigration",
    ),
    "pgwp": (
        (
            "PGWP rules tightened for college graduates",
            "Graduates of college programs will need to study in a field linked to labour "
            "shortages to get a post-graduation work permit, IRCC announced in Ottawa.",
        ),
        "temporary_residents",
    ),
    "francophone immigration outside quebec": (
        (
            "Francophone immigration to New Brunswick falls short",
            "Only 2 per cent of newcomers outside Quebec are French-speaking, short of the 4.4 "
            "per cent target, a report says. New Brunswick wants Ottawa to raise francophone "
            "immigration.",
        ),
        "integration_french",
    ),
    "montreal shelter": (
        (
            "Montreal opens new shelter for asylum seekers",
            "The City of Montreal opened a 300-bed shelter for asylum seekers on Monday as the "
            "number of claimants keeps rising, the mayor said.",
        ),
        "asylum_refugees",
    ),
    "toronto shelters (fr)": (
        (
            "Toronto manque de place pour les demandeurs d'asile",
            "Des dizaines de demandeurs d'asile dorment dans la rue à Toronto, faute de place "
            "dans les refuges municipaux. La Ville réclame l'aide d'Ottawa.",
        ),
        "asylum_refugees",
    ),
    "asylum seekers arriving, no policy named": (
        (
            "Asylum seekers keep arriving at Montreal's bus station",
            "Hundreds of asylum seekers arrive each week at the Montreal bus terminal, community "
            "workers say. Many have nowhere to sleep.",
        ),
        "asylum_refugees",
    ),
    "a couple kept apart (fr)": (
        (
            "Séparée de son mari depuis trois ans par les délais d'immigration",
            "Une Montréalaise attend depuis trois ans que son mari, resté en Algérie, obtienne sa "
            "résidence permanente au titre du regroupement familial.",
        ),
        "family_reunification",
    ),
    "eta": (
        (
            "Canada expands eTA eligibility",
            "Travellers from 13 more countries can now apply for an electronic travel "
            "authorization instead of a visa to fly to Canada.",
        ),
        "visas",
    ),
    "citizenship ceremony (fr)": (
        (
            "Cérémonie de citoyenneté : 80 nouveaux Canadiens à Gatineau",
            "Quatre-vingts personnes de 25 pays ont prêté le serment de citoyenneté lundi à "
            "Gatineau.",
        ),
        "integration_french",
    ),
    "immigrants welcomed (fr)": (
        (
            "Le Québec a accueilli 60 000 immigrants l'an dernier",
            "Le Québec a accueilli 60 000 immigrants permanents en 2024, un sommet.",
        ),
        "immigration_levels",
    ),
    "francophone immigration outside quebec (fr)": (
        (
            "L'immigration francophone hors Québec atteint sa cible",
            "Pour la première fois, 4,4 % des résidents permanents admis hors Québec sont "
            "francophones, selon IRCC.",
        ),
        "integration_french",
    ),
    "refugees landing": (
        (
            "Syrian refugees arrive in Halifax",
            "Hundreds of Syrian refugees landed in Halifax on Monday, the first of 25,000 "
            "expected this winter.",
        ),
        "asylum_refugees",
    ),
    "refugees arriving (fr)": (
        (
            "Des Ukrainiens arrivent à Montréal",
            "Quelque 300 réfugiés ukrainiens sont arrivés à Montréal cette semaine. Ils seront "
            "logés dans des hôtels.",
        ),
        "asylum_refugees",
    ),
    "a family that crossed at roxham": (
        (
            "A Haitian family's first winter after crossing at Roxham",
            "Marie and her two children crossed at Roxham Road last summer. Now they live in a "
            "small apartment in Montreal.",
        ),
        "border_enforcement",
    ),
    "refugees settling": (
        (
            "Afghan refugees settle in Winnipeg",
            "More than 1,000 Afghan refugees have settled in Winnipeg since 2021, local groups "
            "say. Many worked with Canadian troops.",
        ),
        "asylum_refugees",
    ),
    "roxham road closed": (
        (
            "Roxham Road closed",
            "Canada and the United States have closed Roxham Road to asylum seekers under an "
            "expanded Safe Third Country Agreement.",
        ),
        "border_enforcement",
    ),
}


@pytest.mark.parametrize("name", sorted(POLICY))
def test_terse_and_unusual_policy_stories_are_relevant(tagger: Tagger, name: str) -> None:
    (title, text), topic = POLICY[name]
    result = tag_checked(tagger, text, title)
    assert result.relevant, result.why
    assert topic in result.topics, result.why


# --- The policy words are the taxonomy's -------------------------------------------------------


def _with_relevance(tmp_path: Path, table: str) -> Path:
    """The seed taxonomy with its [relevance] table replaced by ``table``."""
    seed = TAXONOMY.read_text(encoding="utf-8")
    start = seed.index("\n[relevance]\n") + 1
    end = seed.index("[[concept]]", start)
    path = tmp_path / "taxonomy.toml"
    path.write_text(seed[:start] + table + "\n" + seed[end:], encoding="utf-8")
    return path


_REFUGEE_STORY = (
    "A refugee's first winter in Montreal",
    "The refugee family found work in Quebec.",
)


def test_an_analyst_names_the_policy_words(tmp_path: Path) -> None:
    gated = Tagger(load_taxonomy(_with_relevance(tmp_path, '[relevance]\npolicy = ["law*"]\n')))
    assert not gated.tag(*_REFUGEE_STORY).relevant
    title, text = _REFUGEE_STORY
    assert gated.tag(title, text + " A new law lets refugees work in Quebec.").relevant
    # Without a [relevance] table, nothing is asked beyond topics and places.
    assert Tagger(load_taxonomy(_with_relevance(tmp_path, ""))).tag(*_REFUGEE_STORY).relevant


def test_a_misspelt_relevance_field_is_one_clear_line(tmp_path: Path) -> None:
    path = _with_relevance(tmp_path, '[relevance]\npolicies = ["law"]\n')
    with pytest.raises(
        ConfigError, match=r"\[relevance\]: unknown field 'policies' \(did you mean 'policy'\?\)"
    ):
        load_taxonomy(path)


def test_a_star_inside_a_policy_word_is_one_clear_line(tmp_path: Path) -> None:
    path = _with_relevance(tmp_path, '[relevance]\npolicy = ["etudiant* etranger"]\n')
    with pytest.raises(ConfigError, match=r"'etudiant\* etranger'; \* may only end a word"):
        load_taxonomy(path)
