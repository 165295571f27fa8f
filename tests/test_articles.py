"""Article extraction against golden pages, plus decoding, fallbacks and failure modes.

Each ``tests/pages/NAME.html`` has a ``NAME.expected.json`` beside it: exact metadata, and
snippet lists the text must and must not contain (these survive small extractor changes).
Run with ``-s`` to see the quality summary.
"""

from __future__ import annotations

import dataclasses
import json
import unicodedata
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import readability.readability
from hypothesis import given, settings
from hypothesis import strategies as st

import parsers.articles
from parsers.articles import (
    _READABILITY_CLEAN,
    READABILITY_MAX_GROWTH,
    ArticleData,
    _body_wins_anyway,
    _prefer_body,
    _readability_clean,
    _shingles,
    _trafilatura_options,
    extract_article,
    parse_datetime,
)
from parsers.exceptions import ParseError
from parsers.text import content_hash, fold

PAGES = Path(__file__).resolve().parent / "pages"
GOLDEN = sorted(PAGES.glob("*.expected.json"))


def load(expected_path: Path) -> tuple[dict[str, Any], ArticleData]:
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    page = expected_path.with_name(expected_path.name.replace(".expected.json", ".html"))
    article = extract_article(expected["url"], page.read_bytes(), expected.get("headers"))
    return expected, article


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def test_golden_set_has_both_languages_and_both_walls() -> None:
    names = [p.name for p in GOLDEN]
    assert sum(n.startswith("en_") for n in names) >= 4
    assert sum(n.startswith("fr_") for n in names) >= 4
    assert "consent_wall.expected.json" in names and "paywall.expected.json" in names


@pytest.mark.parametrize("expected_path", GOLDEN, ids=lambda p: p.name.split(".")[0])
def test_golden_page(expected_path: Path) -> None:
    expected, article = load(expected_path)
    assert article.url == expected["url"]
    assert article.title == expected["title"]
    assert article.language == expected["language"]
    assert article.canonical_url == expected["canonical_url"]
    assert iso(article.published_at) == expected["published_at"]
    assert iso(article.modified_at) == expected["modified_at"]
    assert article.author == expected["author"]
    assert article.publisher == expected["publisher"]
    if expected["suspect"] is None:
        assert article.suspect_reason is None
    else:
        assert article.suspect_reason and expected["suspect"] in article.suspect_reason
    missing = [s for s in expected["must_contain"] if s not in article.text]
    unwanted = [s for s in expected["must_not_contain"] if s in article.text]
    assert not missing, f"missing from text: {missing}"
    assert not unwanted, f"boilerplate in text: {unwanted}"
    assert article.content_hash == content_hash(article.title, article.text)


def test_quality_summary() -> None:
    """Snippets matched over all golden pages (``pytest -s`` prints the table)."""
    lines, matched, total = [], 0, 0
    for path in GOLDEN:
        expected, article = load(path)
        good = sum(s in article.text for s in expected["must_contain"])
        good += sum(s not in article.text for s in expected["must_not_contain"])
        count = len(expected["must_contain"]) + len(expected["must_not_contain"])
        matched, total = matched + good, total + count
        name = path.name.split(".")[0]
        lines.append(f"  {name:30} {good:3}/{count:<3} {article.extraction:12} {article.language}")
    print("\nGolden pages: snippets matched / total", *lines, sep="\n")
    print(f"  {'all':30} {matched:3}/{total:<3} ({matched / total:.0%})")
    assert matched == total


def test_article_data_is_frozen() -> None:
    _, article = load(GOLDEN[0])
    with pytest.raises(dataclasses.FrozenInstanceError):
        article.title = "x"  # type: ignore[misc]


def page(body: str, head: str = "", lang: str = "en") -> bytes:
    return f"<html lang='{lang}'><head>{head}</head><body>{body}</body></html>".encode()


PARAGRAPHS = "".join(
    f"<p>Paragraph {i}: the federal government announced new rules for asylum claimants, "
    f"and the provinces reacted with cautious support on Tuesday afternoon.</p>"
    for i in range(6)
)


