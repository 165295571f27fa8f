"""Tagging throughput: the Aho-Corasick tagger against a per-pattern ``re`` baseline.

Run from the repository root::

    python bench/bench_tagging.py [--texts 2000] [--seed 7]

It generates English and French articles of about 1.5 KB from sentence templates (on-topic
sentences mixed with ordinary news filler), tags them all with one ``Tagger`` (automaton
built once), then runs the baseline on the same texts: one compiled regex per surface form
the automaton holds, each searched over the folded text -- what a tagger without an
automaton would do just to *find* the terms, before any disambiguation, figures or scoring.
It prints texts/s for both and their ratio, using process CPU time so that other load on
the machine does not count. The baseline runs on a sample, as it is far slower.

Then (unless ``--no-adversarial``) it times hostile single-sentence texts of 100 KB to 1 MB:
a repeated ambiguous name with no sentence end, both sides of a near rule, a list of numbers
for the figure reader. Once with the limits lifted, to show the time grows linearly with the
text, and once as Vigie runs (200,000 characters tagged, 0.5 CPU-s a document).
"""

from __future__ import annotations

import argparse
import math
import random
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from a checkout, without installing

from parsers.tagging import Tagger, match_form  # noqa: E402
from parsers.taxonomy import load_taxonomy  # noqa: E402

TARGET_CHARS = 1500

ON_TOPIC_EN = (
    "Premier François Legault said Quebec wants full control over immigration.",
    "The CAQ government plans to cut immigration to 50,000 immigrants per year.",
    "Ottawa will reimburse $750 million spent on asylum seekers, Marc Miller said.",
    "Asylum claims at Roxham Road fell after the Safe Third Country Agreement was expanded.",
    "The number of international students dropped 30 per cent after the study permit cap.",
    "Immigration Minister Jean-François Roberge announced more francization classes.",
    "Canada will impose a visa requirement on some Mexican travellers, IRCC said.",
    "Family reunification files are piling up, says Québec solidaire.",
    "The federal levels plan sets a target of 395,000 permanent residents in 2025.",
    "Temporary foreign workers now make up a record share of the workforce in Montreal.",
    "The RCMP and the CBSA added officers to secure the border near Lacolle.",
    "Pierre Poilievre accused the Liberals of losing control of the immigration system.",
)
ON_TOPIC_FR = (
    "Le premier ministre François Legault réclame les pleins pouvoirs en immigration.",
    "Le gouvernement caquiste veut réduire les seuils d'immigration à 45 000 par année.",
    "Ottawa remboursera 750 millions de dollars pour l'accueil des demandeurs d'asile.",
    "Les passages irréguliers au chemin Roxham ont cessé après l'entente avec les États-Unis.",
    "Le nombre d'étudiants étrangers a baissé de 30 % depuis le plafond des permis d'études.",
    "Le ministre Jean-François Roberge annonce plus de cours de francisation.",
    "Le Canada impose de nouveau un visa aux voyageurs mexicains, selon IRCC.",
    "Les dossiers de regroupement familial s'accumulent, dénonce Québec solidaire.",
    "Le plan des niveaux d'immigration prévoit 395 000 résidents permanents en 2025.",
    "Les travailleurs étrangers temporaires sont de plus en plus nombreux à Montréal.",
    "La GRC et l'ASFC ont renforcé la sécurité à la frontière près de Lacolle.",
    "Pierre Poilievre accuse les libéraux d'avoir perdu le contrôle de l'immigration.",
)
FILLER_EN = (
    "The meeting took place on Thursday afternoon at the legislature.",
    "Officials declined to comment further, citing ongoing discussions.",
    "Economists expect interest rates to remain stable until the spring.",
    "Several community groups held a press conference outside the building.",
    "The report, released Tuesday, runs to more than two hundred pages.",
    "Critics say the timeline is unrealistic given the current labour market.",
    "A spokesperson said the department would publish new data next month.",
    "The announcement comes weeks before the start of the parliamentary session.",
)
FILLER_FR = (
    "La rencontre a eu lieu jeudi après-midi à l'hôtel du Parlement.",
    "Les fonctionnaires ont refusé de commenter davantage, invoquant les discussions.",
    "Les économistes s'attendent à ce que les taux restent stables jusqu'au printemps.",
    "Plusieurs organismes communautaires ont tenu un point de presse devant l'édifice.",
    "Le rapport, publié mardi, compte plus de deux cents pages.",
    "Les critiques jugent l'échéancier irréaliste compte tenu du marché du travail.",
    "Une porte-parole a indiqué que de nouvelles données seront publiées le mois prochain.",
    "L'annonce survient quelques semaines avant la reprise des travaux parlementaires.",
)


