"""Guarantee 5, hostile and broken input: what a feed, a page or a config file contains can
make Vigie refuse it with a message, never crash it, read a file, or inject markup.

- properties (hypothesis) and a time-budgeted mutation fuzz pass over ``parse_feed``,
  ``extract_article``, ``canonical_url``, the tagger, ``Settings``, ``load_taxonomy``, the
  alert rules loader and ``parse_opml``: the only exceptions allowed out are the project's own
  (``VigieError``), each with a message;
- XML bombs and external entities (a local file, a loopback URL): bounded memory, nothing read;
- markup in titles: inert in run artifacts, the CLI and alert messages;
- a 2 GB Content-Length that lies, a body that never ends, a server that trickles: refused
  within the limits;
- invalid UTF-8, control characters and NUL: stored on PostgreSQL (which refuses NUL) without
  a crash.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import fields, is_dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from db import repo
from fetching.fetcher import Fetcher, FetchPolicy
from flows import context
from flows.report import (
    FeedReport,
    NewArticle,
    RunSummary,
    summary_markdown,
)
from flows.settings import SEEDS_DIR, get_settings
from parsers.alert_rules import load_rules, parse_rules
from parsers.articles import extract_article
from parsers.exceptions import FetchError, VigieError
from parsers.feeds import parse_feed
from parsers.inert import md_cell, md_line
from parsers.messages import LABELS, AlertContent, Style, render_alert
from parsers.opml import parse_opml
from parsers.tagging import Tagger
from parsers.taxonomy import load_taxonomy
from parsers.urls import canonical_url
from tests.guarantees import T0, FeedItem, add_feeds, database, rss, store_feed, tagger
from tests.inert_markdown import assert_inert, render
from tests.loopback import LoopbackServer, Response

TESTS = Path(__file__).parent
FUZZ_SECONDS = float(os.environ.get("VIGIE_TEST_FUZZ_SECONDS", "20"))
EXAMPLES = int(os.environ.get("VIGIE_TEST_PROPERTY_EXAMPLES", "15"))
MEMORY_LIMIT = 50_000_000
VERSION_1_1 = "https://jsonfeed.org/version/1.1"
HOSTILE = (
    "Asylum <script>alert(1)</script><iframe src=javascript:alert(1)></iframe> "
    "[click](javascript:alert(1)) ![x](http://evil.example/x.png) | cell | **bold** `code` "
    "[/x] [bold red]rich[/] [link=javascript:alert(1)]terminal link[/link] &amp; #heading"
)
QUICK = settings(
    max_examples=10 * EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SLOWER = settings(
    max_examples=2 * EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def only_vigie_errors(call: Callable[[], Any]) -> Any:
    """Run ``call``; a ``VigieError`` with a message is fine, anything else escapes and fails."""
    try:
        return call()
    except VigieError as exc:
        assert str(exc).strip(), f"{type(exc).__name__} without a message"
        return None


def storable(value: Any) -> list[str]:
    """Strings in a parsed result that PostgreSQL could not store: NUL or lone surrogates."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return [repr(value)[:80]]
        return [repr(value)[:80]] if "\x00" in value else []
    if is_dataclass(value) and not isinstance(value, type):
        return [p for f in fields(value) for p in storable(getattr(value, f.name))]
    if isinstance(value, tuple | list):
        return [p for v in value for p in storable(v)]
    return []


# --- generators of hostile documents ------------------------------------------------------------

NASTY = st.sampled_from(
    ["\x00", "\x01", "\x1b[31m", "\x7f", "\u202e", "\ufeff", "&#0;", "&#x1F;", "&lol;",
     "]]>", "<![CDATA[", "<!--", "-->", "<script>", "</title>", "<b>", "&amp;", "&", "<", ">",
     "\ud800", "é", "ß", "ﬁ", "\u0301", "\n", "\r", "\t", " ", "javascript:", "http://",
     "%00", "%zz", "[x](y)", "|"]
)  # fmt: skip
hostile_text = st.lists(st.one_of(NASTY, st.text(max_size=12)), max_size=12).map("".join)


def _xml_safe(text: str) -> str:
    # The generator makes documents that are sometimes well formed: surrogates cannot be
    # written as UTF-8 at all, so they become the replacement character here.
    return text.encode("utf-8", "replace").decode("utf-8")


