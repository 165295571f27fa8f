"""Article text on saved pages: predictions in the extraction dev set's format, CPU per page.

Run from the repository root::

    python bench/eval_extract.py ../shared/devsets/extraction/pages --out predictions.jsonl
    python3 ../shared/devsets/extraction/evaluate.py predictions.jsonl

or in one go, scoring with the dev set's own ``evaluate.py``::

    python bench/eval_extract.py ../shared/devsets/extraction/pages --out predictions.jsonl \\
        --evaluate ../shared/devsets/extraction/evaluate.py

Every ``*.html`` / ``*.htm`` file of the folder goes through ``extract_article``, the
function a fetched page goes through in a run (the file's ``file://`` URI stands for the URL,
as in ``vigie extract``). Each page gives one JSON line ``{"file", "text"}``; a page that is
not HTML gives ``"text": ""`` and is named on stderr. CPU per page is this process's CPU
time (so other load on the machine barely counts) over ``--rounds`` passes after one
warm-up pass; the median pass is reported.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from a checkout, without installing Vigie
    sys.path.insert(0, str(ROOT))

from parsers.articles import extract_article  # noqa: E402
from parsers.exceptions import ParseError  # noqa: E402

PAGE_SUFFIXES = (".html", ".htm")


def saved_pages(folder: Path) -> list[Path]:
    """The folder's HTML files, by name."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in PAGE_SUFFIXES)


def page_text(path: Path, content: bytes) -> str:
    """The article text Vigie would store for this page ("" when it is not HTML)."""
    try:
        return extract_article(path.resolve().as_uri(), content).text
    except ParseError as exc:
        print(f"{path.name}: {exc}", file=sys.stderr)
        return ""


def cpu_per_page(pages: list[tuple[Path, bytes]], rounds: int) -> float:
    """Median over ``rounds`` passes of CPU seconds per page."""
    passes = []
    for _ in range(rounds):
        started = time.process_time()
        for path, content in pages:
            page_text(path, content)
        passes.append((time.process_time() - started) / len(pages))
    return statistics.median(passes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", type=Path, help="folder of saved HTML pages")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("predictions.jsonl"),
        help="JSON-lines file to write (default: predictions.jsonl)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="timed passes over the pages after the first (0: no timing)",
    )
    parser.add_argument(
        "--evaluate",
        type=Path,
        metavar="EVALUATE_PY",
        help="score the predictions with this evaluate.py",
    )
    args = parser.parse_args()

    paths = saved_pages(args.pages)
    if not paths:
        parser.error(f"no .html files in {args.pages}")
    pages = [(path, path.read_bytes()) for path in paths]
    started = time.process_time()
    with args.out.open("w", encoding="utf-8") as out:
        for path, content in pages:
            record = {"file": path.name, "text": page_text(path, content)}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    first = (time.process_time() - started) / len(pages)
    print(f"pages: {len(pages)} from {args.pages}, predictions in {args.out}")
    print(f"first pass (loads models and caches): {first * 1000:.1f} CPU-ms per page")
    if args.rounds > 0:
        median = cpu_per_page(pages, args.rounds)
        print(f"CPU per page: {median * 1000:.1f} ms (median of {args.rounds} passes)")
    sys.stdout.flush()
    if args.evaluate:
        done = subprocess.run([sys.executable, str(args.evaluate), str(args.out)], check=False)
        return done.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
