"""Watches in a real monitor pass (real Prefect server, loopback feeds): each matching new
article is one alert naming the watch, and a second pass writes none again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from db.models import Alert
from flows import context
from flows.monitor import monitor_feeds
from parsers.alert_rules import WATCH_KIND
from tests.loopback import LoopbackServer
from tests.test_monitor_flow import _add_feeds, _serve_news

pytestmark = pytest.mark.usefixtures("prefect_server")

RULES = """\
[watches."Demandeurs d'asile"]
query = '''"demandeur d'asile" OR (asylum NEAR/2 seekers)'''
mode = "digest"

[watches.hockey]
query = "Canadiens overtime"
"""


def test_a_monitor_pass_alerts_each_watch_once_per_matching_article(
    vigie_env: pytest.MonkeyPatch, http_server: LoopbackServer, database_url: str, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES, encoding="utf-8")
    vigie_env.setenv("VIGIE_DATABASE_URL", database_url)  # a SQLite file, then PostgreSQL
    vigie_env.setenv("VIGIE_ALERT_RULES_PATH", str(rules))
    context.reset()
    _serve_news(http_server)
    _add_feeds(http_server, "/news.rss", "/nouvelles.atom")

    first = asyncio.run(monitor_feeds(due_only=False))
    second = asyncio.run(monitor_feeds(due_only=False))

    with context.sessions().begin() as session:
        alerts = session.scalars(select(Alert).where(Alert.kind == WATCH_KIND)).all()
        matched = sorted((a.payload["watch"], a.payload["title"]) for a in alerts)
    assert matched == [
        ("Demandeurs d'asile", "Hausse du nombre de demandeurs d'asile au Québec"),
        ("Demandeurs d'asile", "Quebec asks Ottawa to share the load of asylum seekers"),
        ("hockey", "Canadiens win in overtime"),
    ]
    assert all(a.payload["passage"] for a in alerts)
    assert (first["watched"], second["watched"]) == (3, 0)


def test_a_bad_watch_stops_the_pass_before_it_polls(
    vigie_env: pytest.MonkeyPatch, http_server: LoopbackServer, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('[watches.x]\nquery = "asile OR"\n', encoding="utf-8")
    vigie_env.setenv("VIGIE_ALERT_RULES_PATH", str(rules))
    context.reset()
    _serve_news(http_server)
    _add_feeds(http_server, "/news.rss")
    with pytest.raises(Exception, match=r"watches\.x\.query: the query ends after OR where a word"):
        asyncio.run(monitor_feeds(due_only=False))
    assert http_server.requests == []
