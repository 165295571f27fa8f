"""Robustness corpus: every test feed of feedparser and lemon24/reader through ``parse_feed``
and through ``vigie feed parse --format json``.

The files in ``tests/corpus`` are copied verbatim from those projects (licences beside them).
A file may yield entries, be a valid but empty feed, or fail with a readable ``ParseError``;
nothing else. reader's files come with expected results (``*.py``), checked where Vigie keeps
the same information.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import feedparser.mixin
import pytest
import typer
from typer.testing import CliRunner

from cli.feed_debug import register
from parsers.exceptions import ParseError
from parsers.feeds import FeedData, parse_feed
from parsers.urls import canonical_url

CORPUS = Path(__file__).parent / "corpus"
NOT_FEEDS = {"LICENSE", "MANIFEST.txt"}
FILES = sorted(
    p
    for source in ("feedparser", "reader")
    for p in (CORPUS / source).rglob("*")
    if p.is_file() and p.name not in NOT_FEEDS and p.suffix != ".py"
)
READER = CORPUS / "reader"
#: Where reader's expected results put the feed (their ``url_base`` and ``rel_base``).
BASE_URL = "http://example.com/feeds/"
# feedparser's test files declare the HTTP headers they were served with in a comment.
_DECLARED_HEADER = re.compile(rb"^Header:\s*([A-Za-z-]+):\s*(.*?)\s*$", re.MULTILINE)


def declared_headers(content: bytes) -> dict[str, str]:
    """``{"content-type": ...}`` from feedparser's ``Header: Name: value`` comment lines."""
    return {
        name.decode().lower(): value.decode("latin-1")
        for name, value in _DECLARED_HEADER.findall(content[:2000])
    }


def outcome(path: Path, headers: dict[str, str] | None = None) -> FeedData | ParseError:
    """The parse, or its ParseError; any other exception propagates and fails the test."""
    content = path.read_bytes()
    try:
        return parse_feed(BASE_URL + path.name, content, headers)
    except ParseError as exc:
        return exc


def test_every_corpus_file_parses_or_fails_readably(capsys: pytest.CaptureFixture[str]) -> None:
    counts: Counter[str] = Counter()
    crashes: list[str] = []
    for path in FILES:
        try:
            result = outcome(path, declared_headers(path.read_bytes()))
        except Exception as exc:  # the bug this test exists to find
            crashes.append(f"{path.relative_to(CORPUS)}: {type(exc).__name__}: {exc}")
            continue
        if isinstance(result, ParseError):
            assert str(result).strip(), f"{path}: empty error message"
            counts["errors"] += 1
        else:
            _assert_well_formed(result)
            counts["with entries" if result.entries else "empty but valid"] += 1
    with capsys.disabled():
        print(f"\ncorpus via parse_feed: {len(FILES)} files, {_summary(counts)}")
    assert crashes == []
    assert sum(counts.values()) == len(FILES) > 350
    assert counts["with entries"] >= 90  # a floor: a parser regression shows up here


def _comparable(result: FeedData | ParseError) -> object:
    return f"{type(result).__name__}: {result}" if isinstance(result, ParseError) else result


def test_remembered_base_joins_give_every_file_the_same_parse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    remembered = feedparser.mixin.make_safe_absolute_uri
    hits = remembered.cache_info().hits
    # Each file under its own URL and, for feedparser's, the headers it declares (some set
    # a Content-Location of their own): xml:base, relative links and ids resolved as ever.
    cases = [(path, declared_headers(path.read_bytes())) for path in FILES]
    with_cache = [_comparable(outcome(path, headers)) for path, headers in cases]
    assert remembered.cache_info().hits > hits
    monkeypatch.setattr(feedparser.mixin, "make_safe_absolute_uri", remembered.__wrapped__)
    without = [_comparable(outcome(path, headers)) for path, headers in cases]
    assert with_cache == without


def _assert_well_formed(feed: FeedData) -> None:
    for entry in feed.entries:
        assert entry.guid and isinstance(entry.title, str) and isinstance(entry.text, str)
        assert entry.title or entry.text or entry.url
        for stamp in (entry.published_at, entry.updated_at):
            assert stamp is None or stamp.utcoffset() is not None


def _summary(counts: Counter[str]) -> str:
    keys = ("with entries", "empty but valid", "errors")
    return ", ".join(f"{counts[k]} {k}" for k in keys)