def test_latin1_page_with_correct_header() -> None:
    body = "<article><h1>Réfugiés</h1>" + PARAGRAPHS + "<p>Les réfugiés arrivés à Québec.</p>"
    content = page(body, lang="fr").decode().encode("latin-1")
    article = extract_article(
        "https://x.example/a", content, {"Content-Type": "text/html; charset=ISO-8859-1"}
    )
    assert "Les réfugiés arrivés à Québec." in article.text


def test_undeclared_utf8_page_is_read_as_utf8() -> None:
    # No charset anywhere: valid UTF-8 bytes are UTF-8, not what a sniffer guesses from a
    # few accented letters (chardet, when installed, took short French for Windows-1252).
    body = "<article><h1>Réfugiés</h1>" + PARAGRAPHS + "<p>Les réfugiés arrivés à Québec.</p>"
    article = extract_article("https://x.example/a", page(body, lang="fr"))
    assert "Les réfugiés arrivés à Québec." in article.text


def test_broken_json_ld_falls_back_to_open_graph() -> None:
    head = (
        '<script type=\'application/ld+json\'><!-- {"@type": "NewsArticle", "headline": } -->'
        "</script>"
        "<meta property='og:title' content='From Open Graph'>"
        "<meta property='article:published_time' content='2024-01-10 14:32:00 -0500'>"
    )
    article = extract_article(
        "https://x.example/a", page("<article>" + PARAGRAPHS + "</article>", head)
    )
    assert article.title == "From Open Graph"
    assert article.published_at == datetime(2024, 1, 10, 19, 32, tzinfo=UTC)


def test_script_rendered_page_falls_back_to_json_ld_body() -> None:
    ld = {
        "@type": "NewsArticle",
        "headline": "Rendered by script",
        "articleBody": "Plain body. " * 80,
    }
    head = f"<script type='application/ld+json'>{json.dumps(ld)}</script>"
    article = extract_article("https://x.example/a", page("<div id='root'></div>", head))
    assert article.extraction == "json-ld"
    assert article.text.startswith("Plain body.")
    assert article.suspect_reason is None


# A story told in six paragraphs, for the pages below that show it in part or in full.
STORY = [
    "Quebec will accept fewer temporary foreign workers in Montreal and Laval starting in "
    "September, the immigration minister announced on Tuesday.",
    "The freeze applies to low-wage positions processed through the labour market impact "
    "assessment, which employers must obtain before hiring abroad.",
    "Business groups said the measure would hurt restaurants and farms that already struggle "
    "to fill positions, while unions welcomed a pause they had requested for months.",
    "The minister said the pause would last six months and that regions outside the "
    "metropolitan area would not be affected by the new rules.",
    "About 1,200 applications are currently awaiting a decision, according to figures "
    "released by the department on Tuesday afternoon.",
    "Ottawa has not said whether it will adopt a similar measure for the rest of the country, "
    "although the federal minister is expected to speak on Thursday.",
]
NAVIGATION = (
    "<header><nav><a href='/'>Home</a> <a href='/politics'>Politics</a> "
    "<a href='/montreal'>Montreal</a> <a href='/subscribe'>Subscribe</a></nav></header>"
)


def ld_head(body: str, headline: str = "Quebec pauses low-wage foreign hiring") -> str:
    node = {"@type": "NewsArticle", "headline": headline, "articleBody": body}
    return f"<script type='application/ld+json'>{json.dumps(node)}</script>"


def test_json_ld_body_replaces_a_teaser_that_trafilatura_took_for_the_text() -> None:
    # The page renders two paragraphs and loads the rest by script; its JSON-LD holds the story.
    shown = "".join(f"<p>{paragraph}</p>" for paragraph in STORY[:2])
    teaser = f"<article><h1>Quebec pauses low-wage foreign hiring</h1>{shown}</article>"
    body = "\n".join(STORY)
    article = extract_article(
        "https://x.example/a", page(NAVIGATION + teaser + "<footer>© 2024</footer>", ld_head(body))
    )
    assert article.extraction == "json-ld"
    assert article.text.split("\n\n") == STORY  # each line of the body is a paragraph


