"""The options every article listing takes (``vigie search``, ``vigie articles``,
``vigie watch test``), declared once so that their names and help stay the same.

A command takes them as parameters typed with these aliases and turns the six filters into
``ArticleFilters`` with ``filters_from``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:  # the query layer loads with the commands that list, not with every command
    from db.search import ArticleFilters

TopicOption = Annotated[
    str | None, typer.Option(help="Only articles about this topic key (see `vigie tagging`).")
]
SinceOption = Annotated[
    str | None,
    typer.Option(help="Published (else first seen) on or after: 2026-12-01, an ISO time or 7d."),
]
UntilOption = Annotated[
    str | None, typer.Option(help="Published (else first seen) before: 2026-12-08 or 7d.")
]
OutletOption = Annotated[
    str | None, typer.Option(help="Only outlets whose name or host contains this (any case).")
]
LanguageOption = Annotated[str | None, typer.Option(help="Only this language: en, fr, ...")]
RelevantOption = Annotated[bool, typer.Option(help="Only relevant articles.")]
LimitOption = Annotated[int | None, typer.Option(help="At most this many.", min=1)]


def filters_from(
    topic: str | None,
    since: str | None,
    until: str | None,
    outlet: str | None,
    language: str | None,
    relevant: bool,
    now: datetime | None = None,
) -> ArticleFilters:
    """The filter options as ``ArticleFilters``; a date that cannot be read is a
    ``typer.BadParameter`` naming the option and what to write."""
    from db.search import ArticleFilters

    now = now or datetime.now(UTC)
    return ArticleFilters(
        topic=topic or None,
        since=_moment(since, "--since", now),
        until=_moment(until, "--until", now),
        outlet=outlet or None,
        language=language or None,
        relevant=relevant,
    )


def _moment(value: str | None, option: str, now: datetime) -> datetime | None:
    if not value:
        return None
    text = value.strip()
    if text[:-1].isdigit() and text[-1:] in ("d", "h"):
        amount = int(text[:-1])
        return now - (timedelta(days=amount) if text[-1] == "d" else timedelta(hours=amount))
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date: write 2026-12-01, 2026-12-01T09:30 or 7d (days ago)",
            param_hint=option,
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