def test_feed_parse_json_over_the_corpus(capsys: pytest.CaptureFixture[str]) -> None:
    app = typer.Typer()
    register(app)

    @app.callback()
    def main() -> None:
        """Vigie (test copy)."""

    args = ["feed", "parse", "--format", "json", "--url", BASE_URL, *map(str, FILES)]
    result = CliRunner().invoke(app, args)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["file"] for r in records] == [str(p) for p in FILES]  # one line per file, in order

    counts: Counter[str] = Counter()
    for path, record in zip(FILES, records, strict=True):
        direct = outcome(path)
        if record["ok"]:
            assert isinstance(direct, FeedData)
            assert len(record["entries"]) == len(direct.entries)
            assert all(
                {"guid", "url", "title", "published_at"} <= set(e) for e in record["entries"]
            )
            counts["with entries" if record["entries"] else "empty but valid"] += 1
        else:
            assert isinstance(direct, ParseError), record
            assert record["error"].strip() and not record["error"].startswith("parser bug")
            counts["errors"] += 1
    assert result.exit_code == (1 if counts["errors"] else 0)
    with capsys.disabled():
        print(f"\ncorpus via `feed parse --format json`: {len(records)} files, {_summary(counts)}")


def test_feed_parse_reports_unreadable_files_without_a_traceback(tmp_path: Path) -> None:
    app = typer.Typer()
    register(app)

    @app.callback()
    def main() -> None:
        """Vigie (test copy)."""

    good = READER / "full.rss"
    args = ["feed", "parse", "--format", "json", str(good), str(tmp_path / "missing.xml")]
    result = CliRunner().invoke(app, args)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.exit_code == 1
    assert lines[0]["ok"] and lines[0]["entries"][0]["title"] == "Example entry"
    assert lines[1] == {
        "file": str(tmp_path / "missing.xml"),
        "ok": False,
        "error": lines[1]["error"],
    }
    assert lines[1]["error"].startswith("cannot read: ")
    table = CliRunner().invoke(app, ["feed", "parse", str(good), str(READER / "custom")])
    assert table.exit_code == 1
    assert "Example entry" in table.output and "not a feed" in table.output


# --- reader's expected results ------------------------------------------------------------


def _stand_in(**fields: Any) -> SimpleNamespace:
    return SimpleNamespace(**fields)


def load_expected(path: Path) -> SimpleNamespace:
    """Run reader's ``<file>.py`` with stand-ins for reader's types; return feed and entries."""
    source = path.with_name(path.name + ".py").read_text()
    lines = [line for line in source.splitlines() if not line.startswith("from reader")]
    namespace: dict[str, Any] = {"url_base": BASE_URL, "rel_base": BASE_URL}
    for name in ("FeedData", "EntryData", "Content", "Enclosure", "EntrySource", "Author"):
        namespace[name] = _stand_in
    exec("\n".join(lines), namespace)
    return SimpleNamespace(feed=namespace["feed"], entries=namespace["entries"])


READER_CASES = [
    pytest.param(p, id=p.name)
    for p in sorted(READER.iterdir())
    if p.with_name(p.name + ".py").exists()
]


@pytest.mark.parametrize("path", READER_CASES)
def test_reader_expected_titles_and_links(path: Path) -> None:
    expected = load_expected(path)
    feed = parse_feed(BASE_URL + path.name, path.read_bytes())
    assert feed.title == (getattr(expected.feed, "title", None) or "")
    expected_link = getattr(expected.feed, "link", None)
    assert feed.link == (canonical_url(expected_link) if expected_link else None)

    ours = {entry.guid: entry for entry in feed.entries}
    assert set(ours) <= {e.id for e in expected.entries}
    for want in expected.entries:
        title, link = getattr(want, "title", None), getattr(want, "link", None)
        if link and not link.startswith(("http://", "https://")):
            link = None  # reader keeps urn:/tag: ids copied into links; Vigie keeps only URLs
        if want.id not in ours:
            # parse_feed drops only entries with nothing to read or follow.
            readable = (
                title or link or getattr(want, "summary", None) or getattr(want, "content", None)
            )
            assert not readable, f"{want.id} was dropped"
            continue
        assert ours[want.id].title == (title or "")
        assert ours[want.id].url == (canonical_url(link) if link else "")
