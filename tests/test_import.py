"""``vigie import``: local files through the store path, clustered like fetched articles.

A folder holds the wire story three outlets ran (plain text, Markdown with front matter, a
saved HTML page), another newsroom's story as JSON, the French wire copy without front
matter, a malformed JSON file, a binary file and a hidden file.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from cli import stories
from db import story_queries
from db.base import Base
from db.cluster_models import Cluster, ClusterMember, LshBand
from db.engine import make_sessions
from db.models import Alert, Article, ArticleVersion
from flows.importer import collect_files, import_files, intent_from_document
from parsers.documents import IMPORT_URL_PREFIX, parse_document
from parsers.exceptions import ParseError
from parsers.tagging import Tagger
from tests.test_dedup import (
    CTV_TEXT,
    CTV_TITLE,
    GLOBAL_TEXT,
    GLOBAL_TITLE,
    NATIONAL_POST_TITLE,
    OWN_STORY_TEXT,
    OWN_STORY_TITLE,
    WIRE_FR,
    WIRE_FR_TITLE,
    WIRE_PARAGRAPHS,
)

NOW = datetime(2025, 11, 4, 22, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"

CTV_FILE = f"""---
title: {CTV_TITLE}
url: https://www.ctvnews.ca/politics/levels-plan-1.7100001?utm_source=newsletter
date: 2025-11-04T12:00:00-05:00
language: en
source: CTV News
---
{CTV_TEXT}
"""

GLOBAL_FILE = f"""---
# Saved from the Global News app.
title: "{GLOBAL_TITLE}"
url: https://globalnews.ca/news/11100002/immigration-levels-plan/
date: Tue, 04 Nov 2025 17:20:00 GMT
source: Global News
author: The Canadian Press
---

# {GLOBAL_TITLE}

