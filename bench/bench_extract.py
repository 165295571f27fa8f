"""How fast is ``extract_article``? Runs it over the golden pages, repeated, and prints pages/s.

    python bench/bench_extract.py [--rounds 20] [--max-seconds 20]

Also prints the golden-page quality (snippets matched / total) of the first round, so a
speed-up that loses text shows up in the same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "tests" / "pages"
if str(ROOT) not in sys.path:  # run as a script from a checkout, without installing Vigie
    sys.path.insert(0, str(ROOT))

from parsers.articles import ArticleData, extract_article  # noqa: E402


def load_pages() -> list[tuple[str, dict[str, Any], bytes]]:
    pages = []
    for expected_path in sorted(PAGES.glob("*.expected.json")):
        expected = json.loads(expected_path.read_text(encoding="utf-8"))
        html = expected_path.with_name(expected_path.name.replace(".expected.json", ".html"))
        pages.append((html.name, expected, html.read_bytes()))
    return pages


def quality(expected: dict[str, Any], article: ArticleData) -> tuple[int, int]:
    good = sum(s in article.text for s in expected["must_contain"])
    good += sum(s not in article.text for s in expected["must_not_contain"])
    return good, len(expected["must_contain"]) + len(expected["must_not_contain"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="passes over the golden pages")
    parser.add_argument("--max-seconds", type=float, default=20.0, help="stop early after this")
    args = parser.parse_args()
    pages = load_pages()
    # Warm-up: the language model and trafilatura's caches load on first use.
    first = [extract_article(e["url"], content, e.get("headers")) for _, e, content in pages]
    matched = [quality(e, article) for (_, e, _), article in zip(pages, first, strict=True)]
    timings: list[float] = []
    started = time.perf_counter()
    for _ in range(args.rounds):
        for _, expected, content in pages:
            t0 = time.perf_counter()
            extract_article(expected["url"], content, expected.get("headers"))
            timings.append(time.perf_counter() - t0)
        if time.perf_counter() - started > args.max_seconds:
            break
    elapsed = time.perf_counter() - started
    kilobytes = sum(len(content) for _, _, content in pages) / len(pages) / 1024
    print(f"pages: {len(pages)} golden pages (mean {kilobytes:.1f} KB), {len(timings)} extractions")
    print(f"speed: {len(timings) / elapsed:.1f} pages/s")
    print(f"per page: median {statistics.median(timings) * 1000:.1f} ms, "
          f"max {max(timings) * 1000:.1f} ms")  # fmt: skip
    good, total = sum(g for g, _ in matched), sum(t for _, t in matched)
    print(f"quality: {good}/{total} snippets matched ({good / total:.0%})")


if __name__ == "__main__":
    main()
