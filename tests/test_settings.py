"""Settings read as people write them, and wrong ones named so that they can be fixed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from flows.settings import Settings, _unknown_settings
from parsers.exceptions import ConfigError


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_a_postgres_url_without_a_driver_uses_the_installed_one(
    scheme: str, postgres_url: str
) -> None:
    from db.engine import make_engine

    typed = postgres_url.replace("postgresql+psycopg://", f"{scheme}://")
    url = Settings(database_url=typed).resolved_database_url

    assert url == postgres_url
    engine = make_engine(url)
    with engine.connect() as connection:
        assert connection.execute(text("select 1")).scalar_one() == 1
    engine.dispose()


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("postgres://u@db/vigie", "postgresql+psycopg://u@db/vigie"),
        ("postgresql://u:pw@db:5433/vigie", "postgresql+psycopg://u:pw@db:5433/vigie"),
        ("postgresql+psycopg://u@db/vigie", "postgresql+psycopg://u@db/vigie"),
        ("sqlite://", "sqlite://"),  # in memory: no file made
    ],
)
def test_settings_and_engines_read_a_url_without_a_driver_alike(typed: str, meant: str) -> None:
    from db.engine import make_engine

    engine = make_engine(typed)  # no connection is made yet

    assert Settings(database_url=typed).database_url == meant
    assert engine.url.render_as_string(hide_password=False) == meant
    engine.dispose()


@pytest.mark.parametrize(
    "url", ["postgresql+asyncpg://db/vigie", "postgresql+psycopg2://db/vigie", "mysql://db/v"]
)
def test_a_driver_vigie_does_not_install_is_refused_with_the_ones_it_does(url: str) -> None:
    with pytest.raises(ValueError, match=r"sqlite:/// or postgresql\+psycopg://"):
        Settings(database_url=url)


def test_fetch_allow_hosts_takes_names_addresses_and_networks() -> None:
    entries = "localhost, example.com., 127.0.0.1, 10.0.0.0/8, ::1, [::1], fd00::/8, my_host"
    assert Settings(fetch_allow_hosts=entries).fetch_allow_hosts == entries


@pytest.mark.parametrize("entry", ["127.0.0.1:8765", "10.0.0.0/33", "http://example.com", "a b"])
def test_fetch_allow_hosts_refuses_what_would_never_match(entry: str) -> None:
    with pytest.raises(ValueError, match="not a host name, IP address or CIDR network") as error:
        Settings(fetch_allow_hosts=f"localhost,{entry}")
    assert entry in str(error.value)


def test_an_unknown_setting_is_matched_only_with_a_close_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    for name in ("VIGIE_DATABSE_URL", "VIGIE_NOPE", "VIGIE_DEBUG"):
        monkeypatch.setenv(name, "1")

    assert _unknown_settings() == [
        "VIGIE_DATABSE_URL (in the environment; did you mean VIGIE_DATABASE_URL?)",
        "VIGIE_DEBUG (in the environment)",
        "VIGIE_NOPE (in the environment)",
    ]


def test_a_bad_value_is_named_with_where_it_came_from(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from flows.settings import get_settings

    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("VIGIE_FEED_INTERVAL_MINUTES=abc\n")
    monkeypatch.setenv("VIGIE_READ_TIMEOUT", "-1")
    get_settings.cache_clear()
    try:
        with pytest.raises(ConfigError) as error:
            get_settings()
    finally:
        get_settings.cache_clear()

    message = str(error.value)
    assert "VIGIE_FEED_INTERVAL_MINUTES (in .env)" in message
    assert "VIGIE_READ_TIMEOUT (in the environment)" in message
