"""Full articles end to end: a loopback news site whose pages the tests edit between passes.

monitor_feeds fetches and extracts the pages of summary-only items; recheck_articles versions
what the site edits; reprocess re-tags from archived bytes without touching the network.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit
from uuid import UUID

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from cli.app import app
from db import repo
from db.cluster_models import ArticleSignature
from db.models import Alert, Article, ArticleVersion, Mention, RawDocument
from flows import context
from flows.monitor import monitor_feeds, run_monitor
from flows.recheck import recheck_articles
from flows.reprocess import reprocess
from flows.settings import SEEDS_DIR
from parsers.dedup import sketch
from tests.inert_markdown import render, visible_text
from tests.loopback import LoopbackServer, Response

HERE = Path(__file__).parent
PAGE = (HERE / "site" / "quebec_target.html").read_text(encoding="utf-8")
CONSENT_WALL = (HERE / "pages" / "consent_wall.html").read_bytes()
FRENCH_PAGE = (HERE / "pages" / "fr_demandeurs_asile.html").read_bytes()
pytestmark = pytest.mark.usefixtures("prefect_server")


def _feed(server: LoopbackServer) -> bytes:
    items = [
        ("herald-1", "/site/quebec-target.html", "Quebec to cap immigration at 40,000 a year"),
        ("herald-2", "/site/demandeurs-asile.html", "Demandeurs d'asile : Québec presse Ottawa"),
    ]
    body = "".join(
        f"<item><title>{title}</title><link>{server.url(path)}</link>"
        f"<guid isPermaLink='false'>{guid}</guid><description>Short summary.</description></item>"
        for guid, path, title in items
    )
    rss = f"<rss version='2.0'><channel><title>Loopback Herald</title>{body}</channel></rss>"
    return rss.encode()


def _serve(server: LoopbackServer, page: str | bytes = PAGE) -> None:
    html = {"Content-Type": "text/html; charset=utf-8"}
    server.routes["/site/feed.rss"] = Response(_feed(server))
    body = page.encode() if isinstance(page, str) else page
    server.routes["/site/quebec-target.html"] = Response(body, headers=html)
    server.routes["/site/demandeurs-asile.html"] = Response(FRENCH_PAGE, headers=html)


def _count(model: type) -> int:
    with context.sessions().begin() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _target_article() -> Article:
    with context.sessions().begin() as session:
        article = session.scalars(
            select(Article).where(Article.canonical_url.like("%quebec-target%"))
        ).one()
        _ = article.versions, article.current_version  # load before the session closes
        return article


def _recheck() -> dict[str, int]:
    return asyncio.run(recheck_articles(due_only=False))


@pytest.fixture
def site(vigie_env: pytest.MonkeyPatch, http_server: LoopbackServer) -> LoopbackServer:
    _serve(http_server)
    context.ensure_schema()
    with context.sessions().begin() as session:
        now = datetime.now(UTC)
        repo.add_feeds(session, [repo.FeedSpec(http_server.url("/site/feed.rss"), "Herald")], now)
    return http_server


def test_pages_are_fetched_extracted_and_archived(site: LoopbackServer) -> None:
    counts = asyncio.run(run_monitor(due_only=False))

    assert counts["pages_fetched"] == 2 and counts["new_articles"] == 2
    article = _target_article()
    version = article.current_version
    assert version is not None and version.origin == "page"
    assert "cap permanent immigration at 40,000 immigrants per year" in version.text
    for boilerplate in ("Reader123", "Ten things to do", "Reproduction prohibited", "cookies"):
        assert boilerplate not in version.text
    assert article.next_check_at is not None  # watched for edits
    assert _count(RawDocument) == 2
    rows = {row.title: row for row in _list()}
    french = rows["Demandeurs d’asile : Québec réclame un meilleur partage entre les provinces"]
    assert french.language == "fr" and "asylum_refugees" in french.topics


def _list() -> list[repo.ArticleRow]:
    with context.sessions().begin() as session:
        return repo.list_articles(session)


def test_edits_make_versions_and_one_alert_noise_makes_none(site: LoopbackServer) -> None:
    asyncio.run(run_monitor(due_only=False))
    alerts_before = _count(Alert)

    site.routes["/site/quebec-target.html"] = Response(PAGE.replace("40,000", "50,000").encode())
    figure_edit = _recheck()
    after_figure = _count(Alert)
    spaced = PAGE.replace("40,000", "50,000").replace(". ", ".   ").replace("<p>", "<p>\n  ")
    site.routes["/site/quebec-target.html"] = Response(spaced.encode())
    whitespace = _recheck()
    site.routes["/site/quebec-target.html"] = Response(CONSENT_WALL)
    consent = _recheck()
    consent_article = _target_article()

    assert figure_edit["changed"] == 1
    assert after_figure - alerts_before == 1
    article = _target_article()
    assert [v.n for v in article.versions] == [1, 2]
    v2 = article.versions[1]
    assert "figures_changed" in v2.change_kinds.split()
    assert v2.diff is not None and "40,000 → 50,000" in v2.diff["figures"]
    with context.sessions().begin() as session:  # its story is filed by the edited text
        signature = session.get_one(ArticleSignature, article.id).minhash
    assert signature == sketch(v2.text).signature != sketch(article.versions[0].text).signature
    with context.sessions().begin() as session:
        alert = session.scalars(select(Alert).order_by(Alert.id.desc())).first()
        assert alert is not None and alert.kind in {"figure_changed", "article_edited"}
        assert alert.payload["version"] == 2 and "50,000" in str(alert.payload)
    assert whitespace.get("changed", 0) == 0 and whitespace["unchanged"] >= 1
    assert consent["suspect"] == 1
    assert consent_article.suspect_reason
    assert [v.n for v in consent_article.versions] == [1, 2]
    assert _count(Alert) == after_figure

    again = asyncio.run(run_monitor(due_only=False))
    assert again["new_articles"] == 0 and again["alerts"] == 0
    assert _count(ArticleVersion) == 3


def test_diff_and_versions_commands(site: LoopbackServer) -> None:
    asyncio.run(run_monitor(due_only=False))
    site.routes["/site/quebec-target.html"] = Response(PAGE.replace("40,000", "50,000").encode())
    _recheck()
    article_id = _target_article().id
    runner = CliRunner()

    versions = runner.invoke(app, ["show", str(article_id), "--versions"])
    diff = runner.invoke(app, ["diff", str(article_id)])

    assert versions.exit_code == 0 and "figures_changed" in versions.output
    assert diff.exit_code == 0
    assert "[-40,000-] {+50,000+}" in diff.output


def test_a_failed_recheck_names_its_article_and_reason(
    site: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    asyncio.run(run_monitor(due_only=False))
    article = _target_article()
    french = next(row for row in _list() if row.id != article.id)
    html = {"Content-Type": "text/html; charset=utf-8"}
    site.routes[urlsplit(french.canonical_url).path] = Response(FRENCH_PAGE, headers=html)
    site.routes["/site/quebec-target.html"] = Response(b"gone", 404)

    with caplog.at_level(logging.WARNING):
        counts = _recheck()
        printed = CliRunner().invoke(app, ["recheck", "--all"])

    (failure,) = counts["failures"]
    assert failure["article_id"] == article.id and failure["url"] == article.canonical_url
    assert failure["error"].startswith("HTTP 404")
    warning = f"article {article.id} ({article.canonical_url}) re-check failed: {failure['error']}"
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert logged.count(warning) == 2  # one per run
    assert f"article {article.id} failed: HTTP 404" in printed.output, printed.output


def test_reprocess_retags_without_any_request(
    site: LoopbackServer, tmp_path: Path, vigie_env: pytest.MonkeyPatch
) -> None:
    asyncio.run(run_monitor(due_only=False))
    requests_before = len(site.requests)
    taxonomy = (SEEDS_DIR / "taxonomy.toml").read_text(encoding="utf-8")
    version_line = next(line for line in taxonomy.splitlines() if line.startswith("version"))
    changed = tmp_path / "taxonomy.toml"
    changed.write_text(taxonomy.replace(version_line, 'version = "test-bump"'), encoding="utf-8")
    vigie_env.setenv("VIGIE_TAXONOMY_PATH", str(changed))
    context.reset()

    counts = asyncio.run(reprocess())

    assert len(site.requests) == requests_before
    assert counts["versions"] == 2 and counts.get("unchanged", 0) == 0
    with context.sessions().begin() as session:
        versions = {v.taxonomy_version for v in session.scalars(select(ArticleVersion))}
        mention_versions = set(
            session.scalars(select(ArticleVersion.taxonomy_version).join(Mention.version))
        )
    assert versions == {"test-bump"} and mention_versions == {"test-bump"}
    again = CliRunner().invoke(app, ["reprocess"])  # nothing left to change
    assert again.exit_code == 0, again.output
    summary = " ".join(again.output.split())
    assert (
        "2 articles read again; 0 with a new text, 0 re-tagged, 0 newly relevant, 2 unchanged."
        in summary
    )


def test_an_error_in_the_page_stage_fails_only_that_feeds_pages(
    site: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever a feed's pages raise, the feed is stored with its own text and the reason,
    watched so that a re-check fetches the pages, and the pass completes."""
    from flows import monitor

    async def broken(*_args: object) -> list[object]:
        raise RuntimeError("page reader bug")

    monkeypatch.setattr(monitor, "_read_pages", broken)  # no real input is known to do this
    state = asyncio.run(monitor_feeds(due_only=False, return_state=True))

    assert state.is_completed()
    article = _target_article()
    version = article.current_version
    assert version is not None and version.origin == "feed"
    assert version.fallback_reason is not None
    assert "article pages not read" in version.fallback_reason
    assert "RuntimeError: page reader bug" in version.fallback_reason
    assert article.next_check_at is not None  # a re-check fetches the page


