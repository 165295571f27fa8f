"""Where Vigie's settings come from, and the two a reading command needs, without pydantic.

``flows.settings.Settings`` is the one definition of the settings, read with pydantic-settings
from the environment and ``.env``. Importing pydantic-settings and building that class cost a
reading command about 0.04 CPU-s (``docs/cli.md``), for two values: where the database is and
the time zone. When those (``VIGIE_DATABASE_URL``, ``VIGIE_DATA_DIR``, ``VIGIE_TIMEZONE``) are
the only Vigie settings found and are valid, ``reading_settings`` reads them here; the other
settings then hold their defaults, which are valid. Anything else (another setting, an
unknown name, a bad value) goes to ``Settings``, which gives the same values or the same
one-line error as always (``flows.context.database_url`` and ``zone`` choose).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from db.engine import with_installed_driver
from parsers.exceptions import ConfigError
from parsers.times import DEFAULT_TIMEZONE, time_zone

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

#: Settings file read from the working directory, under the environment.
ENV_FILE = ".env"
#: Where the default SQLite database and other local state live (``Settings.data_dir``).
DEFAULT_DATA_DIR = Path("data")
#: Variables the test suite reads for itself; they are not settings of Vigie.
NOT_SETTINGS_PREFIX = "VIGIE_TEST_"
#: The settings a reading command uses.
READING_SETTINGS = frozenset({"VIGIE_DATABASE_URL", "VIGIE_DATA_DIR", "VIGIE_TIMEZONE"})

_INSTALLED_DRIVERS = ("sqlite://", "sqlite+pysqlite://", "postgresql+psycopg://")


def installed_driver_url(value: str) -> str:
    """``VIGIE_DATABASE_URL`` as Vigie uses it; ValueError when it names a driver Vigie does
    not install."""
    value = with_installed_driver(value)
    if value and not value.startswith(_INSTALLED_DRIVERS):
        raise ValueError(
            "must start with sqlite:/// or postgresql+psycopg:// (the drivers Vigie installs)"
        )
    return value


def database_url_in_force(database_url: str, data_dir: Path) -> str:
    """The database URL in force: the setting, or the SQLite file in ``data_dir``."""
    if database_url:
        return database_url
    return f"sqlite:///{(data_dir / 'vigie.db').resolve()}"


def env_file_values() -> dict[str, str | None]:
    """The ``.env`` file's variables, as pydantic-settings reads them (none if no file)."""
    from dotenv import dotenv_values

    return dict(dotenv_values(ENV_FILE, encoding="utf-8"))


@dataclass(frozen=True)
class ReadingSettings:
    """What a reading command needs of the settings."""

    database_url: str
    zone: ZoneInfo


def reading_settings() -> ReadingSettings | None:
    """The database URL in force and the time zone, when they are all the environment and
    ``.env`` set and are valid; None when ``flows.settings.get_settings`` must decide."""
    try:
        stamp = os.stat(ENV_FILE).st_mtime_ns
    except OSError:
        stamp = None
    names = tuple(sorted((k, v) for k, v in os.environ.items() if k.upper().startswith("VIGIE_")))
    return _reading_settings(os.getcwd(), stamp, names)


@lru_cache(maxsize=4)
def _reading_settings(
    cwd: str, env_file_stamp: int | None, environment: tuple[tuple[str, str], ...]
) -> ReadingSettings | None:
    found: dict[str, str | None] = {}
    if env_file_stamp is not None:
        found.update((name.upper(), value) for name, value in env_file_values().items())
    for name, value in environment:
        if name != name.upper():
            return None  # pydantic-settings reads names in any case; let it
        found[name] = value  # the environment wins over .env
    found = {k: v for k, v in found.items() if not k.startswith(NOT_SETTINGS_PREFIX)}
    if set(found) - READING_SETTINGS or None in found.values():
        return None
    data_dir = found.get("VIGIE_DATA_DIR", str(DEFAULT_DATA_DIR))
    try:
        url = installed_driver_url(found.get("VIGIE_DATABASE_URL") or "")
        zone = time_zone(found.get("VIGIE_TIMEZONE", DEFAULT_TIMEZONE) or "")
    except (ValueError, ConfigError):
        return None
    if not data_dir:
        return None
    return ReadingSettings(database_url_in_force(url, Path(data_dir)), zone)
