"""``vigie tag``: local files tagged as ``vigie import`` would store them, without a database."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.app import app

PAGES = Path(__file__).resolve().parent / "pages"
runner = CliRunner()


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "drafts"
    folder.mkdir()
    (folder / "levels.md").write_text(
        "---\ntitle: Quebec wants fewer immigrants\nsource: Le Devoir\n---\n"
        "Premier François Legault said the CAQ government plans to cut immigration to "
        "40,000 a year, and wants Ottawa to hand over family reunification.\n",
        encoding="utf-8",
    )
    (folder / "asile.json").write_text(
        json.dumps({"title": "Demandeurs d'asile", "text": "Québec demande à Ottawa de "
                    "mieux répartir les demandeurs d'asile arrivés par le chemin Roxham."}),
        encoding="utf-8",
    )  # fmt: skip
    shutil.copy(PAGES / "en_study_permit_cap.html", folder / "permits.html")
    (folder / "broken.json").write_text("{not json", encoding="utf-8")
    return folder


def test_tag_reads_a_folder_as_import_does_and_reports_bad_files(tmp_path: Path) -> None:
    folder = _folder(tmp_path)

    result = runner.invoke(app, ["tag", str(folder)])
    rows = {Path(row["file"]).name: row for row in map(json.loads, result.stdout.splitlines())}

    assert result.exit_code == 1  # the broken file, after the others
    assert sorted(rows) == ["asile.json", "broken.json", "levels.md", "permits.html"]
    assert not rows["broken.json"]["ok"] and "not valid JSON" in rows["broken.json"]["error"]
    levels = rows["levels.md"]
    assert levels["title"] == "Quebec wants fewer immigrants"  # front matter, not body text
    assert "immigration_levels" in levels["topics"] and "legault" in levels["actors"]
    assert levels["primary_topic"] == levels["topics"][0] and levels["why"].startswith("score ")
    assert levels["cut"] is None and isinstance(levels["mentioned"], list)
    assert rows["asile.json"]["relevant"] and "asylum_refugees" in rows["asile.json"]["topics"]
    expected = json.loads((PAGES / "en_study_permit_cap.expected.json").read_text())
    assert rows["permits.html"]["title"] == expected["title"]  # the article, not <title>


def test_tag_gives_the_topics_an_import_stores(
    vigie_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = _folder(tmp_path)
    (folder / "broken.json").unlink()
    tagged = runner.invoke(app, ["tag", str(folder)])
    assert runner.invoke(app, ["init", "--no-curated"]).exit_code == 0

    imported = runner.invoke(app, ["import", str(folder)])
    stored = json.loads(runner.invoke(app, ["articles", "--format", "json"]).stdout)

    assert tagged.exit_code == 0 and imported.exit_code == 0, imported.output
    by_title = {row["title"]: row["topics"] for row in map(json.loads, tagged.stdout.splitlines())}
    assert by_title == {row["title"]: row["topics"] for row in stored}
