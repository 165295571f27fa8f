"""Alert messages: readable parts per kind, and feed text made inert in every markup."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parsers.inert import clean, html_escape, md_escape, safe_link
from parsers.messages import AlertContent, Style, merge, render_alert

NOW = datetime(2026, 11, 21, 14, 15, tzinfo=UTC)
STYLE = Style(ZoneInfo("America/Toronto"), {"asylum_refugees": "Asylum and refugees"})
HOSTILE = 'Claims <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=y> "q"'


def _render(kind: str, payload: dict[str, object], count: int = 1, severity: str = "info"):
    return render_alert(AlertContent(kind, severity, payload, NOW, count), STYLE)


def _article(**extra: object) -> dict[str, object]:
    payload: dict[str, object] = {
        "title": "Quebec asks Ottawa to share the asylum load",
        "url": "https://news.example/2026/11/asylum",
        "source": "La Presse",
        "published_at": "2026-11-21T13:30:00+00:00",
        "topics": ["asylum_refugees"],
        "relevance": 2.0,
        "evidence": "Quebec received 45,000 asylum claimants this year.",
    }
    return {**payload, **extra}


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.hrefs += [value or "" for name, value in attrs if name == "href"]


def _parsed(html: str) -> _Links:
    parser = _Links()
    parser.feed(html)
    return parser


def test_new_article_reads_well_on_a_phone() -> None:
    message = _render("new_relevant_article", _article())

    assert message.subject == "Vigie · New article: Quebec asks Ottawa to share the asylum load"
    assert message.text.splitlines() == [
        "New article: Quebec asks Ottawa to share the asylum load",
        "La Presse · 21 Nov 2026 08:30 EST · Asylum and refugees",
        "“Quebec received 45,000 asylum claimants this year.”",
        "https://news.example/2026/11/asylum",
    ]
    assert "[Open](<https://news.example/2026/11/asylum>)" in message.markdown
    assert _parsed(message.html).hrefs == ["https://news.example/2026/11/asylum"] * 2


def test_a_date_only_publication_shows_as_that_date() -> None:
    """A date without a time (seeds, datePublished "2024-06-14") is stored as midnight UTC; it
    is shown as that date, not as 20:00 the evening before in Toronto."""
    published_at, shown = "2024-06-14T00:00:00+00:00", "14 Jun 2024"
    article = _render("new_relevant_article", _article(published_at=published_at))
    figure_payload = {"title": "Levels", "source": "CBC", "published_at": published_at}
    figure = _render("figure_changed", {**figure_payload, "old": "1", "new": "2"})

    assert article.text.splitlines()[1] == f"La Presse · {shown} · Asylum and refugees"
    assert f"La Presse · {md_escape(shown)} · Asylum and refugees" in article.markdown
    assert figure.text.splitlines()[1] == f"CBC · {shown}"


def test_hostile_title_is_inert_in_every_markup() -> None:
    message = _render("new_relevant_article", _article(title=HOSTILE, url="javascript:alert(1)"))

    assert "javascript" not in " ".join(_parsed(message.html).hrefs)
    assert set(_parsed(message.html).tags) <= {"div", "p", "a", "blockquote", "ul", "li"}
    assert "&lt;script&gt;" in message.html and "<script" not in message.html
    assert "<script" not in message.markdown and "](" not in message.markdown
    assert "\\[x\\]\\(javascript:alert\\(1\\)\\)" in message.markdown
    assert "http" not in message.text  # the javascript: URL is never shown as a link


def test_newlines_in_feed_text_cannot_forge_lines() -> None:
    message = _render("new_relevant_article", _article(title="Real\nSubject: fake\r\n# Heading"))

    assert "\n" not in message.subject and "\r" not in message.text
    assert message.text.splitlines()[0] == "New article: Real Subject: fake # Heading"
    assert "\\# Heading" in message.markdown


def test_edit_shows_a_short_diff_and_the_burst_size() -> None:
    diff = "\n".join(f"{'-+'[n % 2]} line {n}" for n in range(7))
    payload = {"title": "Levels plan", "url": "https://news.example/p", "source": "CBC",
               "change_kinds": ["title", "body"], "diff_excerpt": diff}  # fmt: skip

    message = _render("article_edited", payload, count=5)

    lines = message.text.splitlines()
    assert lines[0] == "Article edited (5 times): Levels plan"
    assert "changed: title, body" in lines[1]
    assert lines[2:7] == ["- line 0", "+ line 1", "- line 2", "+ line 3", "… 3 more lines"]
    assert "- \\- line 0" in message.markdown


def test_word_diff_excerpt_reads_as_old_to_new() -> None:
    excerpt = (
        "Ottawa will admit [-485,000-]{+500,000+} permanent residents … "
        "the plan [-was-] announced {+on Friday+} in Ottawa"
    )
    payload = {"title": "Levels plan", "change_kinds": ["figures"], "diff_excerpt": excerpt,
               "figures": ["485,000 → 500,000"]}  # fmt: skip

    lines = _render("article_edited", payload).text.splitlines()

    assert lines[2:5] == [
        "485,000 → 500,000",
        "Ottawa will admit 485,000 → 500,000 permanent residents",
        "the plan (removed: was) announced (added: on Friday) in Ottawa",
    ]


def test_figure_shows_old_and_new() -> None:
    payload = {"title": "Levels plan", "url": "https://news.example/p", "source": "CBC",
               "topic": "asylum_refugees", "old": "10,000", "new": "12,500",
               "sentence": "The target rises to 12,500."}  # fmt: skip

    message = _render("figure_changed", payload, severity="warning")

    assert "Asylum and refugees: 10,000 → 12,500" in message.text
    assert "“The target rises to 12,500.”" in message.text
    assert "<li>Asylum and refugees: 10,000 → 12,500</li>" in message.html


def test_a_figure_change_names_where_each_value_was_stated() -> None:
    payload = {"title": "New target", "url": "https://news.example/t", "source": "Le Devoir",
               "topic": "asylum_refugees", "old": "10,000", "new": "12,500",
               "old_source": "La Presse, “Old target”, 2026-10-01",
               "new_source": "Le Devoir, “New target”, 2026-11-21",
               "sentence": "The target rises to 12,500."}  # fmt: skip

    message = _render("figure_changed", payload, severity="warning")

    assert (
        "Asylum and refugees: 10,000 (was: La Presse, “Old target”, 2026-10-01) → 12,500 "
        "(now: Le Devoir, “New target”, 2026-11-21)"
    ) in message.text
    assert "“The target rises to 12,500.”" in message.text  # the sentence with the new value
    later = {**payload, "old": "12,500", "new": "13,000", "new_source": "CBC, “Newer”, 2026-11-22"}
    merged = merge("figure_changed", [payload, later])
    assert merged["changes"] == [
        {"topic": "asylum_refugees", "old": "10,000", "new": "13,000",
         "old_source": "La Presse, “Old target”, 2026-10-01",
         "new_source": "CBC, “Newer”, 2026-11-22"}]  # fmt: skip


def test_merged_figures_keep_first_old_and_last_new() -> None:
    payloads = [{"title": "t", "topic": "a", "old": "10", "new": "12"},
                {"title": "t", "topic": "a", "old": "12", "new": "15"},
                {"title": "t", "topic": "b", "old": "1", "new": "2"}]  # fmt: skip

    merged = merge("figure_changed", payloads)

    assert merged["changes"] == [
        {"topic": "a", "old": "10", "new": "15"},
        {"topic": "b", "old": "1", "new": "2"},
    ]
    assert merge("article_edited", [{"change_kinds": ["a"]}, {"change_kinds": ["b", "a"]}])[
        "change_kinds"
    ] == ["a", "b"]


@pytest.mark.parametrize(
    ("kind", "payload", "expected"),
    [
        ("feed_broken", {"feed": "IRCC news", "url": "https://feeds.example/x", "health": "broken",
                         "consecutive_failures": 4, "last_error": "HTTP 503",
                         "next_check_at": "2026-11-21T15:00:00+00:00"},
         ["Feed broken: IRCC news",
          "broken · 4 failures in a row · next check 21 Nov 2026 10:00 EST",
          "“HTTP 503”", "https://feeds.example/x"]),
        ("feed_recovered", {"feed": "IRCC news", "health": "healthy"},
         ["Feed recovered: IRCC news", "healthy"]),
        ("cluster_growing", {"title": "Asylum deal", "outlets": ["CBC", "Le Devoir"], "size": 4,
                             "topics": ["asylum_refugees"]},
         ["Story spreading: Asylum deal", "4 articles · CBC, Le Devoir · Asylum and refugees"]),
        ("run_failed", {"flow": "monitor-feeds", "flow_run": "monitor-2026-11-21T14:15",
                        "state": "Crashed", "message": "database unreachable"},
         ["Run failed: monitor-feeds run monitor-2026-11-21T14:15 Crashed",
          "21 Nov 2026 09:15 EST", "“database unreachable”"]),
        ("future_kind", {"title": "Something new"},
         ["Future kind: Something new", "21 Nov 2026 09:15 EST"]),
    ],
)  # fmt: skip
def test_each_kind_has_a_readable_message(
    kind: str, payload: dict[str, object], expected: list[str]
) -> None:
    assert _render(kind, payload).text.splitlines() == expected


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,x", "/relative", "//host/x",
     "https://ex ample.com", "https://example.com/\u202e", None, 42],
)  # fmt: skip
def test_only_absolute_http_links_are_kept(url: object) -> None:
    assert safe_link(url) is None


def test_safe_link_keeps_ordinary_urls() -> None:
    assert safe_link("https://ici.radio-canada.ca/a-b_(c)?x=1&y=2#z") == (
        "https://ici.radio-canada.ca/a-b_(c)?x=1&y=2#z"
    )
    assert safe_link('https://x.example/"><script>') == "https://x.example/%22%3E%3Cscript%3E"


@given(st.text())
def test_escaped_text_never_opens_markup(text: str) -> None:
    markdown = md_escape(clean(text))
    assert "<" not in markdown and "](" not in markdown and "`" not in markdown.replace("\\`", "")
    html = html_escape(clean(text))
    assert "<" not in html and '"' not in html and "\n" not in clean(text)


def test_a_story_alert_names_the_other_outlets_that_ran_it() -> None:
    covered = [
        {"article_id": 7, "outlet": "Harbour Gazette", "url": "https://gazette.example/limbo"},
        {"article_id": 9, "outlet": HOSTILE, "url": "javascript:alert(1)"},
    ]
    rendered = _render("new_relevant_article", _article(also_covered_by=covered))
    assert rendered.text.splitlines()[-1].startswith(
        "Also covered by: Harbour Gazette https://gazette.example/limbo, Claims"
    )
    assert "[Harbour Gazette](<https://gazette.example/limbo>)" in rendered.markdown
    assert '<a href="https://gazette.example/limbo">Harbour Gazette</a>' in rendered.html
    # Feed text stays inert: no script, and no link but to http(s).
    assert "](javascript" not in rendered.markdown and "<script>" not in rendered.markdown
    assert 'href="javascript' not in rendered.html and "<script>" not in rendered.html


def test_a_flood_is_one_message_naming_the_feed_the_count_and_the_list() -> None:
    payload = {
        "feed": "The Capital Ledger",
        "url": "https://ledger.example/rss",
        "count": 240,
        "titles": ["First story", "Second story"],
        "list": 'vigie articles --relevant --source "The Capital Ledger"',
    }
    rendered = _render("feed_flood", payload, severity="warning")
    assert rendered.subject.endswith(
        "Many new articles: The Capital Ledger: 240 new relevant articles"
    )
    assert 'vigie articles --relevant --source "The Capital Ledger"' in rendered.text
    assert "First story" in rendered.text and "https://ledger.example/rss" in rendered.text