@st.composite
def rss_documents(draw: st.DrawFn) -> bytes:
    item = "<item><title>{}</title><link>{}</link><guid>{}</guid><description>{}</description>"
    items = "".join(
        item.format(*(draw(hostile_text) for _ in range(4))) + "</item>"
        for _ in range(draw(st.integers(0, 3)))
    )
    doc = f'<?xml version="1.0"?><rss version="2.0"><channel><title>{draw(hostile_text)}</title>'
    return _xml_safe(doc + items + "</channel></rss>").encode("utf-8")


def _containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | hostile_text,
    _containers,
    max_leaves=10,
)
JSON_ITEM_KEYS = ("id", "url", "title", "content_html", "content_text", "summary",
                  "date_published", "language", "authors")  # fmt: skip
json_items = st.fixed_dictionaries({}, optional=dict.fromkeys(JSON_ITEM_KEYS, json_values))


@st.composite
def json_feeds(draw: st.DrawFn) -> bytes:
    items = draw(st.one_of(st.lists(json_items, max_size=3), json_values))
    document = {"version": VERSION_1_1, "title": draw(json_values), "items": items}
    return json.dumps(document).encode()


@st.composite
def html_pages(draw: st.DrawFn) -> bytes:
    parts = [draw(st.sampled_from(["<html>", "<head>", "<title>", "<h1>", "<p>", "<article>",
                                   "<script>", "<meta charset='x'>", "</p>", "<!DOCTYPE html>",
                                   '<link rel="canonical" href="', "<time datetime='",
                                   '<script type="application/ld+json">{"@type":"NewsArticle",']))
             for _ in range(draw(st.integers(0, 8)))]  # fmt: skip
    text = "".join(p + draw(hostile_text) for p in parts)
    return text.encode(draw(st.sampled_from(["utf-8", "latin-1", "utf-16"])), "replace")


# --- properties: only Vigie's own errors get out ---------------------------------------------


@QUICK
@given(content=st.one_of(st.binary(max_size=3000), rss_documents(), json_feeds()))
def test_parse_feed_returns_or_refuses(content: bytes) -> None:
    only_vigie_errors(lambda: parse_feed("http://feeds.example/f", content))


@SLOWER
@given(content=html_pages(), charset=st.sampled_from(["", "utf-8", "latin-1", "x-nonsense"]))
def test_extract_article_returns_or_refuses(content: bytes, charset: str) -> None:
    headers = {"content-type": f"text/html; charset={charset}" if charset else "text/html"}
    only_vigie_errors(lambda: extract_article("http://news.example/a", content, headers))


url_text = st.lists(
    st.one_of(st.sampled_from(["http://", "https://", "HTTP://", "//", "m.", "amp.", "www.",
                               "google.com/url?q=", "[::1]", ":80", ":x", "%2F", "%", "?",
                               "#", "&", "=", "utm_source=a", "/../", "/./", "xn--", "ﬁ", "é",
                               " ", "\t", "\x00", "@", "\\"]),
              st.text(max_size=6)),
    max_size=10,
).map("".join)  # fmt: skip


# Links are resolved against the feed's own URL (absolute http(s)), or anything at all.
feed_urls = url_text.map(lambda tail: f"https://feeds.example/{tail}")


@QUICK
@given(url=url_text, base=st.one_of(st.none(), feed_urls, url_text))
def test_canonical_url_never_raises_and_is_idempotent(url: str, base: str | None) -> None:
    once = canonical_url(url, base=base)
    assert canonical_url(once) == once


def test_canonical_url_with_a_broken_base_canonicalises_the_link_on_its_own() -> None:
    once = canonical_url("http://http://", base="http://[")
    assert once == canonical_url("http://http://") and canonical_url(once) == once


def test_canonical_url_with_a_hostless_base_is_stripped_and_idempotent() -> None:
    once = canonical_url("/../ http://", base="//")
    assert once == once.strip() and canonical_url(once) == once


surface = st.sampled_from(tagger().surface_forms[:400])
tag_text = st.lists(
    st.one_of(surface, surface.map(str.upper), NASTY, st.text(max_size=8),
              st.integers(0, 10**7).map(lambda n: f"{n:,} "), st.just(". ")),
    max_size=25,
).map("".join)  # fmt: skip


@QUICK
@given(title=tag_text, text=tag_text)
def test_tagger_never_raises_and_points_at_what_it_matched(title: str, text: str) -> None:
    result = tagger().tag(title, text)
    for mention in result.mentions:
        source = title if mention.field == "title" else text
        assert source[mention.start : mention.end] == mention.text


env_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20
)