def generate_texts(count: int, seed: int) -> list[str]:
    """Articles of about ``TARGET_CHARS``, half English, half French, one topic sentence in 3."""
    rng = random.Random(seed)
    texts = []
    for i in range(count):
        on_topic, filler = (ON_TOPIC_EN, FILLER_EN) if i % 2 == 0 else (ON_TOPIC_FR, FILLER_FR)
        sentences: list[str] = []
        while sum(len(s) + 1 for s in sentences) < TARGET_CHARS:
            pool = on_topic if rng.random() < 1 / 3 else filler
            sentences.append(rng.choice(pool))
        texts.append(" ".join(sentences))
    return texts


def regex_baseline(forms: Sequence[str]) -> Callable[[str], int]:
    """One compiled regex per surface form, each searched over the folded text."""
    patterns = [re.compile(rf"(?<!\w){re.escape(form)}(?!\w)") for form in forms]

    def count_matches(text: str) -> int:
        folded = match_form(text)
        return sum(1 for pattern in patterns for _ in pattern.finditer(folded))

    return count_matches


def rate(function: Callable[[str], object], texts: Sequence[str]) -> float:
    """Texts per second of CPU time."""
    start = time.process_time()
    for text in texts:
        function(text)
    return len(texts) / (time.process_time() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=2000, help="articles to tag")
    parser.add_argument("--seed", type=int, default=7, help="random seed for the articles")
    parser.add_argument(
        "--no-adversarial",
        dest="adversarial",
        action="store_false",
        help="skip the hostile texts",
    )
    args = parser.parse_args()

    build_start = time.process_time()
    tagger = Tagger(load_taxonomy(ROOT / "seeds" / "taxonomy.toml"))
    build = time.process_time() - build_start
    texts = generate_texts(args.texts, args.seed)
    mean_size = sum(len(t.encode("utf-8")) for t in texts) / len(texts)
    print(
        f"{len(texts)} texts, mean {mean_size:.0f} bytes; automaton of "
        f"{len(tagger.surface_forms)} forms built in {build * 1000:.0f} ms"
    )

    tagger.tag("", texts[0])  # warm the folding caches
    tagged = rate(lambda text: tagger.tag("", text), texts)
    baseline = regex_baseline(tagger.surface_forms)
    sample = texts[: max(10, len(texts) // 100)]
    matched = rate(baseline, sample)
    print(f"tagger (automaton, full tagging): {tagged:10.0f} texts/s")
    print(f"baseline (re per pattern, match only): {matched:5.0f} texts/s on {len(sample)} texts")
    print(f"ratio: {tagged / matched:.1f}x")
    if args.adversarial:
        adversarial(tagger)


#: Hostile texts of about ``n`` characters, in one sentence.
ADVERSARIAL: dict[str, Callable[[int], str]] = {
    "ambiguous name": lambda n: "Legault " * (n // 8),
    "near-rule sides": lambda n: "detention immigration " * (n // 22),
    "numbers list": lambda n: "40,000 immigrants, $5 million, " * (n // 31),
}


def adversarial(tagger: Tagger) -> None:
    """CPU-seconds for hostile texts, limits lifted and as configured."""
    free = Tagger(tagger.taxonomy, cpu_budget=math.inf, max_chars=10**9)
    sizes = (100_000, 200_000, 400_000, 1_000_000)
    print("adversarial single-sentence texts, CPU-s (limits lifted | as Vigie runs, 1 MB):")
    for name, make in ADVERSARIAL.items():
        lifted = [_cpu(free, make(size)) for size in sizes]
        configured = _cpu(tagger, make(1_000_000))
        cells = "  ".join(
            f"{size // 1000:>5} KB {t:5.2f}" for size, t in zip(sizes, lifted, strict=True)
        )
        print(f"  {name:16} {cells}  | {configured:.2f}")


def _cpu(tagger: Tagger, text: str) -> float:
    start = time.process_time()
    tagger.tag("", text)
    return time.process_time() - start


if __name__ == "__main__":
    main()
