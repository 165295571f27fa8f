"""OPML: hostile-input parsing, export, and ``vigie feeds import`` / ``export`` on a real
SQLite database."""

from __future__ import annotations

import contextlib
import json
import resource
import time
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cli.app import app
from parsers import opml
from parsers.exceptions import ParseError
from parsers.opml import OpmlData, OutlineData, export_opml, parse_opml
from tests.loopback import LoopbackServer

runner = CliRunner()

NESTED = b"""<?xml version="1.0" encoding="ISO-8859-1"?>
<opml version="1.0">
  <head><title>Veille  immigration</title></head>
  <body>
    <outline text="Qu\xe9bec">
      <outline text="Le Devoir" type="rss" xmlUrl="https://www.ledevoir.com/rss/manchettes.xml"
               language="fr-CA"/>
      <outline title="Radio">
        <outline text="ICI Radio-Canada &amp; co" xmlurl="https://ici.radio-canada.ca/rss/4159"/>
      </outline>
    </outline>
    <outline text="CBC" XMLURL="https://www.cbc.ca/webfeed/rss/rss-canada" language="EN">
      <outline text="CBC Politics" xmlUrl="https://www.cbc.ca/webfeed/rss/rss-politics"/>
    </outline>
    <outline text="A web page, not a feed" type="link" url="https://example.com/"/>
    <outline xmlUrl="http://untitled.example/feed"/>
  </body>
</opml>"""


def _laughs(levels: int = 10, where: str = "attribute") -> bytes:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels)
    ]
    top = f"&lol{levels - 1};"
    outline = (
        f'<outline text="{top}" xmlUrl="http://x.example/{top}"/>'
        if where == "attribute"
        else f'<outline text="t" xmlUrl="http://x.example/">{top}</outline>'
    )
    return (
        f'<?xml version="1.0"?><!DOCTYPE opml [{"".join(entities)}]>'
        f"<opml version='2.0'><head><title>{top}</title></head><body>{outline}</body></opml>"
    ).encode()


def _peak_rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# --- parsing --------------------------------------------------------------------------------


def test_nested_outlines_keep_their_folders_and_languages() -> None:
    parsed = parse_opml(NESTED)

    assert parsed.title == "Veille immigration" and parsed.version == "1.0"
    assert parsed.feeds == (
        OutlineData("https://www.ledevoir.com/rss/manchettes.xml", "Le Devoir", "fr", ("Québec",)),
        OutlineData(
            "https://ici.radio-canada.ca/rss/4159",
            "ICI Radio-Canada & co",
            None,
            ("Québec", "Radio"),
        ),
        OutlineData("https://www.cbc.ca/webfeed/rss/rss-canada", "CBC", "en"),
        OutlineData("https://www.cbc.ca/webfeed/rss/rss-politics", "CBC Politics", None, ("CBC",)),
        OutlineData("http://untitled.example/feed", "http://untitled.example/feed"),
    )
    assert parsed.skipped == ()


def test_round_trip_keeps_feeds_folders_and_awkward_names() -> None:
    feeds = (
        OutlineData("https://a.example/rss?x=1&y=2", 'Guillemets "doubles" & <balises>', "fr"),
        OutlineData("https://b.example/feed", "]]> --> <script>alert(1)</script>", None, ("A",)),
        OutlineData("https://c.example/atom", "Montréal · Québec", "en", ("A", "B & C")),
        OutlineData("https://d.example/rss", "apostrophe ' ok", None, ("A",)),
    )
    document = export_opml(feeds, title="Vigie <feeds>", created=datetime(2026, 11, 21, tzinfo=UTC))

    parsed = parse_opml(document)
    assert document.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert b"<script>" not in document and b"Sat, 21 Nov 2026 00:00:00 GMT" in document
    assert parsed.title == "Vigie <feeds>" and parsed.version == "2.0"
    # Grouped by folder on export; otherwise identical.
    assert sorted(parsed.feeds, key=lambda f: f.url) == list(feeds)


