"""Which figures Vigie tracks across articles, and under what identity.

A figure is tracked when it states a target: a government's or a governing party's own plan
for the number of immigrants a year, for Quebec or for Canada, in a sentence that speaks of a
target, a cap, a plan or a cut. Its identity is ``topic|unit|scope|jurisdiction``, so "Quebec
will admit 40,000 immigrants per year" in one article and "Quebec raises its target to 50,000
immigrants per year" in a later one are one figure that changed.

Four kinds of numbers sit in the same sentences and are not targets (``not_a_target``):

* a demand or proposal by someone else: "the employers' council calls instead for a
  threshold of 60,000 immigrants a year" (a demand verb before the figure);
* a baseline the target is compared with: "down from 64,000", "par rapport à 64 000", the
  first number of "from 64,000 to 45,000";
* a past total or a former target: "last year Quebec welcomed 52,000", "la cible était fixée
  à 50 000";
* a difference, not a number: "25,000 fewer immigrants a year", "5 000 immigrants de plus";
* a party's pledge: "the Conservatives would cut immigration to 250,000 newcomers a year",
  "un gouvernement péquiste ramènerait le nombre d'immigrants à 35 000 par année".

Which party governs changes with elections, so no party is taken for the government: a
figure a party states is its pledge unless the sentence names a government, a minister or a
premier ("the Liberal government", "le gouvernement caquiste") before it.
"""

from __future__ import annotations

import re

from parsers.tagging import Mention
from parsers.text import fold

#: Topics whose figures are tracked across articles.
TRACKED_TOPICS = frozenset({"immigration_levels"})

_TARGET_CUE = re.compile(
    r"\b(target|targets|cap|caps|capped|ceiling|plan|plans|planned|cut|cuts|reduce|lower|raise|"
    r"limit|objective|goal|aims?|intends?|admit|welcome|accept|cible|cibles|seuil|seuils|"
    r"plafond|plafonner|planification|prevoit|vise|reduire|abaisser|abaissera|hausser|"
    r"objectif|admettre|admettra|accueillir|accueillera|bring in|brings in|recevoir|recevra|"
    r"fixe|fixer|fixera|maintient|maintiendra|maintenir|ramener|ramenera|ramenerait)\b"
)
#: Quebec's own names, and its multi-year plan's ("planification pluriannuelle"; Ottawa's is a
#: "plan des niveaux").
_QUEBEC = re.compile(
    r"\b(quebec|province|caq|legault|jolin-barrette|roberge|frechette"
    r"|planification pluriannuelle)\b"
)
_CANADA = re.compile(r"\b(canada|federal|ottawa|ircc|federale?|pays|country)\b")
#: Someone asking for a number: what comes before the figure in its sentence.
_DEMAND = re.compile(
    r"\b(calls? for|called for|calling for|urges?|urged|demands?|demanded|proposes?|proposed|"
    r"recommends?|recommended|suggests?|suggested|asks? for|pushes for|lobbies|lobbied|"
    r"advocates?|argues? for|instead|rather|reclame|reclament|reclamait|exige|exigent|"
    r"propose|proposent|suggere|suggerent|recommande|recommandent|plaide|plaident|prone|"
    r"pronent|souhaiterait|plutot|should|devrait|devraient|ought to)\b"
)
#: Someone else's number named after it: "..., a report by the institute recommends".
_DEMAND_AFTER = re.compile(
    r"\b(recommends?|recommended|urges?|urged|proposes?|proposed|suggests?|suggested|argues?|"
    r"estimates?|estimated|recommande|recommandent|propose|proposent|suggere|suggerent|"
    r"estime|estiment|plaide|plaident|selon (?:un|une|le|la|les) (?:rapport|etude|analyse))\b"
)
#: Who makes a plan its own when it proposes it.
_GOVERNMENT = re.compile(
    r"\b(government|gouvernement|minister|ministre|premier|prime minister|ircc|mifi|cabinet|"
    r"ottawa|federal|federale?)\b"
)
#: A party's pledge: a promise, or what a government it would form would do.
_PROMISE = re.compile(
    r"\b(pledges?|pledged|promises?|promised|vows?|vowed|if elected|once elected|promet|"
    r"promettent|promis|s'engage|s'engagent|s'il est elu|une fois elu)\b"
)
_HYPOTHETICAL_GOVERNMENT = re.compile(
    r"\b(?:un|une) (?:futur )?gouvernement (?!federal|provincial|du\b|quebecois)\w+"
    r"|\ba (?:future )?(?!federal\b|provincial\b|quebec\b|canadian\b)\w+ government\b"
)
#: Parties, federal and in Quebec, whichever governs, and the opposition: a party's figure.
_PARTY = re.compile(
    r"\b(conservatives?|conservateurs?|tories|liberals?|liberaux|pq|pequistes?|"
    r"parti quebecois|bloc|bloquistes?|ndp|npd|new democrats?|neo-democrates?|"
    r"quebec solidaire|qs|solidaires|caq|caquistes?|coalition avenir quebec|greens?|verts|"
    r"ppc|people's party|opposition|(?:party|parti) leader|chef (?:du parti|de l'opposition))\b"
)
#: A number the target is measured against, right before the figure.
_BASELINE_BEFORE = re.compile(
    r"\b(from|down from|up from|compared with|compared to|versus|vs|instead of|rather than|"
    r"par rapport a|comparativement a|contre|au lieu de|plutot que|alors qu[' ]?(?:il|elle|on)"
    r"(?: en)? (?:accueille|admet|recoit))\s*(?:about|around|some|environ|quelque|pres de)?\s*$"
)
#: A change "from X to Y": the figure followed by "to"/"à" and another number is X.
_CHANGE_AFTER = re.compile(r"^\s*(?:to|a|jusqu'a)\s+\d")
#: A total already reached, or a target that was: in the figure's clause, before it.
_PAST = re.compile(
    r"\b(last year|l'an dernier|l'annee derniere|so far|jusqu'ici|jusqu'a present|"
    r"currently|actuellement|presentement|welcomed|admitted|accepted|received|arrived|"
    r"accueilli|accueillis|admis|recu|recus|etait fixee?|etaient|was set|were set|"
    r"previous|previously|former|precedent|precedente|ancien|ancienne|auparavant)\b"
)
#: A figure that counts a difference ("35,000 fewer", "20,000 more", "5 000 de plus"); not
#: "more than 400,000", a number.
_DIFFERENCE = re.compile(
    r"\b(?:fewer|less|additional|de moins|de plus|supplementaires?|additionnel(?:le)?s)\b"
    r"|\bmore\b(?! than)"
)
#: How far back in its sentence the words about a figure are read, in characters.
_REACH = 120