@QUICK
@given(
    values=st.dictionaries(
        st.sampled_from([f"VIGIE_{n.upper()}" for n in ("data_dir", "database_url",
                        "connect_timeout", "max_feed_bytes", "fetch_retries", "timezone",
                        "host_limit_prefix", "fetch_pages", "colour", "databse_url")]),
        st.one_of(env_text, st.sampled_from(["-1", "0", "nan", "inf", "1e309", "true", "yes",
                                             "Mars/Olympus", "../../etc", "postgresql://"])),
        max_size=4,
    )
)  # fmt: skip
def test_settings_from_any_environment_load_or_say_what_to_fix(
    values: dict[str, str], tmp_path: Path
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)  # no .env but the one this test writes: none
        for name in [n for n in os.environ if n.startswith("VIGIE_")]:
            patch.delenv(name)
        for name, value in values.items():
            patch.setenv(name, value)
        get_settings.cache_clear()
        try:
            only_vigie_errors(get_settings)
        finally:
            get_settings.cache_clear()


TAXONOMY = (SEEDS_DIR / "taxonomy.toml").read_text(encoding="utf-8")
RULES = (SEEDS_DIR / "alert_rules.toml").read_text(encoding="utf-8")


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    """``text`` with a few lines dropped, repeated, or replaced by hostile ones."""
    lines = text.splitlines()
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["drop", "repeat", "replace", "edit"]))
        if action == "drop":
            del lines[at]
        elif action == "repeat":
            lines.insert(at, lines[at])
        elif action == "replace":
            lines[at] = draw(
                st.sampled_from(
                    [
                        "key = 1",
                        'kind = "nope"',
                        "[[concept]]",
                        'terms_en = ["", "!!!"]',
                        "[kinds.nope]",
                        'channels = ["nowhere"]',
                        "min_relevance = -1",
                        "debounce_minutes = 1e9",
                        'version = ""',
                        "x = [",
                        'severity = "loud"',
                        "[contexts]",
                        "a = {b = 1}",
                    ]
                )
            )
        else:
            lines[at] = lines[at].replace(
                "=", draw(st.sampled_from(["= 1 #", "= [1, 'a'] #", '= "" #', "= true #"])), 1
            )
    return "\n".join(lines)  # fmt: skip


@SLOWER
@given(text=mutated(TAXONOMY))
def test_any_taxonomy_file_loads_or_says_what_to_fix(text: str, tmp_path: Path) -> None:
    path = tmp_path / "taxonomy.toml"
    path.write_text(text, encoding="utf-8")
    taxonomy = only_vigie_errors(lambda: load_taxonomy(path))
    if taxonomy is not None:  # what loads must also build a tagger that tags
        only_vigie_errors(lambda: Tagger(taxonomy).tag(HOSTILE, HOSTILE))


@QUICK
@given(text=st.one_of(mutated(RULES), hostile_text))
def test_any_rules_file_loads_or_says_what_to_fix(text: str) -> None:
    only_vigie_errors(lambda: parse_rules(text, "alert_rules.toml"))


@QUICK
@given(content=st.one_of(st.binary(max_size=2000), rss_documents().map(
    lambda b: b.replace(b"rss", b"opml").replace(b"channel", b"body"))))  # fmt: skip
def test_parse_opml_returns_or_refuses(content: bytes) -> None:
    only_vigie_errors(lambda: parse_opml(content))


# --- bugs pinned: each fails today, and says where ---------------------------------------------


def test_deeply_nested_json_feed_is_refused_with_a_parse_error() -> None:
    deep = b'{"version":"https://jsonfeed.org/version/1.1","items":' + b"[" * 100_000
    only_vigie_errors(lambda: parse_feed("http://feeds.example/f.json", deep + b"]" * 100_000))


@pytest.mark.parametrize("figure", ["1,000,000 000", "1 000,000,000", "1,000 000,000"])
def test_a_figure_grouped_two_ways_is_read_or_skipped(figure: str) -> None:
    """Mixed separators used to raise ValueError out of the tagger (and fail the batch)."""
    tagger().tag("", f"Quebec will admit {figure} immigrants under the immigration plan")


@pytest.mark.parametrize("loader", ["taxonomy", "rules"])
def test_deeply_nested_toml_is_refused_with_a_config_error(loader: str, tmp_path: Path) -> None:
    text = "a = " + "[" * 5000 + "]" * 5000
    path = tmp_path / "file.toml"
    path.write_text(text)
    call = (lambda: load_taxonomy(path)) if loader == "taxonomy" else (lambda: parse_rules(text))
    only_vigie_errors(call)


def test_a_rules_file_that_is_not_utf8_is_refused_with_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "alert_rules.toml"
    path.write_bytes('[kinds.new_relevant_article]\n# réfugiés\nmin_relevance = 0.5\n'.encode(
        "latin-1"))  # fmt: skip
    only_vigie_errors(lambda: load_rules(path))


