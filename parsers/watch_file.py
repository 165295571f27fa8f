"""Adding and removing watches in the rules file's text, keeping everything else as written.

``vigie watch add`` and ``remove`` edit the file an analyst or an administrator may also
edit by hand, so comments, order and spacing stay; the result is checked as a whole rules
file before it replaces the old one (``parse_rules``), so a command never leaves a file
that the next run refuses.
"""

from __future__ import annotations

from collections.abc import Sequence

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import Table

from parsers.alert_rules import AlertRules, Mode, parse_rules
from parsers.exceptions import ConfigError


def add_watch(
    text: str,
    name: str,
    query: str,
    *,
    channels: Sequence[str] | None = None,
    mode: Mode | None = None,
    source: str = "alert rules",
) -> str:
    """The rules text with watch ``name`` added (or replaced), checked."""
    document = _document(text, source)
    watches = document.get("watches")
    if watches is None:
        watches = tomlkit.table(is_super_table=True)
        document.add(tomlkit.nl())
        document.add("watches", watches)
    if not isinstance(watches, Table):
        raise ConfigError(f"{source}: watches: must be a table")
    watch = tomlkit.table()
    watch.add("query", query)
    if channels:
        watch.add("channels", list(channels))
    if mode:
        watch.add("mode", mode)
    if name in watches:
        watches.remove(name)
    watches.add(name, watch)
    return _checked(document, source)


def remove_watch(text: str, name: str, *, source: str = "alert rules") -> str:
    """The rules text without watch ``name``; ``ConfigError`` when it has none of that name."""
    document = _document(text, source)
    watches = document.get("watches")
    if not isinstance(watches, Table) or name not in watches:
        raise ConfigError(f"no watch named {name!r} in {source} (see `vigie watch list`)")
    watches.remove(name)
    return _checked(document, source)


def _document(text: str, source: str) -> tomlkit.TOMLDocument:
    parse_rules(text, source)  # the file's own problems are named before any edit
    try:
        return tomlkit.parse(text)
    except TOMLKitError as exc:  # pragma: no cover - tomllib accepted it
        raise ConfigError(f"{source} is not valid TOML: {exc}") from exc


def _checked(document: tomlkit.TOMLDocument, source: str) -> str:
    text = tomlkit.dumps(document)
    text = text if text.endswith("\n") else text + "\n"
    _rules: AlertRules = parse_rules(text, source)
    return text
