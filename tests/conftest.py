"""Shared fixtures: real databases (a SQLite file, a fresh PostgreSQL database), a real Prefect
server for flow tests, loopback HTTP servers, the project's tagger and an alert outbox."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from tests.loopback import LoopbackServer, serving

if TYPE_CHECKING:
    from parsers.tagging import Tagger
    from tests.alerting import Outbox

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

# The admin connection used to create a throwaway database per test; CI passes it explicitly.
POSTGRES_ADMIN_URL = os.environ.get(
    "VIGIE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_unreachable_reason() -> str | None:
    engine = create_engine(POSTGRES_ADMIN_URL)
    try:
        with engine.connect():
            return None
    except OperationalError as exc:
        return f"no PostgreSQL reachable at {POSTGRES_ADMIN_URL}: {exc.orig}"
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """The admin URL, or a skip (a failure under CI, where PostgreSQL must run)."""
    reason = _postgres_unreachable_reason()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PostgreSQL tests, but {reason}")
        pytest.skip(reason)
    return POSTGRES_ADMIN_URL


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"vigie_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield str(admin.url.set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file in the test's own directory."""
    return f"sqlite:///{tmp_path / 'vigie.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test using this runs once on a SQLite file and once on PostgreSQL."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on ``database_url`` with the schema migrated to the latest revision."""
    from db.engine import make_engine
    from db.migrate import upgrade

    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def tagger() -> Tagger:
    """The tagger for the project's taxonomy, built once."""
    from parsers.tagging import Tagger
    from parsers.taxonomy import load_taxonomy

    return Tagger(load_taxonomy(Path(__file__).resolve().parent.parent / "seeds" / "taxonomy.toml"))


@pytest.fixture
def box(database_url: str) -> Iterator[Outbox]:
    """An alert outbox on ``database_url``."""
    from tests.alerting import Outbox

    box = Outbox(database_url)
    yield box
    box.close()


@pytest.fixture
def vigie_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sqlite_url: str
) -> Iterator[pytest.MonkeyPatch]:
    """Settings for one test: its own data directory and database, loopback fetches allowed."""
    from flows import context

    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout
    monkeypatch.setenv("VIGIE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("VIGIE_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("VIGIE_FETCH_ALLOW_HOSTS", "127.0.0.1")
    monkeypatch.setenv("VIGIE_FETCH_RETRY_DELAY", "0.05")
    # The test feeds carry fixed dates, older than the feeds each test adds: they would all
    # be a backfill. The tests of the backfill turn this off again.
    monkeypatch.setenv("VIGIE_ALERT_ON_BACKFILL", "true")
    context.reset()
    yield monkeypatch
    context.reset()


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """A real, temporary Prefect server (with its own SQLite) for the whole session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        yield


@pytest.fixture
def http_server() -> Iterator[LoopbackServer]:
    """A loopback HTTP server the test fills with routes."""
    with serving() as server:
        yield server