# --- the time-budgeted fuzz pass ---------------------------------------------------------------

TOKENS = [b"\x00", b"\xff\xfe", b"\xed\xa0\x80", b"&#0;", b"&#xD800;", b"]]>", b"<![CDATA[",
          b"<!ENTITY x SYSTEM 'file:///etc/passwd'>", b"&x;", b"<!DOCTYPE x [", b"<a>" * 300,
          b"</", b"<", b"&", b'"', b"'", b"{", b"[", b"\\u0000", b"\\ud800", b"=", b"\n[",
          b"\r\n", b"%", b"\x1b[31m", "é".encode(), "ﬁ".encode("utf-16")]  # fmt: skip


def _mutate(seed: bytes, rng: random.Random) -> bytes:
    data = bytearray(seed)
    for _ in range(rng.randint(1, 8)):
        at = rng.randrange(len(data) + 1)
        choice = rng.random()
        if choice < 0.3:
            data[at:at] = rng.choice(TOKENS)
        elif choice < 0.5 and data:
            data[min(at, len(data) - 1)] = rng.randrange(256)
        elif choice < 0.7:
            del data[at : at + rng.randint(1, 64)]
        elif choice < 0.85:
            data[at:at] = data[rng.randrange(len(data) + 1) :][: rng.randint(1, 200)]
        else:
            data = data[:at]
    return bytes(data)


OPML = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>Veille</title></head><body>
<outline text="Qu&#233;bec"><outline text="Le Devoir" type="rss" language="fr-CA"
 xmlUrl="https://www.ledevoir.com/rss/manchettes.xml"/></outline>
<outline text="CBC" xmlUrl="https://www.cbc.ca/webfeed/rss/rss-canada"/></body></opml>"""


def _fuzz_targets(tmp: Path) -> dict[str, tuple[list[bytes], Callable[[bytes], Any]]]:
    feeds = [p.read_bytes() for p in sorted((TESTS / "feeds").iterdir())]
    item = {"id": "1", "url": "http://x/a", "title": "T", "content_html": "<p>asylum</p>"}
    feeds.append(json.dumps({"version": VERSION_1_1, "title": "J", "items": [item]}).encode())
    pages = [p.read_bytes() for p in sorted((TESTS / "pages").glob("*.html"))][:4]
    taxonomy = tmp / "taxonomy.toml"

    def load_taxonomy_bytes(data: bytes) -> Any:
        taxonomy.write_bytes(data)
        return load_taxonomy(taxonomy)

    return {
        "parse_feed": (feeds, lambda b: parse_feed("http://feeds.example/f", b)),
        "extract_article": (pages, lambda b: extract_article("http://news.example/a", b)),
        "canonical_url": ([b"https://m.news.example/a/../b.amp.html?utm_source=x&b=2#f"],
                          lambda b: canonical_url(b.decode("utf-8", "replace"))),
        "tagger": ([pages[0][:3000]], lambda b: tagger().tag(b[:200].decode("utf-8", "replace"),
                                                               b.decode("utf-8", "replace"))),
        "load_taxonomy": ([TAXONOMY.encode()], load_taxonomy_bytes),
        "parse_rules": ([RULES.encode()], lambda b: parse_rules(b.decode("utf-8", "replace"))),
        "parse_opml": ([OPML], parse_opml),
    }  # fmt: skip


def test_fuzz_pass_within_its_time_budget(tmp_path: Path) -> None:
    """Mutations of real inputs (feeds, pages, taxonomy, rules, OPML) for FUZZ_SECONDS."""
    rng = random.Random(int(os.environ.get("VIGIE_TEST_FUZZ_SEED", "2026")))
    targets = _fuzz_targets(tmp_path)
    tried: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    escaped: list[str] = []
    deadline = time.monotonic() + FUZZ_SECONDS
    while time.monotonic() < deadline:
        for name, (seeds, call) in targets.items():
            data = _mutate(rng.choice(seeds), rng)
            tried[name] += 1
            try:
                call(data)
            except VigieError as exc:
                refused[name] += 1
                assert str(exc).strip()
            except Exception as exc:
                escaped.append(f"{name}: {type(exc).__name__}: {exc} <- {data[:120]!r}")
    print(f"fuzz: {sum(tried.values())} inputs in {FUZZ_SECONDS:g} s: "
          + ", ".join(f"{n} {tried[n]} ({refused[n]} refused)" for n in targets))  # fmt: skip
    assert not escaped, "\n".join(escaped[:10])
    assert min(tried.values()) > 10


# --- XML bombs and external entities --------------------------------------------------------


def _laughs(levels: int) -> str:
    """Entity declarations: ``&lol<levels>;`` stands for 3 * 10**levels characters."""
    declared = ['<!ENTITY lol0 "lol">']
    declared += [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels + 1)]
    return "".join(declared)


def _bomb(root: str, body: str, levels: int = 9) -> bytes:
    head = f'<?xml version="1.0"?><!DOCTYPE {root} [{_laughs(levels)}]>'
    return (head + body.replace("BOOM", f"&lol{levels};")).encode()


def _peak(call: Callable[[], Any]) -> tuple[Any, int]:
    tracemalloc.start()
    try:
        result = only_vigie_errors(call)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


RSS_BOMB = (
    '<rss version="2.0"><channel><title>BOOM</title><item><title>BOOM</title>'
    "<link>http://x.example/a</link><description>BOOM</description></item></channel></rss>"
)
OPML_BOMB = ('<opml version="2.0"><head><title>BOOM</title></head><body>'
             '<outline text="BOOM" xmlUrl="http://x.example/f"/></body></opml>')  # fmt: skip


def test_billion_laughs_in_opml_stay_small() -> None:
    result, peak = _peak(lambda: parse_opml(_bomb("opml", OPML_BOMB)))
    assert peak < MEMORY_LIMIT and "lollollol" not in repr(result)


@lru_cache(maxsize=2)
def _feed_bomb(levels: int) -> tuple[str, int]:
    """(repr of what parse_feed made of a bomb, peak traced memory); measured once."""
    result, peak = _peak(lambda: parse_feed("http://x.example/f", _bomb("rss", RSS_BOMB, levels)))
    return repr(result), peak


def test_billion_laughs_in_a_feed_stay_bounded() -> None:
    """expat's amplification breaker stops the classic bomb; memory stays bounded."""
    result, peak = _feed_bomb(9)
    assert peak < 2 * MEMORY_LIMIT and "lollollol" not in result


