"""The alert rules file: parsing, one-line errors, and the routing decision."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from parsers.alert_rules import (
    KINDS,
    ChannelSpec,
    digest_language,
    load_rules,
    parse_rules,
    retry_delay,
    route,
)
from parsers.exceptions import ConfigError

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
ARTICLE = {"title": "t", "topics": ["asylum_refugees"], "relevance": 2.0}


def test_the_shipped_rules_file_is_valid() -> None:
    rules = load_rules(SEEDS / "alert_rules.toml")

    assert set(rules.kinds) == set(KINDS)
    assert rules.rule("article_edited").debounce == timedelta(minutes=10)
    assert rules.rule("feed_recovered").mode == "digest"
    assert rules.rule("run_failed").severity == "critical"


def test_a_full_file() -> None:
    rules = parse_rules(
        """
        [defaults]
        channels = ["team"]
        [channels.team]
        url_env = "VIGIE_TEAM_URL"
        format = "markdown"
        [channels.ops]
        block = "vigie-ops"
        [kinds.feed_broken]
        channels = ["ops", "team", "ops"]
        [digest]
        channels = ["team"]
        top_per_topic = 3
        send_when_empty = true
        """
    )

    assert rules.channels["team"] == ChannelSpec("team", "url_env", "VIGIE_TEAM_URL", "markdown")
    assert rules.rule("new_relevant_article").channels == ("team",)
    assert rules.rule("feed_broken").channels == ("ops", "team")
    assert rules.rule("some_future_kind").channels == ("team",)
    assert (rules.digest.top_per_topic, rules.digest.send_when_empty) == (3, True)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[kinds\n", "test.toml is not valid TOML"),
        ("[kinds.article_editted]\n", "test.toml: kinds.article_editted: unknown kind"),
        ("[kinds.article_edited]\nmin_relevence = 1\n",
         "test.toml: kinds.article_edited.min_relevence: unknown key"),
        ("[kinds.feed_broken]\nseverity = 'loud'\n",
         "test.toml: kinds.feed_broken.severity: must be one of info, warning, critical"),
        ("[kinds.feed_broken]\nchannels = ['pager']\n",
         "test.toml: kinds.feed_broken.channels: unknown channel 'pager' (defined: default)"),
        ("[kinds.feed_broken]\nchannels = 'default'\n", "must be a list of channel names"),
        ("[kinds.article_edited]\ndebounce_minutes = -5\n", "must be a number, 0 or more"),
        ("[kinds.article_edited]\nenabled = 'yes'\n", "must be true or false"),
        ("[kinds.article_edited]\nmode = 'later'\n", "must be immediate or digest"),
        ("[channels.x]\nurl = 'a'\nblock = 'b'\n",
         "channels.x: needs exactly one of url, url_env, block, webhook"),
        ("[channels.x]\nwebhook = 'ftp://x'\n", "channels.x.webhook: must be an http"),
        ("[channels.default]\nurl = 'json://x'\n", "'default' is reserved"),
        ("[digest]\ntop_per_topic = 0\n", "digest.top_per_topic: must be a whole number"),
        ("kinds = 3\n", "kinds: must be a table"),
        ("[alerts]\n", "alerts: unknown key"),
    ],
)  # fmt: skip
def test_malformed_rules_raise_one_clear_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_rules(text, "test.toml")

    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read alert rules"):
        load_rules(tmp_path / "nope.toml")


def test_routing_decisions() -> None:
    rules = parse_rules(
        """
        [kinds.new_relevant_article]
        min_relevance = 1.5
        topics = ["asylum_refugees", "temporary_workers"]
        severity = "warning"
        [kinds.article_edited]
        debounce_minutes = 10
        [kinds.cluster_growing]
        mode = "digest"
        [kinds.feed_recovered]
        enabled = false
        [kinds.feed_broken]
        topics = ["asylum_refugees"]
        """
    )

    sent = route(rules, "new_relevant_article", "info", ARTICLE)
    assert (sent.action, sent.severity, sent.channels) == ("send", "warning", ("default",))
    low = route(rules, "new_relevant_article", "info", {**ARTICLE, "relevance": 1.0})
    assert low.action == "skip" and "below the rules' minimum 1.5" in low.reason
    off = route(rules, "new_relevant_article", "info", {**ARTICLE, "topics": ["economy"]})
    assert off.action == "skip" and "topics of interest" in off.reason
    assert route(rules, "article_edited", "info", {}).debounce == timedelta(minutes=10)
    assert route(rules, "cluster_growing", "info", {}).action == "digest"
    assert "turned off" in route(rules, "feed_recovered", "info", {}).reason
    # Feeds name no topic, so a topic filter cannot silence them.
    assert route(rules, "feed_broken", "warning", {"feed": "x"}).action == "send"
    assert route(rules, "digest", "info", {}).channels == ("default",)


def test_retry_delay_doubles_up_to_the_cap() -> None:
    delays = [retry_delay(n, 60, 3600).total_seconds() for n in range(1, 9)]
    assert delays == [60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert retry_delay(10_000, 60, 3600) == timedelta(hours=1)


def test_the_digest_language_per_channel() -> None:
    rules = parse_rules(
        '[channels.equipe]\nwebhook = "https://hooks.example/v"\nlanguage = "fr"\n'
        '[channels.board]\nwebhook = "https://hooks.example/b"\n'
        '[digest]\nchannels = ["default", "equipe", "board"]\nlanguage = "en"\n'
    )
    assert digest_language(rules, "equipe") == "fr"
    assert digest_language(rules, "board") == "en"  # the digest's own
    assert digest_language(rules, "default[2]") == "en"
    french = parse_rules('[digest]\nlanguage = "fr"\n')
    assert digest_language(french, "default") == "fr"
    for text, key in (('[digest]\nlanguage = "de"\n', "digest.language"),
                      ('[channels.x]\nwebhook = "https://h.example"\nlanguage = 1\n',
                       "channels.x.language")):  # fmt: skip
        with pytest.raises(ConfigError, match=key):
            parse_rules(text)
