"""Stories that share the topic's vocabulary but are not about Canadian immigration policy,
and terse or unusual stories that are. Examples written for these tests, in the kinds real
news has: customs and drug seizures at the border, trade and tariffs, foreign immigration
stories that name Canada in passing, sport, film, genealogy, obituaries, other "migrations";
wire briefs, releases, Q&As and headlines in capitals on Canadian and Quebec programmes."""

from __future__ import annotations

from pathlib import Path

import pytest

from parsers.tagging import Tagger, TagResult
from parsers.taxonomy import load_taxonomy

TAXONOMY = Path(__file__).resolve().parent.parent / "seeds" / "taxonomy.toml"


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger(load_taxonomy(TAXONOMY))


def _tag(tagger: Tagger, title: str, text: str) -> TagResult:
    result = tagger.tag(title, text)
    fields = {"title": title, "text": text}
    for mention in result.mentions:
        assert fields[mention.field][mention.start : mention.end] == mention.text
    return result


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
    result = _tag(tagger, *BORDER_NOT_MIGRATION[name])
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
    result = _tag(tagger, *BORDER_MIGRATION[name])
    assert result.relevant, result.why
    assert "border_enforcement" in result.topics, result.why
