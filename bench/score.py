"""Scoring a run against the corpus manifest: deduplication, story clusters and relevance.

Pure functions over the manifest and rows read from a database, so they can be tested
without running anything. An item is one feed entry, known by (feed URL, guid).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

Pair = tuple[str, str]


def _pair(a: str, b: str) -> Pair:
    return (a, b) if a <= b else (b, a)


def cluster_pairs(groups: Iterable[Sequence[str]]) -> set[Pair]:
    """Every unordered pair inside each group, after merging groups that share a member
    (an item copied twice makes its two copies duplicates of each other too)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for group in groups:
        for other in group[1:]:
            parent[find(other)] = find(group[0])
        find(group[0])
    clusters: dict[str, list[str]] = defaultdict(list)
    for member in sorted(parent):
        clusters[find(member)].append(member)
    return {_pair(a, b) for members in clusters.values() for a, b in combinations(members, 2)}


def item_ids(manifest: Mapping[str, Any]) -> dict[tuple[str, str], str]:
    """(feed URL, guid) -> item id."""
    feed_urls = {f["index"]: f["url"] for f in manifest["feeds"]}
    return {(feed_urls[i["feed"]], i["guid"]): i["id"] for i in manifest["items"]}


@dataclass(frozen=True)
class DedupScore:
    """How a run's merges compare with the planted exact duplicates."""

    planted_pairs: int
    merged_pairs: int
    correct_pairs: int
    #: Merged pairs that are near-duplicates (distinct texts): wrong for exact dedup.
    near_duplicate_pairs_merged: int
    #: Entries whose (feed, guid) the manifest does not know (should be 0).
    unmatched_entries: int
    matched_entries: int

    @property
    def precision(self) -> float | None:
        return self.correct_pairs / self.merged_pairs if self.merged_pairs else None

    @property
    def recall(self) -> float | None:
        return self.correct_pairs / self.planted_pairs if self.planted_pairs else None

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "precision": self.precision, "recall": self.recall}


def score_dedup(manifest: Mapping[str, Any], entries: Iterable[tuple[str, str, int]]) -> DedupScore:
    """Score (feed URL, guid, article id) rows: two items are merged when they share an
    article; a merge is correct when the manifest planted them as exact duplicates."""
    ids = item_ids(manifest)
    by_article: dict[int, list[str]] = defaultdict(list)
    unmatched = 0
    for feed_url, guid, article_id in entries:
        item = ids.get((feed_url, guid))
        if item is None:
            unmatched += 1
        else:
            by_article[article_id].append(item)
    merged = cluster_pairs(sorted(g) for g in by_article.values() if len(g) > 1)
    planted = cluster_pairs([d["a"], d["b"]] for d in manifest["exact_duplicates"])
    near = cluster_pairs(g["items"] for g in manifest["near_duplicate_groups"])
    return DedupScore(
        planted_pairs=len(planted),
        merged_pairs=len(merged),
        correct_pairs=len(merged & planted),
        near_duplicate_pairs_merged=len(merged & near),
        unmatched_entries=unmatched,
        matched_entries=sum(len(g) for g in by_article.values()),
    )


def score_near_clusters(
    manifest: Mapping[str, Any], stored: Iterable[tuple[str, str, int, int | None]]
) -> dict[str, Any]:
    """Story clusters against the planted near-duplicate groups, from (feed URL, guid,
    article id, cluster id) rows.

    Pairs of distinct *articles*: two entries that exact dedup filed as one article are not
    a near-duplicate pair. A planted group counts only its relevant items (Vigie clusters
    the stories analysts follow, not sports scores) that were stored (the full pipeline
    runs on some of the feeds).
    """
    relevant = set(manifest["relevant_items"])
    ids = item_ids(manifest)
    article_of: dict[str, int] = {}
    members: dict[int, set[int]] = defaultdict(set)
    for feed_url, guid, article, cluster in stored:
        item = ids.get((feed_url, guid))
        if item is not None:
            article_of[item] = article
        if cluster is not None:
            members[cluster].add(article)
    found = {pair for group in members.values() for pair in combinations(sorted(group), 2)}
    planted: set[tuple[int, int]] = set()
    for group in manifest["near_duplicate_groups"]:
        stored = [i for i in group["items"] if i in article_of and i in relevant]
        articles = sorted({article_of[i] for i in stored})
        planted.update(combinations(articles, 2))
    hits = len(found & planted)
    return {
        "planted_pairs": len(planted),
        "clustered_pairs": len(found),
        "correct_pairs": hits,
        "recall": hits / len(planted) if planted else None,
        "precision": hits / len(found) if found else None,
    }


def score_relevance(
    manifest: Mapping[str, Any], judged: Iterable[tuple[str, str, bool | None]]
) -> dict[str, Any]:
    """Precision and recall of (feed URL, guid, relevant) rows against the planted topics."""
    ids = item_ids(manifest)
    truth = {i["id"]: bool(i["relevant"]) for i in manifest["items"]}
    tp = fp = fn = 0
    for feed_url, guid, relevant in judged:
        item = ids.get((feed_url, guid))
        if item is None:
            continue
        expected = truth[item]
        tp += bool(relevant) and expected
        fp += bool(relevant) and not expected
        fn += (not relevant) and expected
    return {
        "precision": tp / (tp + fp) if tp + fp else None,
        "recall": tp / (tp + fn) if tp + fn else None,
        "true_positives": tp,
        "false_positives": fp,
        "false_negatives": fn,
    }