def test_readability_is_not_run_when_the_json_ld_body_wins_whatever_it_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The teaser page above: trafilatura kept a third of the body, so the body is the text
    # whether readability's text (at most 1.25 times trafilatura's) were kept or not.
    runs: list[object] = []
    real = parsers.articles.ReadabilityDocument

    def counted(*args: Any, **kwargs: Any) -> Any:
        runs.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(parsers.articles, "ReadabilityDocument", counted)
    shown = "".join(f"<p>{paragraph}</p>" for paragraph in STORY[:2])
    teaser = f"<article><h1>Quebec pauses low-wage foreign hiring</h1>{shown}</article>"
    article = extract_article("https://x.example/a", page(teaser, ld_head("\n".join(STORY))))
    assert (article.extraction, article.text.split("\n\n")) == ("json-ld", STORY)
    assert runs == []
    # A body that is not much longer than the page's text still leaves readability its say.
    shown = "".join(f"<p>{paragraph}</p>" for paragraph in STORY[:4])
    page_text = page(f"<article><h1>Pause</h1>{shown}</article>", ld_head(" ".join(STORY)))
    assert extract_article("https://x.example/a", page_text).extraction != "json-ld"
    assert len(runs) == 1


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 400), st.integers(0, 1000), st.floats(0.0, 1.0))
def test_a_body_that_wins_anyway_wins_over_every_text_readability_could_give(
    text_words: int, body_words: int, growth: float
) -> None:
    text, body = "word " * text_words, "body " * body_words
    if not _body_wins_anyway(text, body):
        return
    # readability's text replaces trafilatura's only up to READABILITY_MAX_GROWTH times its
    # words: whichever is kept, _prefer_body must take the body.
    kept = "other " * int(text_words * (1 + growth * (READABILITY_MAX_GROWTH - 1)))
    assert _prefer_body(text, body)
    assert _prefer_body(kept, body)


# Blank space of every kind readability's patterns tell apart (newline, tab, space, others
# that only \\s matches), in runs short and long (255 is where its first pattern starts).
_BLANK = st.sampled_from(["\n", "\t", " ", "\r", "\x0b", "\x0c", "\xa0", "\u2009", "\u3000"])
_RUN = st.one_of(
    st.lists(_BLANK, max_size=6).map("".join),
    st.tuples(_BLANK, st.integers(250, 300), st.lists(_BLANK, max_size=3)).map(
        lambda run: run[0] * run[1] + "".join(run[2])
    ),
)
_PIECES = st.lists(st.tuples(st.sampled_from(["", "a", "mot", "é"]), _RUN), max_size=12)


@settings(max_examples=500, deadline=None)
@given(_PIECES, st.text(max_size=40))
def test_readability_clean_gives_what_readability_s_own_gives(
    pieces: list[tuple[str, str]], tail: str
) -> None:
    text = "".join(word + run for word, run in pieces) + tail
    assert _readability_clean(text) == _READABILITY_CLEAN(text)


def test_readability_reads_blocks_with_the_faster_clean() -> None:
    assert readability.readability.clean is _readability_clean
    assert _READABILITY_CLEAN is not _readability_clean
    # A maximal run with a newline is one newline; 255 blanks or more are one space.
    text = "  a \t \n\t b" + "\xa0" * 300 + "c\t\t d  \n"
    assert _readability_clean(text) == _READABILITY_CLEAN(text) == "a\nb c   d"


def test_json_ld_body_with_markup_is_read_as_html() -> None:
    body = "".join(f"<p>{paragraph}</p>" for paragraph in STORY)
    article = extract_article("https://x.example/a", page("<div id='app'></div>", ld_head(body)))
    assert article.extraction == "json-ld"
    assert article.text.split("\n\n") == STORY