@pytest.mark.parametrize("levels", [9, 5])
def test_entity_declarations_in_a_feed_are_not_expanded(levels: int) -> None:
    result, peak = _feed_bomb(levels)
    assert peak < MEMORY_LIMIT and "lollollol" not in result


def _external(root: str, body: str, target: str) -> bytes:
    entities = f'<!ENTITY ext SYSTEM "{target}"><!ENTITY % par SYSTEM "{target}"> %par;'
    head = f'<?xml version="1.0"?><!DOCTYPE {root} [{entities}]>'
    return (head + body.replace("BOOM", "&ext;")).encode()


def _parse_all(documents: dict[str, bytes]) -> list[Any]:
    return [
        only_vigie_errors(lambda: parse_feed("http://x/f", documents["rss"])),
        only_vigie_errors(lambda: parse_feed("http://x/f", documents["feed"])),
        only_vigie_errors(lambda: parse_opml(documents["opml"])),
        only_vigie_errors(lambda: extract_article("http://x/a", documents["html"])),
    ]


def test_external_entities_read_no_file_and_fetch_nothing(
    tmp_path: Path, http_server: LoopbackServer
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-MARKER")
    http_server.routes["/entity"] = Response(b"NETWORK-MARKER")
    atom = ('<feed xmlns="http://www.w3.org/2005/Atom"><title>BOOM</title><entry><title>BOOM'
            '</title><id>BOOM</id><link href="http://x.example/a"/><summary>BOOM</summary>'
            "</entry></feed>")  # fmt: skip
    page = (
        "<html><head><title>BOOM</title></head><body><article><p>BOOM</p></article></body></html>"
    )
    for target in (secret.as_uri(), "file:///etc/passwd", http_server.url("/entity")):
        documents = {
            "rss": _external("rss", RSS_BOMB, target),
            "feed": _external("feed", atom, target),
            "opml": _external("opml", OPML_BOMB, target),
            "html": _external("html", page, target),
        }
        seen = repr(_parse_all(documents))
        assert "TOPSECRET-MARKER" not in seen and "NETWORK-MARKER" not in seen
        assert "root:x:0:0" not in seen
    assert http_server.requests == []


# --- markup in titles stays inert --------------------------------------------------------------


def _hostile_summary() -> RunSummary:
    summary = RunSummary(kind="monitor", started_at=T0, finished_at=T0)
    summary.feeds.append(FeedReport(1, HOSTILE, "http://x.example/f", "failed", error=HOSTILE,
                                    health_after="broken"))  # fmt: skip
    summary.new_relevant.append(
        NewArticle(7, HOSTILE, HOSTILE, (HOSTILE,), "javascript:alert(1)", 0.9)
    )
    summary.new_relevant.append(
        NewArticle(8, HOSTILE, HOSTILE, (), "http://x.example/a)<script>(", 0.8)
    )
    return summary


# Markup that would act: a tag, or a link or image target, not escaped by a backslash.
LIVE_MARKUP = re.compile(r"(?<!\\)<(script|iframe|img)|(?<!\\)\]\((javascript|http://evil)", re.I)


LIVE_TAG = re.compile(r"<(script|iframe|img)", re.I)


def _no_live_markup(text: str) -> None:
    found = LIVE_MARKUP.search(text)
    assert found is None, f"live markup {found.group(0)!r} in {text[:300]!r}"


def test_run_artifacts_show_feed_text_as_text() -> None:
    summary = _hostile_summary()
    markdown = summary_markdown(summary)
    _no_live_markup(markdown)
    assert "\\[click\\]" in markdown and "\\| cell \\|" in markdown
    assert_inert(markdown)  # no table gained or lost a column
    links = re.findall(r'href="([^"]*)"', render(markdown))
    assert len(links) == 1  # the javascript: story is not linked at all
    assert links[0].startswith("http://x.example/a") and not set("()<> ") & set(links[0])


@QUICK
@given(text=hostile_text)
def test_escaped_text_is_one_inert_line(text: str) -> None:
    escaped = md_line(text)
    assert "\n" not in escaped
    for special in "<>[]`*_|":
        assert special not in escaped.replace(f"\\{special}", "")
    assert "<" not in md_cell(text) and "\n" not in md_cell(text)


PAYLOAD_KEYS = ("title", "source", "evidence", "feed", "url", "diff_excerpt", "old", "new",
                "sentence", "last_error", "message", "flow")  # fmt: skip


@QUICK
@given(kind=st.sampled_from(sorted(LABELS)), text=hostile_text)
def test_alert_messages_show_feed_text_as_text(kind: str, text: str) -> None:
    payload: dict[str, Any] = dict.fromkeys(PAYLOAD_KEYS, f"{HOSTILE} {text}")
    payload["topics"] = [HOSTILE]
    rendered = render_alert(AlertContent(kind, "info", payload, T0), Style())
    _no_live_markup(rendered.markdown)
    assert LIVE_TAG.search(rendered.html) is None  # "](" means nothing in HTML; tags do
    assert 'href="javascript' not in rendered.html.lower()
    assert "\n" not in rendered.subject


@pytest.fixture
def hostile_article(vigie_env: pytest.MonkeyPatch) -> int:
    """An article from a feed (named like its items) whose title and text carry markup of
    every kind, and a second one whose title opens with a stray closing tag."""
    context.ensure_schema()
    with context.sessions().begin() as session:
        repo.add_feeds(session, [repo.FeedSpec("http://feeds.example/h", HOSTILE)], T0)
    (feed,) = add_feeds(context.sessions(), ["http://feeds.example/h"])
    text = f"Quebec asks Ottawa about asylum seekers. {HOSTILE}. Asylum seekers wait."
    items = [
        FeedItem("h1", "http://news.example/h1", HOSTILE, text),
        FeedItem("h2", "http://news.example/h2", "[/x] Asylum seekers in Quebec", text),
    ]
    store_feed(context.sessions(), feed, rss("h", items), T0)
    with context.sessions().begin() as session:
        return min(row.id for row in repo.list_articles(session))


#: What Rich markup would swallow (a style) or turn into a terminal hyperlink.
LITERAL = "[click](javascript:alert(1))"


def test_vigie_articles_prints_titles_as_text(hostile_article: int) -> None:
    from cli.app import app

    result = CliRunner().invoke(app, ["articles"])
    assert result.exit_code == 0, result.output
    assert LITERAL in result.output and "[/x] Asylum" in result.output


def test_vigie_show_prints_text_as_text(hostile_article: int) -> None:
    from cli.app import app

    result = CliRunner().invoke(app, ["show", str(hostile_article)])
    assert result.exit_code == 0, result.output
    # The title line, the source line (the feed's name), the text and the evidence table.
    assert result.output.count(LITERAL) == 4, result.output


# --- hostile servers -------------------------------------------------------------------------


def _policy(**limits: Any) -> FetchPolicy:
    values: dict[str, Any] = {
        "user_agent": "Vigie-test", "connect_timeout": 2.0, "read_timeout": 1.0,
        "total_timeout": 1.5, "max_feed_bytes": 1_000_000, "max_page_bytes": 1_000_000,
        "max_redirects": 2, "per_host_concurrency": 2, "allow": ("127.0.0.1",),
    }  # fmt: skip
    return FetchPolicy(**{**values, **limits})


def _fetch(url: str, **limits: Any) -> tuple[FetchError, float, int]:
    import asyncio

    async def fetch() -> None:
        async with Fetcher(_policy(**limits)) as fetcher:
            await fetcher.fetch(url)

    started = time.monotonic()
    tracemalloc.start()
    try:
        with pytest.raises(FetchError) as refused:
            asyncio.run(fetch())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return refused.value, time.monotonic() - started, peak


def _endless(piece: bytes) -> Iterator[bytes]:
    while True:
        yield piece


def test_a_content_length_of_2_gb_that_lies_is_refused_at_once(
    http_server: LoopbackServer,
) -> None:
    http_server.routes["/huge"] = Response(b"<rss/>", headers={"Content-Length": "2000000000"})
    error, seconds, peak = _fetch(http_server.url("/huge"))
    assert "declares 2 GB" in str(error) and seconds < 5 and peak < MEMORY_LIMIT


def test_a_body_that_never_ends_is_cut_at_the_limit(http_server: LoopbackServer) -> None:
    http_server.routes["/endless"] = Response(b"<rss>", chunks=_endless(b"<item/>" * 8192))
    error, _seconds, peak = _fetch(http_server.url("/endless"), total_timeout=30.0)
    assert "exceeded the 1 MB feed limit" in str(error) and peak < MEMORY_LIMIT


def test_a_slowloris_trickle_is_cut_at_the_total_timeout(http_server: LoopbackServer) -> None:
    http_server.routes["/slow"] = Response(b"<", chunks=_endless(b"r"), chunk_delay=0.2)
    error, seconds, _peak = _fetch(http_server.url("/slow"))
    assert "timed out after 1.5 s receiving" in str(error) and seconds < 5


# --- broken text stored on PostgreSQL ----------------------------------------------------------

BROKEN_UTF8 = (b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t'
               b"\xff\xfe</title><item><title>R\xc3\xa9fugi\xe9s \xed\xa0\x80 asylum seekers"
               b"</title><link>http://news.example/u</link><guid>u-1</guid><description>Qu"
               b"\xe9bec \x80\x81 asylum</description></item></channel></rss>")  # fmt: skip
CONTROLS = (b'<rss version="2.0"><channel><title>c</title><item><title>Ti\x01tle \x1b[31m'
            b"&#1;</title><link>http://news.example/c</link><guid>c-1</guid><description>Te"
            b"\x07xt \x0b\x0c\x7f asylum</description><author>A\x02</author></item>"
            b"</channel></rss>")  # fmt: skip


def _json_feed(item: dict[str, Any]) -> bytes:
    return json.dumps({"version": VERSION_1_1, "items": [item]}).encode()


NUL_CASES = {
    "invalid UTF-8": BROKEN_UTF8,
    "control characters": CONTROLS,
    "NUL in JSON text": _json_feed({"id": "j-1", "url": "http://news.example/j", "title":
                                    "Ti\u0000tle", "content_text": "Te\u0000xt asylum"}),
    "NUL in RSS title": b'<rss version="2.0"><channel><title>c</title><item><title>a\x00b'
                        b"</title><link>http://news.example/n</link><guid>n-1</guid></item>"
                        b"</channel></rss>",
}  # fmt: skip
NUL_BUGS = {
    "NUL in JSON id": _json_feed({"id": "a\u0000b", "url": "http://news.example/k", "title": "t"}),
    "NUL in Atom id": b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry>'
                      b"<title>a</title><id>g\x00h</id><link href=\"http://news.example/g\"/>"
                      b"</entry></feed>",
    "NUL via RSS guid": b'<rss version="2.0"><channel><title>c</title><item><title>a</title>'
                        b"<guid>g&#0;h</guid><link>http://news.example/r</link></item>"
                        b"</channel></rss>",
    "lone surrogate in JSON": _json_feed({"id": "s-1", "url": "http://news.example/s",
                                          "title": "t\ud800x", "content_text": "asylum"}),
}  # fmt: skip


def _store_on(url: str, body: bytes) -> list[tuple[str, str]]:
    with database(url) as (engine, sessions):
        (feed,) = add_feeds(sessions, ["http://feeds.example/broken"])
        store_feed(sessions, feed, body, datetime.now(UTC))
        with engine.connect() as connection:
            from sqlalchemy import text

            rows = connection.execute(text(
                "SELECT a.title, v.text FROM articles a JOIN article_versions v "
                "ON v.id = a.current_version_id")).all()  # fmt: skip
            guids = connection.execute(text("SELECT guid FROM entries")).scalars().all()
    for value in [*guids, *(v for row in rows for v in row)]:
        assert not any(ord(c) < 32 and c not in "\t\n" for c in value), repr(value)
    return [tuple(row) for row in rows]


@pytest.mark.parametrize("body", list(NUL_CASES.values()), ids=list(NUL_CASES))
def test_broken_text_is_cleaned_and_stored_on_postgresql(postgres_url: str, body: bytes) -> None:
    from db.migrate import upgrade

    with database(postgres_url) as (engine, _sessions):
        upgrade(engine)
    assert len(_store_on(postgres_url, body)) == 1


@pytest.mark.parametrize("body", list(NUL_BUGS.values()), ids=list(NUL_BUGS))
def test_ids_and_json_strings_with_nul_or_surrogates_are_stored_on_postgresql(
    postgres_url: str, body: bytes
) -> None:
    from db.migrate import upgrade

    with database(postgres_url) as (engine, _sessions):
        upgrade(engine)
    parsed = parse_feed("http://feeds.example/broken", body)
    assert storable(parsed) == []
    assert len(_store_on(postgres_url, body)) == 1


@pytest.mark.prefect_server
@pytest.mark.usefixtures("prefect_server")
def test_one_poisoned_feed_does_not_stop_the_others(
    vigie_env: pytest.MonkeyPatch, postgres_url: str, http_server: LoopbackServer
) -> None:
    import asyncio

    from flows.monitor import run_monitor

    http_server.routes["/poison.json"] = Response(NUL_BUGS["NUL in JSON id"])
    good = [FeedItem("ok-1", "http://news.example/ok", "Asylum seekers", "Asylum seekers wait.")]
    http_server.routes["/good.rss"] = Response(rss("good", good))
    vigie_env.setenv("VIGIE_DATABASE_URL", postgres_url)
    vigie_env.setenv("VIGIE_FETCH_PAGES", "false")
    context.reset()
    context.ensure_schema()
    add_feeds(context.sessions(), [http_server.url("/poison.json"), http_server.url("/good.rss")])

    counts = asyncio.run(run_monitor(due_only=False))

    # The NUL is stripped at parsing, so the once-poisonous feed is stored with the other.
    assert counts["new_articles"] == 2 and counts["feeds_failed"] == 0
    with context.sessions().begin() as session:
        titles = sorted(row.title for row in repo.list_articles(session))
    assert "Asylum seekers" in titles and all("\x00" not in t for t in titles)


@pytest.mark.prefect_server
@pytest.mark.usefixtures("prefect_server")
def test_a_feed_the_database_refuses_is_recorded_and_the_others_stored(
    vigie_env: pytest.MonkeyPatch, postgres_url: str, http_server: LoopbackServer
) -> None:
    """A link longer than the URL columns (2048) is refused by PostgreSQL, not by parsing:
    that feed is recorded as failed, with the reason, and the pass goes on."""
    import asyncio

    from flows.monitor import run_monitor

    long_link = "http://news.example/" + "a" * 3000
    poison = [FeedItem("p-1", long_link, "Asylum seekers", "Asylum seekers wait in Quebec.")]
    good = [FeedItem("ok-1", "http://news.example/ok", "Asylum seekers", "Asylum seekers wait.")]
    http_server.routes["/poison.rss"] = Response(rss("poison", poison))
    http_server.routes["/good.rss"] = Response(rss("good", good))
    vigie_env.setenv("VIGIE_DATABASE_URL", postgres_url)
    vigie_env.setenv("VIGIE_FETCH_PAGES", "false")
    context.reset()
    context.ensure_schema()
    add_feeds(context.sessions(), [http_server.url("/poison.rss"), http_server.url("/good.rss")])

    counts = asyncio.run(run_monitor(due_only=False))

    assert counts["feeds_failed"] == 1 and counts["new_articles"] == 1
    with context.sessions().begin() as session:
        feeds = {feed.url: feed for feed in repo.list_feeds(session)}
        assert [row.canonical_url for row in repo.list_articles(session)] == [good[0].url]
    poisoned = feeds[http_server.url("/poison.rss")]
    assert poisoned.last_error and "database refused" in poisoned.last_error
    assert feeds[http_server.url("/good.rss")].last_error is None
