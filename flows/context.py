"""Process-wide resources built once: settings, engine, session factory, tagger.

Flows call these instead of building their own, so a `serve` process or a worker reuses one
connection pool and one compiled taxonomy across runs.
"""

from __future__ import annotations

import gc
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from db.engine import make_engine, make_sessions
from flows.settings import get_settings

if TYPE_CHECKING:  # loaded by the functions that use them: the CLI's reading commands need none
    from db.versions import VersionPolicy
    from parsers.tagging import Tagger
    from parsers.taxonomy import Taxonomy


@lru_cache(maxsize=4)
def engine_for(url: str) -> Engine:
    """One engine per database URL for the life of the process."""
    return make_engine(url)


def engine() -> Engine:
    """The engine for the configured database."""
    return engine_for(get_settings().resolved_database_url)


@lru_cache(maxsize=4)
def _sessions_for(url: str) -> sessionmaker[Session]:
    return make_sessions(engine_for(url))


def sessions() -> sessionmaker[Session]:
    """The session factory for the configured database."""
    return _sessions_for(get_settings().resolved_database_url)


@lru_cache(maxsize=4)
def _migrated(url: str) -> bool:
    from db.migrate import upgrade  # Alembic (and Mako) cost a reading command 0.1 s

    upgrade(engine_for(url))
    return True


def ensure_schema() -> None:
    """Upgrade the configured database to the latest schema (once per process)."""
    _migrated(get_settings().resolved_database_url)


@lru_cache(maxsize=4)
def taxonomy_at(path: Path) -> Taxonomy:
    """The taxonomy in a file, parsed once."""
    from parsers.taxonomy import load_taxonomy

    return load_taxonomy(path)


@lru_cache(maxsize=4)
def _tagger_for(path: Path) -> Tagger:
    from parsers.tagging import Tagger

    return Tagger(taxonomy_at(path))


def tagger() -> Tagger:
    """The tagger for the configured taxonomy (its automaton is built once)."""
    return _tagger_for(get_settings().resolved_taxonomy_path)


@lru_cache(maxsize=1)
def freeze_startup_heap() -> None:
    """Exempt what the process holds now from garbage collection; once per process.

    A flow's imports (Prefect, SQLAlchemy, trafilatura: about 200,000 objects) live as long
    as the process, and every full collection would walk them again: 0.12 s each, a quarter
    of a pass that finds nothing new. Collected first, so that no garbage is frozen with them.
    What is frozen is never collected, so a process that runs many flows (tests) keeps what
    the first one held; a served flow run has a process of its own.
    """
    gc.collect()
    gc.freeze()


def reset() -> None:
    """Forget every cached resource (tests switch databases and settings)."""
    get_settings.cache_clear()
    for cached in (engine_for, _sessions_for, _migrated, taxonomy_at, _tagger_for):
        cached.cache_clear()


def version_policy() -> VersionPolicy:
    """Versioning policy from the settings (which change kinds are worth an alert)."""
    from db.versions import VersionPolicy

    kinds = get_settings().material_change_kinds
    chosen = frozenset(k.strip() for k in kinds.split(",") if k.strip())
    return VersionPolicy(material=chosen) if chosen else VersionPolicy()


def start_temporary_prefect_server() -> None:
    """Start Prefect's temporary server now, if it is the one in use (no ``PREFECT_API_URL``).

    Call it from the main thread before ``asyncio.run``. Left to the flow, the start blocks
    asyncio's loop, where Ctrl-C only marks the flow cancelled: the command then waited out
    the start-up timeout (120 s) for a server the same Ctrl-C had stopped, and ended with a
    traceback (measured). Outside the loop, Ctrl-C interrupts the wait at once.
    """
    from prefect.settings import PREFECT_API_URL

    if PREFECT_API_URL.value():
        return  # a real server; importing Prefect's server package would cost a second
    from prefect.server.api.server import SubprocessASGIServer

    SubprocessASGIServer().start()  # the one instance Prefect's client will then use