def test_export_drops_characters_xml_cannot_carry() -> None:
    feeds = [OutlineData("https://a.example/rss", "bell\x07 and\x0bvertical tab\ud800")]
    parsed = parse_opml(export_opml(feeds, title="t\x00"))
    assert parsed.feeds[0].title == "bell andvertical tab" and parsed.title == "t"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "scheme 'file' is not fetched (only http and https)"),
        ("javascript:alert(1)", "scheme 'javascript' is not fetched"),
        ("feed://example.com/rss", "scheme 'feed' is not fetched"),
        ("ftp://example.com/rss", "scheme 'ftp' is not fetched"),
        ("/relative/rss.xml", "scheme 'none' is not fetched"),
        ("", "empty URL"),
        ("http:///no-host", "URL has no host"),
        ("http://example.com:port/rss", "not a valid URL"),
        ("http://exa mple.com/rss", "spaces or control characters"),
        ("https://example.com/" + "a" * 2100, "longer than 2048"),
    ],
)
def test_non_http_and_malformed_urls_are_skipped_with_a_reason(url: str, reason: str) -> None:
    document = (
        f'<opml version="2.0"><body><outline text="bad" xmlUrl="{url}"/>'
        f'<outline text="good" xmlUrl="https://ok.example/rss"/></body></opml>'
    ).encode()
    parsed = parse_opml(document)
    assert [f.url for f in parsed.feeds] == ["https://ok.example/rss"]
    assert len(parsed.skipped) == 1
    assert parsed.skipped[0].title == "bad" and reason in parsed.skipped[0].reason


def test_a_url_listed_twice_is_imported_once() -> None:
    document = b"""<opml version="2.0"><body>
        <outline text="one" xmlUrl="https://ok.example/rss"/>
        <outline text="Folder"><outline text="two" xmlUrl="https://ok.example/rss"/></outline>
    </body></opml>"""
    parsed = parse_opml(document)
    assert [f.title for f in parsed.feeds] == ["one"]
    assert [(s.title, s.reason) for s in parsed.skipped] == [("two", "listed twice")]


@pytest.mark.parametrize("where", ["attribute", "text"])
def test_billion_laughs_is_refused_quickly_in_bounded_memory(where: str) -> None:
    document = _laughs(where=where)
    before, started = _peak_rss_kb(), time.perf_counter()
    with pytest.raises(ParseError) as caught:
        parse_opml(document)
    # Fully expanded, 10 levels would be 3 GB of "lol".
    assert _peak_rss_kb() - before < 50_000
    assert time.perf_counter() - started < 2.0
    assert "entit" in str(caught.value).lower()


def test_external_entities_are_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    document = (
        f'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "{secret.as_uri()}">]>'
        '<opml version="2.0"><head><title>&x;</title></head><body>'
        '<outline text="a" xmlUrl="https://ok.example/rss"/></body></opml>'
    ).encode()
    with pytest.raises(ParseError) as caught:
        parse_opml(document)
    assert "TOP-SECRET" not in str(caught.value)


def test_external_dtds_are_never_read(http_server: LoopbackServer, tmp_path: Path) -> None:
    local_dtd = tmp_path / "local.dtd"
    local_dtd.write_text('<!ENTITY e "LOADED">')
    network_dtd = http_server.url("/evil.dtd")

    def with_dtd(system_id: str) -> bytes:
        return (
            f'<?xml version="1.0"?><!DOCTYPE opml SYSTEM "{system_id}">'
            '<opml version="2.0"><head><title>&e;</title></head><body>'
            '<outline text="a&e;" xmlUrl="https://ok.example/rss"/></body></opml>'
        ).encode()

    for system_id in (str(local_dtd), local_dtd.as_uri(), network_dtd):
        parsed = parse_opml(with_dtd(system_id))  # inert: the reference stays unresolved
        assert parsed.feeds[0].title == "a" and "LOADED" not in repr(parsed)
    parameter_entity = (
        f'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY % p SYSTEM "{local_dtd}"> %p;]>'
        '<opml version="2.0"><body><outline text="a&e;" xmlUrl="https://ok.example/rss"/>'
        "</body></opml>"
    ).encode()
    with pytest.raises(ParseError, match="declares XML entities"):
        parse_opml(parameter_entity)
    assert http_server.requests == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty OPML file"),
        (b"   \n", "empty OPML file"),
        (b"not xml at all", "not well-formed XML"),
        (b"<opml><body>", "not well-formed XML"),
        (b"<rss version='2.0'><channel/></rss>", "the root element is <rss>"),
        (b"<opml version='2.0'><head/></opml>", "it has no <body>"),
        (b"\xff\xfe\x00\x00garbage", "XML"),
        (b'<?xml version="1.0" encoding="klingon"?><opml/>', "XML"),
    ],
)
def test_unusable_input_is_a_parse_error(content: bytes, message: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_opml(content)
    assert message in str(caught.value)


def test_other_encodings_are_read() -> None:
    document = '<?xml version="1.0" encoding="UTF-16"?><opml version="2.0"><body>'
    document += '<outline text="Québec" xmlUrl="https://q.example/rss"/></body></opml>'
    assert parse_opml(document.encode("utf-16")).feeds[0].title == "Québec"


def test_deep_nesting_is_a_parse_error_not_a_crash() -> None:
    depth = 5000
    document = b"<opml><body>" + b"<outline text='f'>" * depth + b"</outline>" * depth
    with pytest.raises(ParseError):
        parse_opml(document + b"</body></opml>")


def test_size_and_outline_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    many = b"<opml><body>" + b"<outline text='f'/>" * 20 + b"</body></opml>"
    monkeypatch.setattr(opml, "MAX_OUTLINES", 10)
    with pytest.raises(ParseError, match="more than 10 outlines"):
        parse_opml(many)
    monkeypatch.setattr(opml, "MAX_OPML_BYTES", 100)
    with pytest.raises(ParseError, match="too large"):
        parse_opml(many)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_only_ever_raise_parse_error(content: bytes) -> None:
    with contextlib.suppress(ParseError):
        parse_opml(content)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60), st.text(max_size=60))
