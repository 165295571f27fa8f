"""The seed articles and the curated feed list, read from the project's ``seeds/`` folder.

Seed texts are kept byte for byte as supplied; their metadata lives beside them in
``seeds.toml`` so that the texts never have to be edited.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from parsers.exceptions import ConfigError

SEED_URL_PREFIX = "urn:vigie:seed:"


@dataclass(frozen=True)
class SeedDocument:
    """A seed article and what is known about it."""

    #: File stem, e.g. ``000_e1b8015c5445bc90``; also the seed's identity.
    key: str
    title: str
    #: The file's text, exactly as supplied.
    text: str
    language: str
    #: Publication date where the text gives one.
    published_on: date | None
    #: Where the seed came from and how far its date can be trusted.
    source_note: str

    @property
    def url(self) -> str:
        """A stable identifier in place of the URL the seed never had."""
        return SEED_URL_PREFIX + self.key

    @property
    def published_at(self) -> datetime | None:
        """Publication date as a UTC midnight timestamp."""
        if self.published_on is None:
            return None
        return datetime(*self.published_on.timetuple()[:3], tzinfo=UTC)


@dataclass(frozen=True)
class FeedListing:
    """One feed of the curated list."""

    name: str
    url: str
    language: str
    #: What kind of source it is: government, outlet or search.
    kind: str
    #: Whether the URL was seen to serve a feed (false: taken from the publisher's site).
    verified: bool
    note: str


def load_seeds(seeds_dir: Path) -> list[SeedDocument]:
    """The seed documents listed in ``seeds_dir/seeds.toml``, in file order."""
    manifest = _read_toml(seeds_dir / "seeds.toml")
    return [_seed(seeds_dir, item) for item in manifest.get("seed", [])]


def _seed(seeds_dir: Path, item: dict[str, Any]) -> SeedDocument:
    try:
        path = seeds_dir / item["file"]
        published = item.get("published_on")
        return SeedDocument(
            key=path.stem,
            title=item["title"],
            text=path.read_text(encoding="utf-8"),
            language=item["language"],
            published_on=published if isinstance(published, date) else None,
            source_note=item["source_note"],
        )
    except KeyError as exc:
        raise ConfigError(f"seeds.toml: a [[seed]] entry lacks {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"seeds.toml: cannot read seed file: {exc}") from exc


def load_feed_list(path: Path) -> list[FeedListing]:
    """The curated feeds in a ``feeds.toml`` file."""
    listing = _read_toml(path)
    try:
        return [
            FeedListing(
                name=item["name"],
                url=item["url"],
                language=item["language"],
                kind=item.get("kind", "outlet"),
                verified=bool(item.get("verified", False)),
                note=item.get("note", ""),
            )
            for item in listing.get("feed", [])
        ]
    except KeyError as exc:
        raise ConfigError(f"{path.name}: a [[feed]] entry lacks {exc}") from exc


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"cannot read {path.name}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name} is not valid TOML: {exc}") from exc
