"""Process-wide resources built once: settings, engine, session factory, tagger.

Flows call these instead of building their own, so a `serve` process or a worker reuses one
connection pool and one compiled taxonomy across runs.
"""

from __future__ import annotations

import gc
import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from db.engine import make_engine, make_sessions
from flows.settings import get_settings

if TYPE_CHECKING:  # loaded by the functions that use them: the CLI's reading commands need none
    from sqlalchemy import Connection, Engine
    from sqlalchemy.orm import Session, sessionmaker

    from db.versions import VersionPolicy
    from fetching.fetcher import Fetcher, FetchPolicy
    from flows.cpu import CpuPool
    from parsers.alert_rules import Watch
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


@contextmanager
def reading() -> Iterator[Connection]:
    """A connection to the configured database, in one transaction: what the reading
    commands query, through SQLAlchemy Core (the ORM would cost each 0.1 s to load)."""
    with engine().begin() as connection:
        yield connection


@lru_cache(maxsize=4)
def _migrated(url: str) -> bool:
    from db.migrate import upgrade_if_behind  # Alembic only when there is something to do

    upgrade_if_behind(engine_for(url))
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
    of a pass that finds nothing new. The young generations are collected first, so that
    little garbage is frozen with them; a full collection would cost 0.09-0.16 s to find a
    few hundred objects more. What is frozen is never collected, so a process that runs
    many flows (`vigie serve`, tests) keeps what its first run held when it froze: the
    imports and the process-wide resources of this module, which it keeps anyway; later
    runs' garbage is collected.
    """
    gc.collect(1)
    gc.freeze()


def forget_database() -> None:
    """Read the settings again, keeping the tagger and worker processes: a long-lived
    process that moves to another database (the benchmark's warm pass)."""
    get_settings.cache_clear()


#: Worker pools kept across runs (``keep_workers``), by worker count and taxonomy.
_kept_pools: dict[tuple[int, Path], CpuPool] = {}


def cpu_pool() -> CpuPool:
    """The worker processes for a run: this process's kept ones with ``keep_workers``, else
    a pool of the run's own, stopped when the run ends."""
    from flows.cpu import CpuPool  # here: it imports the parsers of every document kind

    settings = get_settings()
    key = (settings.resolved_cpu_workers, settings.resolved_taxonomy_path)
    if not settings.keep_workers:
        return CpuPool(*key)
    if key not in _kept_pools:
        _kept_pools[key] = CpuPool(*key, keep=True)
    return _kept_pools[key]


def stop_kept_workers() -> None:
    """Stop the kept worker processes, if any (the next run starts new ones)."""
    while _kept_pools:
        _kept_pools.popitem()[1].close()


@lru_cache(maxsize=4)
def _api_tls_for(cert_file: str, insecure: bool) -> ssl.SSLContext:
    if insecure:
        tls = ssl.create_default_context()
        tls.check_hostname = False
        tls.verify_mode = ssl.CERT_NONE
        return tls
    return ssl.create_default_context(cafile=cert_file)


def prefect_api_tls() -> ssl.SSLContext:
    """The TLS context Prefect's API clients check the server with, built once per process
    and per setting, as Prefect builds it for each client: from ``PREFECT_API_SSL_CERT_FILE``
    or else certifi's CA bundle, unverified only with ``PREFECT_API_TLS_INSECURE_SKIP_VERIFY``.

    Prefect builds a new one for every client, even for an ``http://`` API, and loading the
    CA bundle costs 13-40 ms of CPU each time: two clients an event loop (the engine's and
    the synchronous one that reads the result storage), a third of the CPU of a pass that
    finds every feed unchanged. Not the fetcher's context: httpcore sets the ALPN protocols
    on the context it connects with, and Prefect's clients may speak HTTP/2
    (``PREFECT_API_ENABLE_HTTP2``) where the fetcher never does.
    """
    import certifi
    from prefect.settings import PREFECT_API_SSL_CERT_FILE, PREFECT_API_TLS_INSECURE_SKIP_VERIFY

    cert_file = PREFECT_API_SSL_CERT_FILE.value() or certifi.where()
    return _api_tls_for(cert_file, bool(PREFECT_API_TLS_INSECURE_SKIP_VERIFY.value()))


@asynccontextmanager
async def prefect_clients() -> AsyncIterator[None]:
    """Open the Prefect clients of this event loop, asynchronous and synchronous, with the
    process's TLS context (``prefect_api_tls``), for every run, task and artifact inside
    the block; the ones already open for this loop, if any, are used as they are.

    Prefect's engine and ``get_client`` take the clients of the current client contexts.
    Those made here are the contexts Prefect's ``get_or_create`` would make, but for the
    client's TLS context, which Prefect's settings cannot pass: ``model_construct`` leaves
    them the default settings (none), which ``get_client()`` looks for.
    """
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.context import AsyncClientContext, SyncClientContext

    settings = {"verify": prefect_api_tls()}
    current = AsyncClientContext.get()
    if current is not None and current.client.loop is asyncio.get_running_loop():
        async_clients = current
    else:
        own = get_client(httpx_settings=settings)
        async_clients = AsyncClientContext.model_construct(client=own)
    sync_clients = SyncClientContext.get() or SyncClientContext.model_construct(
        client=get_client(settings, sync_client=True)
    )
    # Entering a context that is already open only counts one more user of it.
    async with async_clients:
        with sync_clients:
            yield


#: The fetchers kept by ``warm_loop`` for the runs of one event loop, by fetch policy; None
#: outside it.
_kept_fetchers: ContextVar[dict[FetchPolicy, Fetcher] | None] = ContextVar(
    "vigie_kept_fetchers", default=None
)


@asynccontextmanager
async def warm_loop() -> AsyncIterator[None]:
    """Keep, for every run started inside the block on this event loop, one Prefect client
    and one fetcher per fetch policy (its HTTP clients and their open connections), instead
    of a run making its own; close them when the block ends.

    For a process that runs many flows on one event loop (``vigie serve``). HTTP clients and
    the Prefect client belong to the event loop they were opened on, so they are kept for
    one loop, never the process. Runs inherit the block's context: flows get the fetcher
    from ``fetcher``, Prefect's engine and ``get_client`` the client.

    Prefect's engine also makes a synchronous client for every flow run, to read the
    server's result storage; one is kept here too (``prefect_clients``).
    """
    import anyio

    fetchers: dict[FetchPolicy, Fetcher] = {}
    token = _kept_fetchers.set(fetchers)
    try:
        async with prefect_clients():
            yield
    finally:
        _kept_fetchers.reset(token)
        with anyio.CancelScope(shield=True):  # closed even when the loop is being cancelled
            for kept in fetchers.values():
                await kept.aclose()


@asynccontextmanager
async def fetcher(policy: FetchPolicy) -> AsyncIterator[Fetcher]:
    """A fetcher for one run: ``warm_loop``'s for this policy inside one, left open for the
    next run; else the run's own, closed when the run is done with it."""
    from fetching.fetcher import Fetcher

    kept = _kept_fetchers.get()
    if kept is None:
        async with Fetcher(policy) as own:
            yield own
        return
    if policy not in kept:
        kept[policy] = Fetcher(policy)
    yield kept[policy]


def reset() -> None:
    """Forget every cached resource (tests switch databases and settings)."""
    stop_kept_workers()
    get_settings.cache_clear()
    for cached in (
        engine_for,
        _sessions_for,
        _migrated,
        taxonomy_at,
        _tagger_for,
        _watches_at,
        _api_tls_for,
    ):
        cached.cache_clear()


def version_policy() -> VersionPolicy:
    """Versioning policy from the settings (which change kinds are worth an alert) and the
    rules file's watches, which a rules file that cannot be read stops with its one line."""
    from db.versions import VersionPolicy
    from parsers.diffs import MATERIAL_KINDS

    settings = get_settings()
    chosen = frozenset(k.strip() for k in settings.material_change_kinds.split(",") if k.strip())
    return VersionPolicy(material=chosen or MATERIAL_KINDS, watches=watches())


def watches() -> tuple[Watch, ...]:
    """The rules file's watches, read again when the file changes (``vigie watch add``
    while a served flow runs); none when there is no rules file."""
    path = get_settings().resolved_alert_rules_path
    try:
        stamp = path.stat().st_mtime_ns
    except FileNotFoundError:
        return ()
    return _watches_at(path, stamp)


@lru_cache(maxsize=4)
def _watches_at(path: Path, stamp: int) -> tuple[Watch, ...]:
    from parsers.alert_rules import load_rules

    return tuple(load_rules(path).watches.values())


def start_temporary_prefect_server() -> None:
    """Start Prefect's temporary server now, if it is the one in use (no ``PREFECT_API_URL``).

    Call it from the main thread before ``asyncio.run``. Left to the flow, the start blocks
    asyncio's loop, where Ctrl-C only marks the flow cancelled: the command would wait out
    the start-up timeout (120 s) for a server the same Ctrl-C stopped, and end with a
    traceback. Outside the loop, Ctrl-C interrupts the wait at once.
    """
    from prefect.settings import PREFECT_API_URL

    if PREFECT_API_URL.value():
        return  # a real server; importing Prefect's server package would cost a second
    from prefect.server.api.server import SubprocessASGIServer

    SubprocessASGIServer().start()  # the one instance Prefect's client will then use
