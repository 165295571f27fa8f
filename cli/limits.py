"""``vigie feeds limits``: one Prefect global concurrency limit per feed host.

With ``VIGIE_HOST_LIMIT_PREFIX`` set, every feed request the fetcher sends holds a slot of
the limit named for the feed's host, so that all workers together keep to
``VIGIE_PER_HOST_CONCURRENCY`` feed requests in flight per host. This command creates those
limits, or brings their size up to date, from the feeds in the database. Run it again after
adding feeds: a fetch whose limit is missing fails with a message saying so. Article pages
are not covered (their hosts are open-ended); each run still caps them per host.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from cli.opml import feeds_group
from cli.output import fail, out
from parsers.exceptions import FetchError, VigieError


@dataclass(frozen=True)
class LimitChange:
    """What ``feeds limits`` did to one Prefect limit."""

    #: The limit's name, e.g. ``vigie-host-www-cbc-ca``.
    name: str
    #: How many feeds share it.
    feeds: int
    #: created, updated or unchanged.
    action: str


def register(app: typer.Typer) -> None:
    """Add ``limits`` to the ``feeds`` group of ``app``."""
    feeds_group(app).command("limits")(limits_command)


def limits_command(
    slot_decay: Annotated[
        float,
        typer.Option(
            "--slot-decay",
            min=0.0,
            help="Slots freed per second whether or not released. Leave 0 for a pure "
            "concurrency cap: Prefect's leases already free the slots of a worker that died.",
        ),
    ] = 0.0,
) -> None:
    """Create or update the per-host Prefect concurrency limits for every feed's host.

    Each limit allows VIGIE_PER_HOST_CONCURRENCY requests at once; the fetcher uses them when
    VIGIE_HOST_LIMIT_PREFIX is set. Needs a Prefect server (PREFECT_API_URL).
    """
    import asyncio

    from db import queries
    from fetching.fetcher import DEFAULT_HOST_LIMIT_PREFIX, HOST_LIMIT_SETTING  # httpx: here only
    from flows import context
    from flows.settings import get_settings

    try:
        settings = get_settings()
        _require_prefect_server()
        prefix = settings.host_limit_prefix or DEFAULT_HOST_LIMIT_PREFIX
        with context.sessions().begin() as session:
            urls = [feed.url for feed in queries.list_feeds(session)]
        wanted = feeds_per_limit(prefix, urls)
        changes = asyncio.run(_apply(wanted, settings.per_host_concurrency, slot_decay))
    except VigieError as exc:
        fail(exc)
    _print_changes(changes, settings.per_host_concurrency)
    if not settings.host_limit_prefix:
        out.print(Text(f"The fetcher uses these limits once {HOST_LIMIT_SETTING}={prefix} is set."))


def feeds_per_limit(prefix: str, urls: Iterable[str]) -> dict[str, int]:
    """Limit name -> how many of ``urls`` it covers (URLs that are not http(s) are left out)."""
    from fetching.fetcher import host_limit_name

    names: Counter[str] = Counter()
    for url in urls:
        try:
            names[host_limit_name(prefix, url)] += 1
        except FetchError:
            continue  # the fetcher refuses it before any limit matters
    return dict(sorted(names.items()))


def _require_prefect_server() -> None:
    from prefect.settings import get_current_settings

    if get_current_settings().api.url is None:
        # Without one, Prefect would start a temporary server whose limits die with it.
        raise VigieError(
            "no Prefect server is configured: set PREFECT_API_URL to the server the "
            "workers use (limits on a temporary server would vanish with this command)"
        )


async def _apply(wanted: Mapping[str, int], limit: int, decay: float) -> list[LimitChange]:
    import httpx
    from prefect import get_client

    try:
        async with get_client() as client:
            return [
                LimitChange(name, feeds, await _upsert(client, name, limit, decay))
                for name, feeds in wanted.items()
            ]
    except httpx.HTTPError as exc:
        raise VigieError(f"the Prefect server refused or did not answer: {exc}") from exc


async def _upsert(client: Any, name: str, limit: int, decay: float) -> str:
    from prefect.client.schemas.actions import (
        GlobalConcurrencyLimitCreate,
        GlobalConcurrencyLimitUpdate,
    )
    from prefect.exceptions import ObjectNotFound

    try:
        existing = await client.read_global_concurrency_limit_by_name(name)
    except ObjectNotFound:
        create = GlobalConcurrencyLimitCreate(name=name, limit=limit, slot_decay_per_second=decay)
        await client.create_global_concurrency_limit(create)
        return "created"
    if (existing.limit, existing.slot_decay_per_second, existing.active) == (limit, decay, True):
        return "unchanged"
    update = GlobalConcurrencyLimitUpdate(limit=limit, slot_decay_per_second=decay, active=True)
    await client.update_global_concurrency_limit(name, update)
    return "updated"


def _print_changes(changes: list[LimitChange], limit: int) -> None:
    table = Table("limit", "feeds", "action", title=f"Per-host limits ({limit} at once)")
    for change in changes:
        table.add_row(Text(change.name), str(change.feeds), change.action)
    out.print(table)
    counts = Counter(change.action for change in changes)
    summary = ", ".join(f"{counts[a]} {a}" for a in ("created", "updated", "unchanged"))
    out.print(f"{len(changes)} hosts: {summary}.")