def test_json_ld_summary_does_not_replace_the_article_text() -> None:
    # Many publishers put a one-sentence summary in articleBody: the page's text wins.
    shown = "".join(f"<p>{paragraph}</p>" for paragraph in STORY)
    article = extract_article(
        "https://x.example/a",
        page(NAVIGATION + f"<article><h1>Hiring pause</h1>{shown}</article>", ld_head(STORY[0])),
    )
    assert article.extraction in ("trafilatura", "readability")
    assert all(paragraph in article.text for paragraph in STORY)


def test_json_ld_body_not_much_longer_than_the_text_leaves_the_text() -> None:
    # trafilatura kept more than half of what articleBody says: its paragraphs are kept.
    shown = "".join(f"<p>{paragraph}</p>" for paragraph in STORY[:4])
    article = extract_article(
        "https://x.example/a",
        page(f"<article><h1>Pause</h1>{shown}</article>", ld_head(" ".join(STORY), "Pause")),
    )
    assert article.extraction in ("trafilatura", "readability")
    assert article.text.split("\n\n") == STORY[:4]


def test_tables_in_the_article_are_part_of_its_text() -> None:
    table = (
        "<table><tr><th>Year</th><th>Permanent residents</th></tr>"
        "<tr><td>2025</td><td>395,000</td></tr><tr><td>2026</td><td>380,000</td></tr></table>"
    )
    shown = "".join(f"<p>{paragraph}</p>" for paragraph in STORY)
    article = extract_article(
        "https://x.example/a", page(f"<article><h1>Levels plan</h1>{shown}{table}</article>")
    )
    rows = [p for p in article.text.split("\n\n") if "2025" in p or "2026" in p]
    assert [("395,000" in row, "380,000" in row) for row in rows] == [(True, False), (False, True)]
    assert "---" not in article.text  # the table's header rule is no paragraph


def test_reader_comments_are_not_part_of_the_text() -> None:
    shown = "".join(f"<p>{paragraph}</p>" for paragraph in STORY)
    comments = (
        "<section id='comments' class='comments'><h3>Comments</h3>"
        "<div class='comment'><p>Posted by Gilles: about time someone said no to the "
        "employers who keep asking for more workers every single year.</p></div>"
        "<div class='comment'><p>Posted by Ana: my cousin waited two years for this permit "
        "and now the rules change again, it is not fair to the families.</p></div></section>"
    )
    article = extract_article(
        "https://x.example/a", page(f"<article><h1>Pause</h1>{shown}</article>{comments}")
    )
    assert all(paragraph in article.text for paragraph in STORY)
    assert "Posted by" not in article.text


def paragraphs(texts: list[str]) -> str:
    return "".join(f"<p>{text}</p>" for text in texts)


CAPTION = "Seasonal workers pack strawberries near Saint-Rémi in June."
SUBHEAD = "What changes for employers"


def test_captions_and_subheads_trafilatura_drops_are_kept() -> None:
    # A figure caption and a subhead set in a <div> are part of the story: trafilatura's
    # filters drop both, readability-lxml keeps them, and it holds all the rest.
    body = (
        f"<article><h1>Pause</h1>{paragraphs(STORY[:2])}"
        f"<figure><img src='farm.jpg'><figcaption>{CAPTION}</figcaption></figure>"
        f"{paragraphs(STORY[2:4])}<div class='subhead'>{SUBHEAD}</div>"
        f"{paragraphs(STORY[4:])}</article>"
    )
    article = extract_article("https://x.example/a", page(NAVIGATION + body))
    assert article.extraction == "readability"
    assert article.text.split("\n\n") == [*STORY[:2], CAPTION, *STORY[2:4], SUBHEAD, *STORY[4:]]


