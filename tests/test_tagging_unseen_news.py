"""News it was not tuned on (taxonomy 2026.6): a spouse far from the sponsorship file of the
same sentence, powers lost (not control lost), a party's promise to bring immigration down,
a study's number of immigrants to receive, the Ukrainians' emergency travel measures; and
look-alikes: a bank's sponsorship and a charity's "parrain" beside a wife, a charge of lost
control, the world's displaced in a story from Geneva. Examples written for these tests,
EN and FR, in the forms of ledes and wire copy."""

from __future__ import annotations

import pytest

from parsers.tagging import Tagger
from tests.tagged import tag_checked

RELEVANT = {
    "fam fr conjointe 13 words before the sponsorship": (
        (
            "",
            "Sa conjointe, restée au Maroc avec leurs deux enfants depuis plus de trois ans, "
            "attend toujours une réponse dans le cadre du parrainage, a déclaré le Montréalais "
            "à Radio-Canada.",
        ),
        "family_reunification",
    ),
    "fam fr conjoint engineer": (
        (
            "Une attente qui n'en finit plus",
            "Son conjoint, un ingénieur resté à Casablanca qu'elle a épousé il y a deux ans, "
            "attend toujours sa résidence permanente dans le cadre du parrainage, raconte "
            "cette Sherbrookoise. Le ministère fédéral de l'Immigration évoque des délais de "
            "30 mois.",
        ),
        "family_reunification",
    ),
    "fam fr femme programme": (
        (
            "Parrainage : des délais qui s'allongent",
            "Sa femme, enceinte de six mois et coincée à Dakar depuis que leur dossier a été "
            "déposé, ne pourra pas le rejoindre avant 2028 dans le cadre du programme de "
            "parrainage, selon les délais publiés par IRCC.",
        ),
        "family_reunification",
    ),
    "fam en husband application": (
        (
            "Couple separated for three years",
            "Her husband, a nurse from Manila who has never met their youngest daughter in "
            "person, is still waiting for a decision on the sponsorship application she filed "
            "with IRCC in 2023, the Winnipeg woman said.",
        ),
        "family_reunification",
    ),
    "fam en common-law processing": (
        (
            "Couples wait as sponsorship processing slows",
            "Her common-law partner of six years, who lives in Lagos and works as an "
            "accountant, cannot join her in Calgary until IRCC finishes processing the "
            "sponsorship, now expected to take 26 months.",
        ),
        "family_reunification",
    ),
    "fam fr demande de parrainage": (
        (
            "Immigration : des couples séparés par les délais",
            "Sa conjointe, qu'il a rencontrée pendant un stage au Cameroun et épousée l'été "
            "dernier à Yaoundé, ne pourra pas le rejoindre avant la fin du traitement de la "
            "demande de parrainage, estimé à deux ans par Ottawa.",
        ),
        "family_reunification",
    ),
    "jur en lost its powers": (
        ("", "Quebec lost its powers over immigration, the PQ leader said."),
        "jurisdiction",
    ),
    "jur fr perdu ses pouvoirs": (
        ("", "Le Québec a perdu ses pouvoirs en immigration, accuse le chef péquiste."),
        "jurisdiction",
    ),
    "lvl fr ramènerait": (
        (
            "Les caquistes promettent une pause",
            "La Coalition avenir Québec ramènerait l'immigration permanente à 35 000 personnes "
            "par année au Québec, a promis son chef en campagne électorale.",
        ),
        "immigration_levels",
    ),
    "lvl fr étude accueillir": (
        (
            "Une étude plaide pour plus d'immigrants",
            "Le Québec devrait accueillir 80 000 immigrants par année pour stabiliser sa "
            "main-d'œuvre, selon une étude de l'Institut du Québec publiée mardi.",
        ),
        "immigration_levels",
    ),
    "tmp fr ukrainiens avucu": (
        (
            "Des Ukrainiens dans l'incertitude",
            "Des milliers d'Ukrainiens arrivés au Canada grâce au programme d'autorisation de "
            "voyage d'urgence craignent de devoir partir à l'expiration de leur permis, faute "
            "de voie vers la résidence permanente, dénoncent des organismes de Montréal.",
        ),
        "temporary_residents",
    ),
}
NOT_RELEVANT = {
    "neg en gala sponsorship wife": (
        "Bank renews gala sponsorship",
        "The bank's chief executive and his wife attended the gala on Saturday, where the bank "
        "announced it would renew its sponsorship of the Montreal symphony for five years.",
    ),
    "neg fr parrain guignolée": (
        "Un nouveau parrain pour la guignolée",
        "L'animateur, accompagné de son épouse, a accepté d'être le parrain de la guignolée "
        "des médias cette année à Québec, a annoncé l'organisme.",
    ),
    "neg fr seuil rentabilité": (
        "La STM sous le seuil de rentabilité",
        "La Société de transport de Montréal reste sous le seuil de rentabilité malgré la "
        "hausse de l'achalandage, selon son rapport annuel. Le gouvernement du Québec devra "
        "verser 80 millions de dollars supplémentaires pour combler le déficit.",
    ),
    "neg en geneva climate refugees": (
        "Climate refugees in Bangladesh face new floods",
        "Hundreds of thousands of people displaced by rising seas in Bangladesh, often called "
        "climate refugees, face another season of floods, the UN refugee agency warned in "
        "Geneva.",
    ),
    "neg fr prix de à": (
        "Le prix de l'essence passe de 1,60 $ à 1,75 $",
        "Le prix de l'essence est passé de 1,60 $ à 1,75 $ le litre en une semaine à Montréal, "
        "selon la Régie de l'énergie.",
    ),
}


@pytest.mark.parametrize("name", sorted(RELEVANT))
def test_unseen_news_is_relevant_with_its_topic(tagger: Tagger, name: str) -> None:
    (title, text), topic = RELEVANT[name]
    result = tag_checked(tagger, text, title)
    assert result.relevant, result.why
    assert topic in result.topics, result.why


@pytest.mark.parametrize("name", sorted(NOT_RELEVANT))
def test_unseen_look_alikes_are_not_relevant(tagger: Tagger, name: str) -> None:
    title, text = NOT_RELEVANT[name]
    result = tag_checked(tagger, text, title)
    assert not result.relevant, result.why
    assert result.topics == ()


@pytest.mark.parametrize(
    "text",
    [
        "The Conservatives say the federal government has lost control of immigration, pointing "
        "to a record backlog of asylum claims at the Immigration and Refugee Board.",
        "Le gouvernement a perdu le contrôle de l'immigration, accuse le chef péquiste.",
    ],
)
def test_control_lost_is_a_charge_not_a_quarrel_over_powers(tagger: Tagger, text: str) -> None:
    result = tag_checked(tagger, text)
    assert "jurisdiction" not in {e.topic for e in result.evidence}, result.why


def test_the_refugee_convention_places_no_story_in_geneva(tagger: Tagger) -> None:
    result = tag_checked(
        tagger,
        "Canada granted refugee status to 30,000 claimants under the Geneva Convention, the "
        "IRB said.",
        "Canada grants asylum to 30,000",
    )
    assert result.relevant and "asylum_refugees" in result.topics, result.why
    assert result.geography is not None and result.geography.foreign == 0, result.why