{GLOBAL_TEXT}
"""

NATIONAL_POST_PARAGRAPHS = "\n".join(
    f"<p>{p}</p>\n<p>Article content</p>" for p in WIRE_PARAGRAPHS
).replace("Québécois", "Qu&eacute;b&eacute;cois")
NATIONAL_POST_HTML = f"""<!doctype html>
<html lang="en-CA">
<head>
<meta charset="utf-8">
<title>{NATIONAL_POST_TITLE} | National Post</title>
<link rel="canonical" href="https://nationalpost.com/news/politics/liberals-cut-immigration-targets">
<meta property="og:title" content="{NATIONAL_POST_TITLE}">
<meta property="article:published_time" content="2025-11-04T17:45:00+00:00">
</head>
<body>
<nav><a href="/">Home</a> <a href="/news">News</a> <a href="/opinion">Opinion</a></nav>
<article>
<h1>{NATIONAL_POST_TITLE}</h1>
<p>OTTAWA (CP) —</p>
{NATIONAL_POST_PARAGRAPHS}
<p>Share this article in your social network</p>
</article>
<footer>© 2025 National Post, a division of Postmedia Network Inc.</footer>
</body>
</html>
"""

OWN_STORY_JSON = {
    "url": "https://www.cbc.ca/news/canada/montreal/levels-plan-quebec-1.7100003",
    "title": OWN_STORY_TITLE,
    "text": OWN_STORY_TEXT,
    "date": "2025-11-04T19:00:00Z",
    "language": "en",
    "source": "CBC News",
}

FRENCH_FILE = f"{WIRE_FR_TITLE}\n\n{WIRE_FR}\n"
BROKEN_JSON = '{"title": "Plan des niveaux", "text": "Ottawa réduit ses cibles",\n'


def _folder(root: Path) -> Path:
    folder = root / "articles"
    (folder / "wire").mkdir(parents=True)
    (folder / "wire" / "ctv-levels-plan.txt").write_text(CTV_FILE, encoding="utf-8")
    (folder / "wire" / "global-levels-plan.md").write_text(GLOBAL_FILE, encoding="utf-8")
    (folder / "wire" / "national-post.html").write_text(NATIONAL_POST_HTML, encoding="utf-8")
    (folder / "cbc-quebec-angle.json").write_text(json.dumps(OWN_STORY_JSON), encoding="utf-8")
    (folder / "la-presse-canadienne.txt").write_text(FRENCH_FILE, encoding="utf-8")
    (folder / "broken.json").write_text(BROKEN_JSON, encoding="utf-8")
    (folder / "scan.png").write_bytes(PNG)
    (folder / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    return folder


def _counts(sessions: sessionmaker[Session]) -> dict[str, int]:
    models: tuple[type[Base], ...] = (
        Article, ArticleVersion, Cluster, ClusterMember, LshBand, Alert,
    )  # fmt: skip
    with sessions.begin() as session:
        return {
            m.__table__.name: session.scalar(select(func.count()).select_from(m)) or 0
            for m in models
        }


# --- importing a folder --------------------------------------------------------------------


def test_import_folder_reports_bad_files_and_imports_the_rest(
    engine: Engine, tmp_path: Path, tagger: Tagger
) -> None:
    sessions = make_sessions(engine)
    files = collect_files([_folder(tmp_path)])
    outcomes = {
        o.path.name: o for o in import_files(files, sessions=sessions, tagger=tagger, now=NOW)
    }

    assert ".DS_Store" not in outcomes
    assert {name: o.status for name, o in outcomes.items()} == {
        "broken.json": "failed",
        "cbc-quebec-angle.json": "new",
        "la-presse-canadienne.txt": "new",
        "scan.png": "failed",
        "ctv-levels-plan.txt": "new",
        "global-levels-plan.md": "new",
        "national-post.html": "new",
    }
    broken, scan = outcomes["broken.json"].reason, outcomes["scan.png"].reason
    assert broken is not None and "broken.json" in broken and "not valid JSON" in broken
    assert scan is not None and "scan.png" in scan and "binary file" in scan

    wire = {outcomes[n].cluster_id for n in ("ctv-levels-plan.txt", "global-levels-plan.md")}
    assert wire == {outcomes["national-post.html"].cluster_id}
    assert outcomes["cbc-quebec-angle.json"].cluster_id not in wire
    assert outcomes["la-presse-canadienne.txt"].cluster_id not in wire
    with sessions.begin() as session:
        [story] = story_queries.list_clusters(session)
        urls = dict(session.execute(select(Article.source, Article.canonical_url)).tuples().all())
        alerts = session.scalars(select(Alert.dedup_key).where(Alert.kind == "cluster_growing"))
        assert list(alerts) == [f"cluster_growing:cluster:{story.id}:outlets:3"]
    # Named as declared, else by site; counted by site.
    assert [o.outlet for o in story.outlets] == ["CTV News", "Global News", "nationalpost.com"]
    assert [o.site for o in story.outlets] == ["ctvnews.ca", "globalnews.ca", "nationalpost.com"]
    assert urls["CTV News"] == "https://www.ctvnews.ca/politics/levels-plan-1.7100001"
    assert urls["la-presse-canadienne.txt"].startswith(IMPORT_URL_PREFIX)


def test_reimporting_the_folder_changes_nothing(
    engine: Engine, tmp_path: Path, tagger: Tagger
) -> None:
    sessions = make_sessions(engine)
    files = collect_files([_folder(tmp_path)])
    first = import_files(files, sessions=sessions, tagger=tagger, now=NOW)
    before = _counts(sessions)
    again = import_files(files, sessions=sessions, tagger=tagger, now=NOW)

    assert _counts(sessions) == before
    assert [o.status for o in again] == [
        "failed" if o.status == "failed" else "unchanged" for o in first
    ]
    assert [o.cluster_id for o in again] == [o.cluster_id for o in first]


def test_same_text_in_another_file_is_a_duplicate(
    engine: Engine, tmp_path: Path, tagger: Tagger
) -> None:
    sessions = make_sessions(engine)
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(OWN_STORY_JSON), encoding="utf-8")
    b.write_text(json.dumps({**OWN_STORY_JSON, "url": "https://www.msn.com/x"}), "utf-8")
    first, second = import_files([a, b], sessions=sessions, tagger=tagger, now=NOW)
    assert (first.status, second.status) == ("new", "duplicate")
    assert second.article_id == first.article_id


def test_import_in_chunks_reports_progress(
    engine: Engine, tmp_path: Path, tagger: Tagger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("flows.importer.CHUNK_FILES", 3)
    files = collect_files([_folder(tmp_path)])
    steps: list[int] = []
    outcomes = import_files(
        files, sessions=make_sessions(engine), tagger=tagger, now=NOW, advance=steps.append
    )
    assert steps == [3, 3, 1] and len(outcomes) == 7


# --- the command line ----------------------------------------------------------------------


def _app() -> typer.Typer:
    app = typer.Typer()
    stories.register(app)
    return app


def test_import_and_clusters_commands(vigie_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    runner = CliRunner()
    folder = _folder(tmp_path)
    imported = runner.invoke(_app(), ["import", str(folder)])
    assert imported.exit_code == 1
    assert "broken.json: not valid JSON" in imported.stderr
    assert "scan.png: binary file" in imported.stderr
    assert "Import of 7 files: 5 new, 0 updated, 0 unchanged, 0 duplicates, 2 failed." in (
        imported.stdout
    )

    again = runner.invoke(_app(), ["import", str(folder / "wire"), "--format", "json"])
    assert again.exit_code == 0, again.output
    assert {o["status"] for o in json.loads(again.stdout)} == {"unchanged"}

    listed = runner.invoke(_app(), ["clusters", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    [story] = json.loads(listed.stdout)
    assert story["size"] == 3 and story["title"] == CTV_TITLE
    assert [o["outlet"] for o in story["outlets"]] == [
        "CTV News",
        "Global News",
        "nationalpost.com",
    ]
    assert "immigration_levels" in story["topics"] and len(story["article_ids"]) == 3
    table = runner.invoke(_app(), ["clusters", "--limit", "5"])
    assert table.exit_code == 0 and "nationalpost.com" in table.stdout


# --- parsing files -------------------------------------------------------------------------


def test_front_matter_gives_title_url_date_language_and_source() -> None:
    document = parse_document("ctv.txt", CTV_FILE.encode())
    assert document.kind == "text" and document.title == CTV_TITLE
    assert document.canonical_url == "https://www.ctvnews.ca/politics/levels-plan-1.7100001"
    assert document.published_at == datetime(2025, 11, 4, 17, 0, tzinfo=UTC)
    assert (document.language, document.source) == ("en", "CTV News")
    assert document.text.startswith("OTTAWA — The federal government")


def test_markdown_heading_does_not_stay_in_the_text() -> None:
    document = parse_document("global.md", GLOBAL_FILE.encode())
    assert document.title == GLOBAL_TITLE  # quoted in the front matter
    assert document.text.startswith("# ")  # the heading is text when the title is given
    untitled = parse_document("note.md", b"# Quebec asks for more powers\n\nSome text here.")
    assert (untitled.title, untitled.text) == ("Quebec asks for more powers", "Some text here.")


def test_text_without_front_matter_takes_its_first_line_as_title() -> None:
    document = parse_document("lpc.txt", FRENCH_FILE.encode())
    assert document.title == WIRE_FR_TITLE and document.url is None
    assert document.canonical_url == IMPORT_URL_PREFIX + document.content_hash[:16]


def test_html_page_gives_its_canonical_url_and_date() -> None:
    document = parse_document("np.html", NATIONAL_POST_HTML.encode())
    assert document.kind == "html" and document.title == NATIONAL_POST_TITLE
    assert document.url == "https://nationalpost.com/news/politics/liberals-cut-immigration-targets"
    assert document.published_at == datetime(2025, 11, 4, 17, 45, tzinfo=UTC)
    assert "380,000 new permanent residents" in document.text
    assert "Home" not in document.text


def test_json_document() -> None:
    document = parse_document("cbc.json", json.dumps(OWN_STORY_JSON).encode())
    assert (document.kind, document.title, document.source) == ("json", OWN_STORY_TITLE, "CBC News")


def test_each_line_of_a_json_text_is_a_paragraph() -> None:
    # A dateline with no full stop must not run into the story's first sentence.
    body = {"title": "Levels", "text": "OTTAWA\r\nThe plan cuts targets.\n\n  Quebec objects.\n"}
    document = parse_document("copied.json", json.dumps(body).encode())
    assert document.text == "OTTAWA\n\nThe plan cuts targets.\n\nQuebec objects."


def test_intent_from_document_detects_the_language(tagger: Tagger) -> None:
    intent = intent_from_document(parse_document("lpc.txt", FRENCH_FILE.encode()), tagger)
    assert intent.language == "fr" and intent.origin == "import"
    assert intent.source == "lpc.txt" and intent.site == "import"
    assert intent.tags.relevant


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("broken.json", BROKEN_JSON.encode(), "not valid JSON (Expecting property name"),
        ("list.json", b'[{"title": "a", "text": "b"}]', "expected a JSON object, found list"),
        ("notext.json", b'{"title": "A title"}', "`text` must be a string, but it is missing"),
        ("number.json", b'{"title": 4, "text": "b"}', "`title` must be a string, but it is an int"),
        ("blank.json", b'{"title": "A", "text": "  "}', "no article text"),
        ("scan.png", PNG, "binary file"),
        ("nul.txt", b"Title\n\nText with a \0 NUL byte", "binary file"),
        ("latin1.txt", "Québec\n\nTexte".encode("latin-1"), "not UTF-8 text"),
        ("empty.txt", b"  \n", "empty file"),
        ("open.md", b"---\ntitle: x\n\nNo closing fence", "front matter opened on line 1 is never"),
        ("pair.md", b"---\ntitle x\n---\nText", "front matter line 2 is not `key: value`"),
        ("date.md", b"---\ndate: next Tuesday\n---\nT\n\nText", "date 'next Tuesday' is not"),
        ("url.md", b"---\nurl: ftp://x.example/a\n---\nT\n\nText", "url must start with http"),
        ("lang.md", b"---\nlanguage: french!\n---\nT\n\nText", "language 'french!' is not"),
        ("big.txt", b"x" * 6_000_000, "too large"),
    ],
)  # fmt: skip
def test_bad_files_say_why(name: str, content: bytes, reason: str) -> None:
    with pytest.raises(ParseError) as raised:
        parse_document(name, content)
    assert str(raised.value).startswith(f"{name}: ")
    assert reason in str(raised.value)


def test_unknown_extension_is_recognised_by_content() -> None:
    assert parse_document("story", json.dumps(OWN_STORY_JSON).encode()).kind == "json"
    assert parse_document("page", NATIONAL_POST_HTML.encode()).kind == "html"
    assert parse_document("note", b"A title here\n\nSome text.").kind == "text"


def test_missing_file_is_reported_by_name(tmp_path: Path) -> None:
    from flows.importer import read_document

    with pytest.raises(ParseError, match=r"nope\.txt: cannot read file"):
        read_document(tmp_path / "nope.txt")