def test_random_attribute_values_only_ever_raise_parse_error(text: str, url: str) -> None:
    outline = f"<outline text={quoteattr(text)} xmlUrl={quoteattr(url)}/>"
    document = f"<opml><body>{outline}</body></opml>"
    try:
        parsed = parse_opml(document.encode("utf-8", "surrogatepass"))
    except ParseError:
        return
    assert isinstance(parsed, OpmlData)
    for feed in parsed.feeds:  # whatever is kept exports back to a readable file
        assert parse_opml(export_opml([feed], title=text)).feeds[0].url == feed.url


# --- CLI ------------------------------------------------------------------------------------


def _feeds_json() -> list[dict[str, object]]:
    result = runner.invoke(app, ["feeds", "list", "--format", "json"])
    assert result.exit_code == 0, result.output
    return list(json.loads(result.stdout))


def test_cli_import_reports_each_outline_then_export_lists_them(
    vigie_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    source = tmp_path / "subscriptions.opml"
    source.write_bytes(
        NESTED.replace(
            b"<body>",
            b'<body><outline text="Local file" xmlUrl="file:///etc/passwd"/>'
            b'<outline text="Shortcut" xmlUrl="feed://example.com/rss"/>',
        )
    )
    assert runner.invoke(app, ["init", "--no-curated"]).exit_code == 0
    runner.invoke(app, ["feeds", "add", "https://www.cbc.ca/webfeed/rss/rss-canada"])

    first = runner.invoke(app, ["feeds", "import", str(source)])
    again = runner.invoke(app, ["feeds", "import", str(source)])

    assert first.exit_code == 0, first.output
    lines = first.stdout.splitlines()
    assert lines[0] == "subscriptions.opml: 4 added, 1 already there, 2 skipped."
    assert any(
        line.startswith("added") and "Le Devoir <https://www.ledevoir.com/rss" in line
        for line in lines
    )
    assert any(line.startswith("already there") and "rss-canada" in line for line in lines)
    assert "skipped       Local file <file:///etc/passwd>: scheme 'file' is not fetched" in (
        first.stdout
    )
    assert "Shortcut <feed://example.com/rss>: scheme 'feed'" in first.stdout
    assert again.stdout.splitlines()[0] == (
        "subscriptions.opml: 0 added, 5 already there, 2 skipped."
    )
    listed = {f["url"]: f for f in _feeds_json()}
    assert len(listed) == 5
    assert listed["https://www.ledevoir.com/rss/manchettes.xml"]["language"] == "fr"
    assert listed["https://ici.radio-canada.ca/rss/4159"]["name"] == "ICI Radio-Canada & co"

    exported = runner.invoke(app, ["feeds", "export"])
    assert exported.exit_code == 0, exported.output
    back = parse_opml(exported.stdout_bytes)
    assert {f.url for f in back.feeds} == set(listed)
    assert {f.title for f in back.feeds} >= {"Le Devoir", "ICI Radio-Canada & co"}

    target = tmp_path / "out.opml"
    to_file = runner.invoke(app, ["feeds", "export", "-o", str(target)])
    assert to_file.exit_code == 0 and "Exported 5 feeds" in to_file.stderr
    assert parse_opml(target.read_bytes()).feeds == back.feeds


def test_cli_import_of_a_hostile_or_missing_file_is_one_clear_line(
    vigie_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    hostile = tmp_path / "laughs.opml"
    hostile.write_bytes(_laughs())
    assert runner.invoke(app, ["init", "--no-curated"]).exit_code == 0

    refused = runner.invoke(app, ["feeds", "import", str(hostile)])
    missing = runner.invoke(app, ["feeds", "import", str(tmp_path / "nope.opml")])

    assert refused.exit_code == 2 and missing.exit_code == 2
    assert refused.stderr.startswith("error: ") and "\n" not in refused.stderr.strip()
    assert "laughs.opml" in refused.stderr and "Traceback" not in refused.output
    assert "cannot read" in missing.stderr and "nope.opml" in missing.stderr
    assert _feeds_json() == []
