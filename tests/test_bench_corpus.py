"""The benchmark corpus generator: deterministic, and what its manifest plants is really there."""

from __future__ import annotations

import json
import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from bench.corpus import CorpusSpec, build, fold, iter_files, write
from bench.score import cluster_pairs, score_dedup, score_near_clusters

SPEC = CorpusSpec(feeds=6, items=8, seed=5)
ATOM = "{http://www.w3.org/2005/Atom}"


def _files(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*") if p.is_file()
    }


def _feed_items(document: bytes) -> dict[str, dict[str, str]]:
    """guid -> {link, title, summary} of an RSS or Atom document."""
    root = ET.fromstring(document)
    found = {}
    for item in root.iter("item"):
        found[item.findtext("guid", "")] = {
            "link": item.findtext("link", ""),
            "title": item.findtext("title", ""),
            "summary": item.findtext("description", ""),
        }
    for entry in root.iter(f"{ATOM}entry"):
        link = entry.find(f"{ATOM}link")
        found[entry.findtext(f"{ATOM}id", "")] = {
            "link": link.get("href", "") if link is not None else "",
            "title": entry.findtext(f"{ATOM}title", ""),
            "summary": entry.findtext(f"{ATOM}summary", ""),
        }
    return found


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("corpus")
    return out, write(build(SPEC), out)


def test_same_seed_gives_identical_bytes(
    written: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    first, _ = written
    write(build(SPEC), tmp_path)
    assert _files(tmp_path) == _files(first)
    other = build(CorpusSpec(feeds=6, items=8, seed=6))
    assert [f[2] for f in iter_files(other)] != [f[2] for f in iter_files(build(SPEC))]


def test_planted_duplicates_are_in_the_feeds(written: tuple[Path, dict[str, Any]]) -> None:
    out, manifest = written
    routes = json.loads((out / "routes.json").read_text())
    feeds = {
        f["index"]: _feed_items((out / "www" / routes[_path(f["url"])][0]).read_bytes())
        for f in manifest["feeds"]
    }
    items = {i["id"]: i for i in manifest["items"]}
    kinds = {d["kind"] for d in manifest["exact_duplicates"]}
    assert kinds == {"tracking_url", "same_text"}
    for pair in manifest["exact_duplicates"]:
        a, b = items[pair["a"]], items[pair["b"]]
        in_a, in_b = feeds[a["feed"]][a["guid"]], feeds[b["feed"]][b["guid"]]
        assert a["feed"] != b["feed"] and a["language"] == b["language"]
        assert in_a["link"] == a["url"] and in_b["link"] == b["url"]
        if pair["kind"] == "tracking_url":
            base, _, query = b["url"].partition("?")
            assert base == a["url"] and ("utm_" in query or "fbclid" in query)
        else:
            assert b["url"] != a["url"]
            assert in_b["title"] == in_a["title"]
            assert _text(in_b["summary"]) == _text(in_a["summary"])  # images may differ
    assert manifest["near_duplicate_groups"]
    for group in manifest["near_duplicate_groups"]:
        members = [items[i] for i in group["items"]]
        assert len({m["feed"] for m in members}) == len(members) >= 2
        texts = {_text(feeds[m["feed"]][m["guid"]]["summary"]) for m in members}
        assert len(texts) == len(members)  # near, never exact
    assert set(manifest["relevant_items"]) == {i for i, item in items.items() if item["relevant"]}
    assert 0 < len(manifest["relevant_items"]) < len(items)


def test_near_duplicates_are_copies_of_one_story() -> None:
    corpus = build(CorpusSpec(feeds=30, items=10, seed=5))
    assert max(len(items) for _, items in corpus.near_groups) >= 3
    stories = {item.id: item.story for feed_items in corpus.items for item in feed_items}
    for _, items in corpus.near_groups:
        # The desks' headlines extend the wire's, never replace it; the body stays the wire's.
        titles = [stories[i].title for i in items]
        assert all(title.startswith(min(titles, key=len)) for title in titles), titles
        assert len({stories[i].paragraphs[1:-1] for i in items}) == 1


def test_pages_look_like_news_pages(written: tuple[Path, dict[str, Any]]) -> None:
    out, _ = written
    pages = sorted((out / "www" / "pages").glob("*.html"))
    assert pages
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert 5 * 1024 <= len(page.read_bytes()) <= 15 * 1024
        for marker in ('"@type": "NewsArticle"', 'id="cookie-banner"', "<nav", "<footer"):
            assert marker in html


def test_generation_is_fast(tmp_path: Path) -> None:
    started = time.perf_counter()
    write(build(CorpusSpec(feeds=6, items=8, seed=9)), tmp_path)
    assert time.perf_counter() - started < 3


def test_dedup_score_counts_pairs_inside_merged_articles() -> None:
    manifest = {
        "feeds": [{"index": 0, "url": "f0"}, {"index": 1, "url": "f1"}],
        "items": [
            {"id": "a", "feed": 0, "guid": "1"},
            {"id": "b", "feed": 1, "guid": "2"},
            {"id": "c", "feed": 1, "guid": "3"},
        ],
        "exact_duplicates": [{"a": "a", "b": "b", "kind": "same_text"}],
        "near_duplicate_groups": [],
    }
    # "c" wrongly merged with the planted pair: 1 right merge out of 3.
    score = score_dedup(manifest, [("f0", "1", 7), ("f1", "2", 7), ("f1", "3", 7)])
    assert (score.merged_pairs, score.correct_pairs, score.recall) == (3, 1, 1.0)
    assert cluster_pairs([["x", "y"], ["y", "z"]]) == {("x", "y"), ("x", "z"), ("y", "z")}


def test_near_duplicate_score_counts_pairs_of_distinct_stored_articles() -> None:
    manifest = {
        "feeds": [{"index": n, "url": f"f{n}"} for n in range(6)],
        "items": [{"id": i, "feed": n, "guid": i} for n, i in enumerate("abcdef")],
        "near_duplicate_groups": [
            {"id": "g", "items": ["a", "b", "c"]},
            {"id": "h", "items": ["e", "f"]},
        ],
        "relevant_items": ["a", "b", "c", "d"],
    }
    # "c" was not stored (its feed was not in the run); "d" is an exact copy of "a" (same
    # article); "b" joined the cluster, and so did an unplanted article 9; "e" and "f" are
    # off-topic copies, which Vigie does not cluster and the score does not expect.
    rows = [("f0", "a", 1, 5), ("f1", "b", 2, 5), ("f3", "d", 1, 5), ("x", "y", 9, 5)]
    rows += [("f4", "e", 3, None), ("f5", "f", 4, None)]
    score = score_near_clusters(manifest, rows)
    assert score == {
        "planted_pairs": 1,
        "clustered_pairs": 3,
        "correct_pairs": 1,
        "recall": 1.0,
        "precision": 1 / 3,
    }


def _text(html: str) -> str:
    return fold(re.sub(r"<[^>]+>", " ", html))


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]