def test_ad_labels_and_share_bars_inside_the_article_stay_out() -> None:
    # readability keeps short blocks inside the article's container; those whose class
    # names them as ad slots or share bars are dropped from its copy of the page.
    body = (
        f"<article><h1>Pause</h1>{paragraphs(STORY[:2])}"
        f"<figure><img src='farm.jpg'><figcaption>{CAPTION}</figcaption></figure>"
        f"{paragraphs(STORY[2:4])}<div class='ad-slot inline'>Advertisement</div>"
        f"{paragraphs(STORY[4:])}<div class='share-bar'>Share this story: "
        "<a href='#'>Facebook</a> <a href='#'>Email</a></div></article>"
    )
    article = extract_article("https://x.example/a", page(NAVIGATION + body))
    assert article.extraction == "readability"
    assert CAPTION in article.text
    assert "Advertisement" not in article.text
    assert "Share this story" not in article.text


def test_related_stories_in_an_aside_stay_out() -> None:
    # readability reads whole containers: an <aside> inside the article (a "Read next" box)
    # would come with them, so it is dropped from readability's copy.
    aside = (
        "<aside class='box'><h4>Read next</h4><p>Ottawa caps study permits for a second year "
        "as colleges warn of program closures across Ontario and the Maritimes.</p></aside>"
    )
    body = (
        f"<article><h1>Pause</h1>{paragraphs(STORY[:3])}<div class='subhead'>{SUBHEAD}</div>"
        f"{aside}{paragraphs(STORY[3:])}</article>"
    )
    article = extract_article("https://x.example/a", page(NAVIGATION + body))
    assert article.extraction == "readability"
    assert SUBHEAD in article.text
    assert "Ottawa caps study permits" not in article.text


OTHER_STORIES = [
    f"Story {number}: the provincial budget adds money for transit, hospital wait times and "
    "school boards, while opposition parties say grocery prices matter more to families."
    for number in range(8)
]


def test_readability_taking_another_block_too_leaves_trafilaturas_text() -> None:
    # readability takes the article and a digest of other stories beside it (three times
    # the words): beyond a caption or a subhead, what it adds is another block, so
    # trafilatura's text, which holds the article alone, is kept.
    body = (
        f"<article><h1>Pause</h1>{paragraphs(STORY)}</article>"
        f"<div class='digest'><h2>Elsewhere today</h2>{paragraphs(OTHER_STORIES)}</div>"
    )
    article = extract_article("https://x.example/a", page(NAVIGATION + body))
    assert article.extraction == "trafilatura"
    assert article.text.split("\n\n") == STORY


SLIDES = [
    f"<li><h2><span class='counter'>{number}/12</span> Harbour crane {number}</h2>"
    f"<p>Crane number {number} lifts a container of spring machinery onto the quay while "
    "the morning shift waits for the pilot boat to bring the next freighter in.</p></li>"
    for number in range(1, 13)
]


def test_photo_gallery_captions_are_not_the_article() -> None:
    # Twelve captioned slides inside the article's container outweigh its six paragraphs:
    # both extractors took them for text until galleries were dropped from the tree.
    gallery = f"<div class='full-gallery'><ul class='legends'>{''.join(SLIDES)}</ul></div>"
    body = f"<article><h1>Port</h1>{paragraphs(STORY[:3])}{gallery}{paragraphs(STORY[3:])}"
    article = extract_article("https://x.example/a", page(NAVIGATION + body + "</article>"))
    assert article.text.split("\n\n") == STORY


def test_wrapper_named_after_a_gallery_keeps_the_article() -> None:
    # A class word is only a hint: the element that holds the article is never dropped.
    body = f"<div class='gallery-layout'><article><h1>Port</h1>{paragraphs(STORY)}</article></div>"
    article = extract_article("https://x.example/a", page(NAVIGATION + body))
    assert article.text.split("\n\n") == STORY


def test_page_trafilatura_cannot_read_falls_back_to_its_visible_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # trafilatura trips on some odd trees: BeautifulSoup, another parser, reads the page.
    def trip(*_args: object, **_kwargs: object) -> str:
        raise ValueError("odd tree")

    monkeypatch.setattr("parsers.articles.trafilatura.extract", trip)
    shown = "".join(f"<p>{paragraph}</p>" for paragraph in STORY)
    article = extract_article(
        "https://x.example/a", page(NAVIGATION + f"<article><h1>Pause</h1>{shown}</article>")
    )
    assert article.extraction == "fallback"
    assert all(paragraph in article.text for paragraph in STORY)
    assert "Subscribe" not in article.text  # navigation is not the article