def tracked_key(mention: Mention, title: str = "") -> str | None:
    """The tracked identity of a figure mention, or None when it is not a tracked target.

    Whose target it is comes from the figure's sentence, or failing that from the headline
    ("CAQ seeks … a cut to 40,000 immigrants a year" makes a quoted "40,000 per year" Quebec's).
    """
    if mention.kind != "figure" or mention.topic not in TRACKED_TOPICS:
        return None
    if mention.unit != "people" or mention.scope != "per_year":
        return None
    sentence = fold(mention.sentence)
    if not _TARGET_CUE.search(sentence) or not_a_target(mention) is not None:
        return None
    jurisdiction = _jurisdiction(sentence) or _jurisdiction(fold(title))
    if jurisdiction is None:
        return None
    return f"{mention.topic}|{mention.unit}|{mention.scope}|{jurisdiction}"


def not_a_target(mention: Mention) -> str | None:
    """Why a figure in a target's sentence is not the target, or None when it may be."""
    before, after = _around(mention)
    if _BASELINE_BEFORE.search(before) or _CHANGE_AFTER.match(after):
        return "a baseline the target is compared with"
    if _DIFFERENCE.search(fold(mention.text)) or _DIFFERENCE.match(after.lstrip()):
        return "a difference, not the number itself"
    clause = re.split(r"[;:]|, (?:but|mais|while|alors que|tandis que)\b", before)[-1]
    demand = _DEMAND.search(clause)
    if demand and not _GOVERNMENT.search(clause, 0, demand.start()):
        return "a demand or proposal by someone else, not a plan of its own"
    if _DEMAND_AFTER.search(after) and not _GOVERNMENT.search(f"{clause} {after}"):
        return "a demand or proposal by someone else, not a plan of its own"
    if _PAST.search(clause):
        return "a past total or a former target"
    if _pledged(clause, after):
        return "a party's pledge, not a government's plan"
    return None


def _pledged(clause: str, after: str) -> bool:
    """Whether the figure is a party's promise: a party's plan with no government before it,
    what a government it would form would do, or a promise no government word in the
    sentence makes its own."""
    if _HYPOTHETICAL_GOVERNMENT.search(clause):
        return True
    if _PARTY.search(clause) and not _GOVERNMENT.search(clause):
        return True
    return bool(_PROMISE.search(f"{clause} {after}")) and not _GOVERNMENT.search(
        f"{clause} {after}"
    )


def _around(mention: Mention) -> tuple[str, str]:
    """The folded words of its sentence before and after the figure."""
    sentence = fold(mention.sentence)
    figure = fold(mention.text)
    at = sentence.find(figure)
    if at < 0:
        return "", ""
    return sentence[max(0, at - _REACH) : at], sentence[at + len(figure) :]


def _jurisdiction(sentence: str) -> str | None:
    quebec, canada = bool(_QUEBEC.search(sentence)), bool(_CANADA.search(sentence))
    if quebec == canada:
        return None  # neither, or both: whose target it is cannot be told from the sentence
    return "quebec" if quebec else "canada"
