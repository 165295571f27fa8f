"""Settings, read from the environment and ``.env`` (prefix ``VIGIE_``)."""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from dotenv import dotenv_values
from pydantic import Field, ValidationError, field_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict

from db.engine import with_installed_driver
from parsers.exceptions import ConfigError
from parsers.times import DEFAULT_TIMEZONE, time_zone

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SEEDS_DIR = PROJECT_ROOT / "seeds"
#: Settings file read from the working directory, under the environment.
ENV_FILE = ".env"


class Settings(BaseSettings):
    """Every knob Vigie has; each one can be set as ``VIGIE_<NAME>`` or in ``.env``."""

    # Other keys of .env belong to other tools (Prefect reads the same file); a mistyped
    # Vigie setting is caught by ``get_settings`` instead.
    model_config = SettingsConfigDict(
        env_prefix="VIGIE_", env_file=ENV_FILE, env_file_encoding="utf-8", extra="ignore"
    )

    #: Where the default SQLite database and other local state live.
    data_dir: Path = Path("data")
    #: SQLAlchemy URL of Vigie's database; empty means a SQLite file in ``data_dir``.
    database_url: str = Field("", repr=False)
    #: Folder with the seed articles, the curated feed list and the taxonomy.
    seeds_dir: Path = SEEDS_DIR
    #: The taxonomy file; empty means ``seeds_dir/taxonomy.toml``.
    taxonomy_path: Path | None = None

    #: Contact URL put in the User-Agent so that publishers can reach the operator.
    contact_url: str = "https://github.com/vigie-news/vigie"
    #: Seconds allowed to connect, and to wait between bytes of a response.
    connect_timeout: float = Field(10.0, gt=0)
    read_timeout: float = Field(20.0, gt=0)
    #: Seconds allowed for a whole response, however slowly it trickles in.
    total_timeout: float = Field(60.0, gt=0)
    #: Largest feed and page bodies accepted, in bytes (after decompression).
    max_feed_bytes: int = Field(10_000_000, gt=0)
    max_page_bytes: int = Field(5_000_000, gt=0)
    #: Redirects followed before a fetch is refused.
    max_redirects: int = Field(5, ge=0)
    #: Requests in flight to one host within a run.
    per_host_concurrency: int = Field(2, ge=1)
    #: Prefix of the Prefect global concurrency limits that cap feed requests to one host
    #: across every worker (``vigie-host-`` names ``vigie-host-www-cbc-ca``); empty turns them
    #: off. ``vigie feeds limits`` creates them; while this is set, a missing one fails the fetch.
    host_limit_prefix: str = Field(default="", pattern=r"^[a-z0-9-]*$")
    #: Hosts or CIDRs that may be fetched although private or loopback (comma-separated).
    fetch_allow_hosts: str = ""
    #: Retries of a feed fetch that failed transiently (timeout, 429, 5xx) within one run;
    #: the first waits ``fetch_retry_delay`` seconds, each next one four times longer.
    fetch_retries: int = Field(2, ge=0, le=5)
    fetch_retry_delay: float = Field(2.0, ge=0)
    #: Fetch the article page of new entries whose feed text is shorter than
    #: ``page_min_words``, and extract the full text from it.
    fetch_pages: bool = True
    page_min_words: int = Field(150, ge=0)
    #: New items one feed may bring in one pass; the rest come in the next passes.
    max_new_items_per_feed: int = Field(500, ge=1)
    #: Article pages fetched for one feed in one pass; the other items keep their feed text
    #: until a re-check fetches their page.
    max_pages_per_feed: int = Field(50, ge=0)
    #: Seconds a monitor or re-check pass may take: what is unfinished then waits for the
    #: next pass (feeds not polled stay due, pages not fetched are left to a re-check).
    pass_deadline_seconds: float = Field(600.0, gt=0)
    #: Hours after a story's first article during which another outlet's copy of it raises
    #: no "new article" alert of its own: the story's alert names it ("also covered by").
    story_window_hours: float = Field(48.0, ge=0)
    #: Alert on a feed's backfill too: items published before the feed was added (and, on
    #: its first pass, undated ones). Off: they are stored, tagged and clustered silently.
    alert_on_backfill: bool = False
    #: More relevant new items than this from one feed in one pass become one ``feed_flood``
    #: alert naming the feed and the count, instead of one alert each.
    alert_flood_items: int = Field(20, ge=1)
    #: Change kinds that make an "edited" alert (comma-separated); empty means every kind
    #: but ``body_rewritten``, whose material parts are reported as their own kinds.
    material_change_kinds: str = ""
    #: Minutes between two polls of a healthy feed, unless the feed overrides it.
    feed_interval_minutes: int = Field(15, ge=1)
    #: Worker processes that parse feeds and extract pages beside the flow (``flows.cpu``);
    #: 0 keeps that work in the flow's process. Unset: one per core, none on a single core.
    cpu_workers: int | None = Field(None, ge=0)
    #: Keep those worker processes (each with its tagger and language model) from one run to
    #: the next of the same process, instead of starting them for each run: for a process that
    #: runs many passes (``vigie serve`` turns it on unless it is set). Off, no worker outlives
    #: the run that started it.
    keep_workers: bool = False

    #: Apprise URLs of the "default" alert route, comma-separated (mailtos://, json://, ntfys://).
    #: Secret: they often carry tokens or passwords, so they are left out of the settings' repr.
    alert_urls: str = Field("", repr=False)
    #: The alert rules file; empty means ``seeds_dir/alert_rules.toml``.
    alert_rules_path: Path | None = None
    #: Delivery attempts of one alert before it is marked failed.
    alert_max_attempts: int = Field(6, ge=1, le=100)
    #: Seconds before the first retry of a failed delivery; each next wait doubles, up to the cap.
    alert_backoff_seconds: float = Field(60.0, ge=0)
    #: The longest wait between two delivery attempts, in seconds.
    alert_backoff_max_seconds: float = Field(21600.0, gt=0)
    #: Seconds after which a delivery run's claim is presumed dead and taken over; an alert
    #: whose run died between sending and recording it is then sent a second time.
    alert_claim_timeout_seconds: float = Field(300.0, gt=0)
    #: Alerts one delivery pass claims at most.
    alert_batch_size: int = Field(100, ge=1)
    #: Time zone of every time shown to people: the CLI's tables, alerts, the digest (IANA name).
    timezone: str = DEFAULT_TIMEZONE
    #: Deliver the due alerts at the end of every monitor and re-check run (when a channel
    #: is configured), so that what a run found is sent within a minute of it, not at the
    #: next deliver-alerts run.
    deliver_after_run: bool = True
    #: Hours of news the daily digest covers.
    digest_hours: int = Field(24, ge=1, le=336)
    #: Name of the saved Prefect notification block that automations notify through.
    notification_block: str = ""
    #: The automations file; empty means ``deploy/automations.yaml``.
    automations_path: Path | None = None

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            time_zone(value)
        except ConfigError as exc:
            raise ValueError(f"must be an IANA time zone such as {DEFAULT_TIMEZONE}") from exc
        return value

    @property
    def zone(self) -> ZoneInfo:
        """The time zone in which people read times."""
        return time_zone(self.timezone)

    @property
    def resolved_alert_rules_path(self) -> Path:
        """The alert rules file in force."""
        return self.alert_rules_path or self.seeds_dir / "alert_rules.toml"

    @property
    def resolved_automations_path(self) -> Path:
        """The automations file in force."""
        return self.automations_path or PROJECT_ROOT / "deploy" / "automations.yaml"

    @property
    def fetch_allow_list(self) -> tuple[str, ...]:
        """``fetch_allow_hosts``, one entry each (validated: each is a host name or network)."""
        return tuple(_entries(self.fetch_allow_hosts))

    @property
    def alert_url_list(self) -> list[str]:
        """The default route's Apprise URLs (secret: show them only through ``redact``)."""
        return _entries(self.alert_urls)

    @field_validator("material_change_kinds")
    @classmethod
    def _known_change_kinds(cls, value: str) -> str:
        chosen = {k.strip() for k in value.split(",") if k.strip()}
        if not chosen:
            return value  # the default: no need to load the word differ for its list
        from parsers.diffs import CHANGE_KINDS

        unknown = chosen - set(CHANGE_KINDS)
        if unknown:
            raise ValueError(f"unknown change kinds {sorted(unknown)}; known: {CHANGE_KINDS}")
        return value

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        value = with_installed_driver(value)
        if value and not value.startswith(_INSTALLED_DRIVERS):
            raise ValueError(
                "must start with sqlite:/// or postgresql+psycopg:// (the drivers Vigie installs)"
            )
        return value

    @field_validator("fetch_allow_hosts")
    @classmethod
    def _hosts_or_networks(cls, value: str) -> str:
        bad = [entry for entry in _entries(value) if not _is_host_or_network(entry)]
        if bad:
            raise ValueError(
                f"not a host name, IP address or CIDR network (and no port): {', '.join(bad)}"
            )
        return value

    @property
    def resolved_cpu_workers(self) -> int:
        """Worker processes in force (see ``cpu_workers``)."""
        if self.cpu_workers is not None:
            return self.cpu_workers
        cores = os.cpu_count() or 1
        return cores if cores > 1 else 0

    @property
    def resolved_database_url(self) -> str:
        """The database URL in force: the setting, or the default SQLite file."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'vigie.db').resolve()}"

    @property
    def resolved_taxonomy_path(self) -> Path:
        """The taxonomy file in force."""
        return self.taxonomy_path or self.seeds_dir / "taxonomy.toml"

    @property
    def fetch_retry_delays(self) -> list[float]:
        """Seconds before each retry of a transiently failed fetch."""
        return [self.fetch_retry_delay * 4**n for n in range(self.fetch_retries)]

    @property
    def user_agent(self) -> str:
        """Descriptive User-Agent, so publishers know who polls them and how to object."""
        return f"Vigie/0.1 (news monitoring; +{self.contact_url})"


_INSTALLED_DRIVERS = ("sqlite://", "sqlite+pysqlite://", "postgresql+psycopg://")
_HOST_NAME = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)(\.(?!-)[a-z0-9_-]{1,63}(?<!-))*\.?", re.I)


def _entries(value: str) -> list[str]:
    return [entry.strip() for entry in value.split(",") if entry.strip()]


def _is_host_or_network(entry: str) -> bool:
    try:
        ipaddress.ip_network(entry.strip("[]"), strict=False)
    except ValueError:
        return len(entry) <= 253 and _HOST_NAME.fullmatch(entry) is not None
    return True


# Variables the test suite reads for itself; they are not settings of Vigie.
_NOT_SETTINGS_PREFIX = "VIGIE_TEST_"


def _unknown_settings() -> list[str]:
    """``VIGIE_*`` names, in the environment or in ``.env``, that match no setting, each with
    where it was found: a typo would otherwise be silently ignored."""
    known = _setting_names()
    found = {(name, "the environment") for name in os.environ}
    found |= {(name.upper(), ENV_FILE) for name in dotenv_values(ENV_FILE)}
    return [
        f"{name} (in {origin}{_suggestion(name)})"
        for name, origin in sorted(found)
        if name.startswith("VIGIE_")
        and not name.startswith(_NOT_SETTINGS_PREFIX)
        and name not in known
    ]


def _setting_names() -> list[str]:
    return [f"VIGIE_{field.upper()}" for field in Settings.model_fields]


def _suggestion(name: str) -> str:
    # Compared without the prefix every name shares, which alone would make any two close.
    fields = [field.upper() for field in Settings.model_fields]
    close = difflib.get_close_matches(name.removeprefix("VIGIE_"), fields, n=1)
    return f"; did you mean VIGIE_{close[0]}?" if close else ""


def _problem(error: ErrorDetails) -> str:
    name = "VIGIE_" + "_".join(str(part) for part in error["loc"]).upper()
    # The environment wins over .env: a bad value is in .env only if the environment has none.
    in_environment = name in {key.upper() for key in os.environ}  # names are case-blind
    origin = "the environment" if in_environment else ENV_FILE
    return f"{name} (in {origin}): {error['msg']}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; a bad value raises ``ConfigError`` naming what to fix."""
    unknown = _unknown_settings()
    if unknown:
        raise ConfigError(f"unknown setting: {', '.join(unknown)}")
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(_problem(error) for error in exc.errors())
        raise ConfigError(f"invalid settings: {problems}") from exc
