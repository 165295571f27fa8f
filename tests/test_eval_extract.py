"""``bench/eval_extract.py`` writes what the extraction dev set's scorer reads."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from parsers.articles import extract_article

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "tests" / "pages"


def test_predictions_are_the_pipeline_text_of_every_page(tmp_path: Path) -> None:
    folder = tmp_path / "pages"
    folder.mkdir()
    for name in ("en_levels_plan.html", "fr_permis_etudes.html"):
        shutil.copy(PAGES / name, folder / name)
    (folder / "scan.htm").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj")  # not a page
    (folder / "notes.txt").write_text("not a page either")
    out = tmp_path / "predictions.jsonl"

    command = [sys.executable, str(ROOT / "bench" / "eval_extract.py"), str(folder)]
    done = subprocess.run(
        [*command, "--out", str(out), "--rounds", "0"],
        capture_output=True,
        text=True,
        check=True,
    )

    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [set(line) for line in lines] == [{"file", "text"}] * 3
    texts = {line["file"]: line["text"] for line in lines}
    for name in ("en_levels_plan.html", "fr_permis_etudes.html"):
        page = folder / name
        assert texts[name] == extract_article(page.resolve().as_uri(), page.read_bytes()).text
        assert texts[name]
    assert texts["scan.htm"] == ""
    assert "scan.htm: not an HTML document" in done.stderr
    assert "pages: 3" in done.stdout