def test_page_without_text_is_empty_and_suspect() -> None:
    article = extract_article("https://x.example/a", page("<div><img src='x.png'></div>"))
    assert article.extraction == "empty"
    assert article.text == ""
    assert article.suspect_reason and "empty" in article.suspect_reason


def test_short_page_is_a_stub() -> None:
    body = "<article><h1>Developing</h1><p>More details to come on the asylum plan.</p></article>"
    article = extract_article("https://x.example/a", page(body))
    assert article.suspect_reason and article.suspect_reason.startswith("stub")


@pytest.mark.parametrize("repeat", [1, 3])
def test_article_mentioning_consent_is_not_a_consent_wall(repeat: int) -> None:
    mention = "<p>Le ministre a parlé du consentement des provinces à chaque rencontre.</p>"
    body = f"<article>{PARAGRAPHS * repeat}{mention}</article>"
    article = extract_article("https://x.example/a", page(body))
    assert article.suspect_reason is None


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"   \n",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj",
        b"\x89PNG\r\n\x1a\n\x00\x00",
        b"\x00\x01\x02" * 50,
    ],
)
def test_not_html_raises_parse_error(content: bytes) -> None:
    with pytest.raises(ParseError):
        extract_article("https://x.example/a", content)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=400).map(str.encode))
def test_any_bytes_give_an_article_or_a_parse_error(content: bytes) -> None:
    try:
        article = extract_article("https://x.example/a", content, {"Content-Type": "text/html"})
    except ParseError:
        return
    assert isinstance(article, ArticleData)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-24T09:15:00-04:00", datetime(2024, 3, 24, 13, 15, tzinfo=UTC)),
        ("2024-03-24T13:15:00Z", datetime(2024, 3, 24, 13, 15, tzinfo=UTC)),
        ("2024-03-24", datetime(2024, 3, 24, tzinfo=UTC)),
        ("2024-03-24 13:15:00", datetime(2024, 3, 24, 13, 15, tzinfo=UTC)),
        ("Sun, 24 Mar 2024 09:15:00 -0400", datetime(2024, 3, 24, 13, 15, tzinfo=UTC)),
        ("0001-01-01T00:00:00Z", None),
        ("yesterday", None),
        ("", None),
    ],
)
def test_parse_datetime(value: str, expected: datetime | None) -> None:
    assert parse_datetime(value) == expected


def _fold_by_definition(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60) | st.sampled_from(["Québec", "ÉLÈVES ﬁnancés", "İstanbul", "Ǆ½"]))
def test_fold_is_its_definition(text: str) -> None:
    # Stored content hashes are built on fold: a faster fold must give the very same text.
    assert fold(text) == _fold_by_definition(text)


def test_shingles_count_each_run_of_words_and_keep_a_short_text_whole() -> None:
    # The share readability keeps of trafilatura's text is over this multiset: a repeated run
    # counts twice, and a text shorter than one shingle is one shingle, not none.
    assert _shingles("a b c d a b c d") == Counter(
        {("a", "b", "c", "d"): 2, ("b", "c", "d", "a"): 1, ("c", "d", "a", "b"): 1,
         ("d", "a", "b", "c"): 1}
    )  # fmt: skip
    assert _shingles("only three words") == Counter({("only", "three", "words"): 1})
    assert _shingles(" -- ") == Counter()


def test_trafilatura_settings_are_shared_but_each_page_has_its_own_url() -> None:
    first, second = _trafilatura_options("https://a.example/1"), _trafilatura_options("")
    assert (first.url, first.source) == ("https://a.example/1", "https://a.example/1")
    assert (second.url, second.source) == ("", None)
    assert first.fast and not first.comments and first.tables and first.format == "txt"
    assert _trafilatura_options("https://b.example/2").url == "https://b.example/2"
    assert first.url == "https://a.example/1"  # a later page's copy left this one alone
