"""Story clusters at scale: candidate lookup cost against corpus size, and detection quality.

Run from the repository root::

    python bench/bench_clusters.py [--small 1000] [--large 20000] [--queries 300] [--seed 7]
                                   [--database-url URL] [--diverse]

Stories come from ``bench.corpus.Writer``: English and French articles built from topic
templates, so unrelated stories on one topic share stock sentences, as real coverage does.
They are fingerprinted, then bulk-inserted (Core ``executemany``) as articles, signatures,
LSH keys and singleton clusters, without going through ``assign``.

Cost. With ``--small`` stories stored, each query article is looked up and verified
(``db.story_queries.find_matches``: the indexed (band, hash) probes, then the signature checks),
timed one by one; then the corpus grows to ``--large`` and the same queries run again. The
ratio of the per-article medians is the number that matters: near 1 means the lookup does
not grow with the corpus.

Quality. Each query is a planted variant of a stored story: the outlet's furniture added,
one sentence rewritten, 2 % or 6 % of words changed, the story cut to its first half, or
another story on the same topic. Truth is the exact Jaccard of the shingle sets against the
threshold (what the Jaccard rule estimates); precision and recall are of the pairs
``find_matches`` returns. The same numbers are also given against the intended labels
(furniture, rewritten sentence, 2 % edits and a cut ending are copies; the rest are not).

Wire copies. The hand-written cases of ``bench/wire_copies.py`` (a new lede, a cut ending,
an inserted paragraph, a photo caption, a translated headline; and, to stay apart, the same
event by another reporter and templated weather, game and market reports) are stored with
the corpus, and each variant is looked up: precision and recall of the planted copies.

``--diverse`` scrambles each template story's words: stories then share no stock sentences,
as different real articles mostly do not, so the growth in candidates that the templates
cause (unrelated same-topic stories have an exact Jaccard around 0.4) disappears and the
probe's own cost shows. The probe (``candidate_ids``) is also timed on its own.

The database is a temporary SQLite file unless ``--database-url`` names an empty one.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from a checkout, without installing

from sqlalchemy import insert, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.corpus import Story, Writer  # noqa: E402
from bench.corpus_text import TOPICS  # noqa: E402
from bench.wire_copies import CASES, Case  # noqa: E402
from db.cluster_models import (  # noqa: E402
    ArticlePassage,
    ArticleSignature,
    Cluster,
    ClusterMember,
    LshBand,
)
from db.engine import make_engine, make_sessions  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.models import Article  # noqa: E402
from db.story_queries import find_matches  # noqa: E402
from parsers import dedup  # noqa: E402

T0 = datetime(2025, 11, 1, tzinfo=UTC)
OUTLETS = ("ctvnews.ca", "globalnews.ca", "nationalpost.com", "lapresse.ca", "ledevoir.com")
FURNITURE = {
    "en": (
        "This report by The Canadian Press was first published Nov. 4, 2025.",
        "Download our app for breaking news alerts and the latest headlines.",
        "Article content",
        "Share this article in your social network",
    ),
    "fr": (
        "Ce texte de La Presse Canadienne a été publié pour la première fois le 4 novembre.",
        "Téléchargez notre application pour recevoir les alertes.",
        "Contenu de l'article",
        "Partagez cet article sur vos réseaux sociaux",
    ),
}
INSERT_BATCH = 2000


@dataclass(frozen=True)
class Doc:
    """A synthetic article: its words and its fingerprint."""

    title: str
    text: str
    language: str
    fp: dedup.Fingerprint


@dataclass(frozen=True)
class Query:
    """A planted variant of stored story ``base``."""

    kind: str
    base: int
    doc: Doc
    #: Whether the variant is meant to be a copy.
    intended: bool


# --- corpus --------------------------------------------------------------------------------


def make_doc(story: Story, language: str, when: datetime) -> Doc:
    body = "\n\n".join(story.paragraphs)
    fp = dedup.fingerprint(story.title, body, language=language, outlet="", seen_at=when)
    return Doc(story.title, body, language, fp)


def make_corpus(count: int, rng: random.Random, *, diverse: bool = False) -> list[Doc]:
    """Template stories; with ``diverse``, stories of words drawn from their vocabulary."""
    writers = {lang: Writer(rng, lang) for lang in ("en", "fr")}
    docs = []
    for n in range(count):
        language = "en" if n % 2 == 0 else "fr"
        story = writers[language].story(rng.choice(list(TOPICS[language])))
        if diverse:
            story = _scrambled(story, rng, _vocabulary(language))
        docs.append(make_doc(story, language, T0 + timedelta(minutes=n)))
    return docs


_VOCABULARIES: dict[str, tuple[list[str], list[float]]] = {}


def _vocabulary(language: str) -> tuple[list[str], list[float]]:
    """The template words of a language with Zipf weights (the commonest word weighs most)."""
    if language not in _VOCABULARIES:
        writer = Writer(random.Random(0), language)
        counts: dict[str, int] = {}
        for topic in TOPICS[language]:
            for _ in range(20):
                for word in " ".join(writer.story(topic).paragraphs).split():
                    counts[word] = counts.get(word, 0) + 1
        words = sorted(counts, key=lambda w: (-counts[w], w))
        _VOCABULARIES[language] = (words, [1 / (rank + 1) for rank in range(len(words))])
    return _VOCABULARIES[language]


def _scrambled(
    story: Story, rng: random.Random, vocabulary: tuple[list[str], list[float]]
) -> Story:
    # Same shape as the template story, but no stock sentences: unrelated stories then share
    # about as little as unrelated real articles do.
    words, weights = vocabulary
    paragraphs = tuple(
        " ".join(rng.choices(words, weights, k=len(p.split()))) for p in story.paragraphs
    )
    title = " ".join(rng.choices(words, weights, k=len(story.title.split())))
    return Story(title, paragraphs, story.topic)


def _story(doc: Doc, paragraphs: Sequence[str]) -> Story:
    return Story(doc.title, tuple(paragraphs), "")


def with_furniture(doc: Doc, rng: random.Random) -> Story:
    lines = FURNITURE[doc.language]
    paragraphs = doc.text.split("\n\n")
    # Inline furniture between paragraphs and a credit at the end, as outlets print it.
    out = [p for para in paragraphs for p in (para, lines[2] if rng.random() < 0.5 else "")]
    return _story(doc, [p for p in out if p] + [lines[0], lines[1]])


def with_rewritten_sentence(doc: Doc, rng: random.Random, writer: Writer) -> Story:
    paragraphs = doc.text.split("\n\n")
    index = rng.randrange(len(paragraphs))
    sentences = paragraphs[index].split(". ")
    sentences[rng.randrange(len(sentences))] = writer.story("local").paragraphs[0].split(". ")[0]
    paragraphs[index] = ". ".join(sentences)
    return _story(doc, paragraphs)


def with_word_edits(doc: Doc, rng: random.Random, rate: float, vocabulary: list[str]) -> Story:
    paragraphs = []
    for para in doc.text.split("\n\n"):
        words = para.split()
        edited = [rng.choice(vocabulary) if rng.random() < rate else w for w in words]
        paragraphs.append(" ".join(edited))
    return _story(doc, paragraphs)


def first_half(doc: Doc) -> Story:
    paragraphs = doc.text.split("\n\n")
    return _story(doc, paragraphs[: max(1, len(paragraphs) // 2)])


def plant_queries(corpus: Sequence[Doc], count: int, rng: random.Random) -> list[Query]:
    """Variants of stories among the first ``count`` stored, six kinds in turn."""
    writers = {lang: Writer(rng, lang) for lang in ("en", "fr")}
    vocabulary = sorted({w for doc in corpus[:500] for w in doc.text.split()})

    def other_story(doc: Doc) -> Story:
        return writers[doc.language].story(rng.choice(list(TOPICS[doc.language])))

    makers: list[tuple[str, bool, Callable[[Doc], Story]]] = [
        ("furniture", True, lambda d: with_furniture(d, rng)),
        ("one_sentence", True, lambda d: with_rewritten_sentence(d, rng, writers[d.language])),
        ("word_edits_2pct", True, lambda d: with_word_edits(d, rng, 0.02, vocabulary)),
        ("word_edits_6pct", False, lambda d: with_word_edits(d, rng, 0.06, vocabulary)),
        ("first_half", True, first_half),  # a cut ending: the passage rule finds it
        ("same_topic", False, other_story),
    ]  # fmt: skip
    queries = []
    for n in range(count):
        base = rng.randrange(len(corpus))
        kind, intended, make = makers[n % len(makers)]
        doc = corpus[base]
        variant = make_doc(make(doc), doc.language, doc.fp.seen_at + timedelta(hours=1))
        queries.append(Query(kind, base, variant, intended))
    return queries


# --- storage -------------------------------------------------------------------------------


def bulk_store(session: Session, corpus: Sequence[Doc], start: int, stop: int) -> None:
    """Store stories ``start:stop`` as articles with signatures, keys and singleton clusters."""
    for low in range(start, stop, INSERT_BATCH):
        ids = range(low, min(stop, low + INSERT_BATCH))
        session.execute(insert(Article), [_article_row(i, corpus[i]) for i in ids])
        session.execute(insert(ArticleSignature), [_signature_row(i, corpus[i]) for i in ids])
        bands = [
            {"article_id": i + 1, "band": key.band, "hash": key.hash}
            for i in ids
            for key in dedup.band_keys(corpus[i].fp)
        ]
        session.execute(insert(LshBand), bands)
        passages = [
            {"article_id": i + 1, "hash": p.hash, "shape": p.shape}
            for i in ids
            for p in corpus[i].fp.passages
        ]
        if passages:
            session.execute(insert(ArticlePassage), passages)
        session.execute(insert(Cluster), [_cluster_row(i, corpus[i]) for i in ids])
        session.execute(insert(ClusterMember), [_member_row(i) for i in ids])


def _article_row(i: int, doc: Doc) -> dict[str, Any]:
    outlet = OUTLETS[i % len(OUTLETS)]
    return {
        "id": i + 1,
        "canonical_url": f"https://www.{outlet}/story/{i}",
        "title": doc.title,
        "source": outlet,
        "site": outlet,
        "language": doc.language,
        "first_seen_at": doc.fp.seen_at,
    }


def _signature_row(i: int, doc: Doc) -> dict[str, Any]:
    return {
        "article_id": i + 1,
        "minhash": doc.fp.signature,
        "words": doc.fp.words,
        "normalised_title": doc.fp.normalised_title,
        "outlet": OUTLETS[i % len(OUTLETS)],
        "language": doc.fp.language,
        "published_at": doc.fp.seen_at,
        "first_seen_at": doc.fp.seen_at,
    }


def _cluster_row(i: int, doc: Doc) -> dict[str, Any]:
    when = doc.fp.seen_at
    return {
        "id": i + 1,
        "representative_article_id": i + 1,
        "size": 1,
        "outlet_count": 1,
        "alerted_outlets": 0,
        "created_at": when,
        "updated_at": when,
        "title": doc.title,
    }


def _member_row(i: int) -> dict[str, Any]:
    return {
        "id": i + 1,
        "cluster_id": i + 1,
        "article_id": i + 1,
        "outlet": OUTLETS[i % len(OUTLETS)],
        "joined_at": T0,
    }


def analyze(session: Session) -> None:
    # Fresh statistics, so that the planner sees the index as it would in production.
    session.execute(text("ANALYZE"))


# --- measuring -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """Per-article lookup and verification time at one corpus size."""

    stored: int
    #: Lookup and verification together (``find_matches``).
    median_ms: float
    p95_ms: float
    #: The indexed (band, hash) probe alone (``candidate_ids``).
    probe_median_ms: float
    mean_candidates: float


def time_queries(session: Session, queries: Sequence[Query], stored: int) -> Timing:
    from db.story_queries import candidate_ids

    durations, probes, candidates = [], [], []
    for query in queries:
        keys = dedup.band_keys(query.doc.fp)
        started = time.perf_counter()
        found = candidate_ids(session, keys)
        probes.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        find_matches(session, query.doc.fp)
        durations.append((time.perf_counter() - started) * 1000)
        candidates.append(len(found))
    durations.sort()
    return Timing(
        stored=stored,
        median_ms=statistics.median(durations),
        p95_ms=durations[int(len(durations) * 0.95) - 1],
        probe_median_ms=statistics.median(probes),
        mean_candidates=statistics.fmean(candidates),
    )


def exact_jaccard(a: Doc, b: Doc) -> float:
    sa, sb = (_shingle_set(d.text) for d in (a, b))
    return len(sa & sb) / len(sa | sb) if sa | sb else 0.0


def _shingle_set(body: str) -> set[bytes]:
    return dedup.shingles(dedup.normalised_paragraphs(body))


@dataclass(frozen=True)
class Quality:
    """Detection quality of the found pairs against one notion of truth."""

    truth: str
    precision: float
    recall: float
    true_pairs: int
    found_pairs: int


def score(
    session: Session, corpus: Sequence[Doc], queries: Sequence[Query], threshold: float
) -> tuple[list[Quality], dict[str, tuple[int, int]]]:
    """Precision and recall by exact Jaccard and by intent; found/planted per variant kind."""
    exact_true = exact_found = exact_hit = intended_true = intended_found = intended_hit = 0
    by_kind: dict[str, tuple[int, int]] = {}
    for query in queries:
        matched = {m.article_id - 1 for m in find_matches(session, query.doc.fp)}
        base_is_copy = exact_jaccard(query.doc, corpus[query.base]) >= threshold
        exact_true += base_is_copy
        intended_true += query.intended
        for found in matched:
            truly = exact_jaccard(query.doc, corpus[found]) >= threshold
            exact_found += 1
            exact_hit += truly
            intended_found += 1
            intended_hit += found == query.base and query.intended
        hits, total = by_kind.get(query.kind, (0, 0))
        by_kind[query.kind] = (hits + (query.base in matched), total + 1)
    return [
        Quality("exact Jaccard", _ratio(exact_hit, exact_found), _ratio(exact_hit, exact_true),
                exact_true, exact_found),
        Quality("intended label", _ratio(intended_hit, intended_found),
                _ratio(intended_hit, intended_true), intended_true, intended_found),
    ], by_kind  # fmt: skip


def wire_docs(cases: Sequence[Case]) -> tuple[list[Doc], list[int], list[Doc]]:
    """The distinct originals, each case's index among them, and each case's variant
    (English; the variants two hours after the originals)."""
    distinct = list(dict.fromkeys(case.original for case in cases))
    originals = [make_doc(_wire_story(t.title, t.paragraphs), "en", T0) for t in distinct]
    later = T0 + timedelta(hours=2)
    variants = [make_doc(_wire_story(case.variant.title, case.variant.paragraphs), "en", later)
                for case in cases]  # fmt: skip
    return originals, [distinct.index(case.original) for case in cases], variants


def _wire_story(title: str, paragraphs: Sequence[str]) -> Story:
    return Story(title, tuple(paragraphs), "")


def score_wire_copies(
    session: Session, cases: Sequence[Case], variants: Sequence[Doc], original_ids: Sequence[int]
) -> tuple[Quality, dict[str, bool]]:
    """Precision and recall of the planted copies; whether each case came out right."""
    planted = found = right = 0
    verdicts = {}
    for case, variant, original in zip(cases, variants, original_ids, strict=True):
        matched = {m.article_id for m in find_matches(session, variant.fp)}
        hit = original in matched
        planted += case.copy
        found += len(matched)
        right += hit and case.copy
        verdicts[case.kind] = hit == case.copy and matched <= {original}
    quality = Quality("planted wire copies", _ratio(right, found), _ratio(right, planted),
                      planted, found)  # fmt: skip
    return quality, verdicts


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 1.0


# --- main ----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=20000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", default="")
    parser.add_argument(
        "--diverse",
        action="store_true",
        help="Scramble the template stories' words: no stock sentences shared between stories.",
    )
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    started = time.perf_counter()
    corpus = make_corpus(args.large, rng, diverse=args.diverse)
    elapsed = time.perf_counter() - started
    print(f"fingerprinted {len(corpus)} stories: {elapsed / len(corpus) * 1000:.2f} ms each")
    queries = plant_queries(corpus[: args.small], args.queries, rng)

    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url or f"sqlite:///{Path(scratch) / 'bench.db'}"
        engine = make_engine(url)
        upgrade(engine)
        sessions = make_sessions(engine)
        timings = []
        for start, stop in ((0, args.small), (args.small, args.large)):
            with sessions.begin() as session:
                bulk_store(session, corpus, start, stop)
            with sessions.begin() as session:
                analyze(session)
            with sessions.begin() as session:
                time_queries(session, queries[:20], stop)  # warm caches and statements
                timings.append(time_queries(session, queries, stop))
        with sessions.begin() as session:
            qualities, by_kind = score(session, corpus, queries, dedup.DEFAULT_THRESHOLD)
        originals, index, variants = wire_docs(CASES)
        with sessions.begin() as session:
            bulk_store(session, [*corpus, *originals], args.large, args.large + len(originals))
        ids = [args.large + 1 + n for n in index]  # bulk_store numbers articles from 1
        with sessions.begin() as session:
            wire, verdicts = score_wire_copies(session, CASES, variants, ids)
        engine.dispose()
    corpus_kind = "diverse" if args.diverse else "template"
    _report(f"{engine.dialect.name}, {corpus_kind} corpus", timings, qualities, by_kind)
    print(
        f"\nplanted wire copies ({len(CASES)} hand-written cases among {args.large} stories): "
        f"precision {wire.precision:.3f}, recall {wire.recall:.3f} "
        f"({wire.true_pairs} copies planted, {wire.found_pairs} found)"
    )
    for case in CASES:
        expected = "copy" if case.copy else "apart"
        print(f"    {case.kind:<20} {expected:<6} {'ok' if verdicts[case.kind] else 'WRONG'}")


def _report(
    dialect: str,
    timings: Sequence[Timing],
    qualities: Sequence[Quality],
    by_kind: dict[str, tuple[int, int]],
) -> None:
    print(f"\ncandidate lookup + verify per article ({dialect}):")
    for t in timings:
        print(
            f"  {t.stored:>6} stored: median {t.median_ms:.2f} ms (probe alone "
            f"{t.probe_median_ms:.2f} ms), p95 {t.p95_ms:.2f} ms, "
            f"{t.mean_candidates:.2f} candidates on average"
        )
    small, large = timings
    print(
        f"  ratio: {large.stored / small.stored:.0f}x the corpus, "
        f"{large.median_ms / small.median_ms:.2f}x the time "
        f"({large.probe_median_ms / small.probe_median_ms:.2f}x for the probe alone)"
    )
    print(f"\nquality at threshold {dedup.DEFAULT_THRESHOLD}:")
    for q in qualities:
        print(
            f"  by {q.truth}: precision {q.precision:.3f}, recall {q.recall:.3f} "
            f"({q.true_pairs} true pairs, {q.found_pairs} found)"
        )
    print("  base story found, per planted variant:")
    for kind, (hits, total) in by_kind.items():
        print(f"    {kind:<20} {hits:>4}/{total}")


if __name__ == "__main__":
    main()