async def _run_and_artifacts(run_id: UUID) -> tuple[str, dict[str, object]]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    only_run = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
    async with get_client() as client:
        run = await client.read_flow_run(run_id)
        artifacts = await client.read_artifacts(artifact_filter=only_run)
    return run.name, {a.key: a.data for a in artifacts if a.key}


def test_the_recheck_summary_lists_each_edit_and_the_run_is_named_by_it(
    site: LoopbackServer,
) -> None:
    asyncio.run(run_monitor(due_only=False))
    site.routes["/site/quebec-target.html"] = Response(PAGE.replace("40,000", "50,000").encode())
    site.routes["/site/demandeurs-asile.html"] = Response(b"gone", status=404)

    state = asyncio.run(recheck_articles(due_only=False, return_state=True))
    run_id = state.state_details.flow_run_id
    assert run_id is not None
    name, artifacts = asyncio.run(_run_and_artifacts(run_id))

    article = _target_article()
    summary = str(artifacts["recheck-summary"])
    page = render(summary)
    # The edit: its title, a link to the page, its outlet, change kinds and diff excerpt.
    assert f"<h3>{article.title}</h3>" in page
    assert f'<a href="{article.canonical_url}">open</a>' in page
    assert "figures changed" in summary and f"`vigie diff {article.id}`" in summary
    assert "40,000" in visible_text(page).split("Failed re-checks")[0]  # the diff excerpt
    assert visible_text(page).index("Edits (1)") < visible_text(page).index("Failed re-checks")
    assert re.fullmatch(r"recheck \d\d:\d\d:\d\d · 2 checked · 1 edit · 1 failed", name), name
