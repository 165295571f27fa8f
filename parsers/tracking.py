"""Which figures Vigie tracks across articles, and under what identity.

A figure is tracked when it states a target: an immigration level per year, for Quebec or for
Canada, in a sentence that speaks of a target, a cap, a plan or a cut. Its identity is
``topic|unit|scope|jurisdiction``, so "Quebec will admit 40,000 immigrants per year" in one
article and "Quebec raises its target to 50,000 immigrants per year" in a later one are one
figure that changed, while last year's 52,000 admissions (no target cue) is not tracked.
"""

from __future__ import annotations

import re

from parsers.tagging import Mention
from parsers.text import fold

#: Topics whose figures are tracked across articles.
TRACKED_TOPICS = frozenset({"immigration_levels"})

_TARGET_CUE = re.compile(
    r"\b(target|targets|cap|caps|capped|ceiling|plan|plans|cut|cuts|reduce|lower|raise|"
    r"limit|objective|goal|cible|cibles|seuil|seuils|plafond|plafonner|planification|"
    r"reduire|hausser|abaisser|objectif)\b"
)
_QUEBEC = re.compile(r"\b(quebec|province|caq|legault|jolin-barrette|roberge|frechette)\b")
_CANADA = re.compile(r"\b(canada|federal|ottawa|ircc|federale?|pays|country)\b")


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
    if not _TARGET_CUE.search(sentence):
        return None
    jurisdiction = _jurisdiction(sentence) or _jurisdiction(fold(title))
    if jurisdiction is None:
        return None
    return f"{mention.topic}|{mention.unit}|{mention.scope}|{jurisdiction}"


def _jurisdiction(sentence: str) -> str | None:
    quebec, canada = bool(_QUEBEC.search(sentence)), bool(_CANADA.search(sentence))
    if quebec == canada:
        return None  # neither, or both: whose target it is cannot be told from the sentence
    return "quebec" if quebec else "canada"
