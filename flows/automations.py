"""``vigie automations apply``: the automations of ``deploy/automations.yaml`` on the server.

Each automation is matched by name: created when missing, updated in place when present
(extra copies with the same name, left by hand edits, are deleted), so applying is idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import yaml
from pydantic import ValidationError

from parsers.exceptions import ConfigError
from parsers.inert import clean
from parsers.redact import redact


@dataclass(frozen=True)
class Applied:
    """What applying did to one automation."""

    name: str
    #: created, updated or unchanged.
    action: str
    id: UUID | None


def load_specs(path: Path) -> list[dict[str, Any]]:
    """The automation definitions of a YAML file (``automations:`` list)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read {path.name}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path.name} is not valid YAML: {clean(exc, None)}") from exc
    specs = data.get("automations") if isinstance(data, dict) else None
    if not isinstance(specs, list) or not all(isinstance(s, dict) and s.get("name") for s in specs):
        raise ConfigError(f"{path.name}: expected an `automations:` list of named automations")
    return specs


def build(specs: list[dict[str, Any]], block_document_id: UUID) -> list[Any]:
    """Automation objects, with the notification block filled into every notify action."""
    from prefect.automations import Automation

    automations = []
    for spec in specs:
        actions = [_with_block(a, block_document_id) for a in spec.get("actions", [])]
        try:
            automations.append(Automation.model_validate({**spec, "actions": actions}))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ConfigError(f"automation {spec['name']!r}: {where}: {first['msg']}") from None
    return automations


def _with_block(action: dict[str, Any], block_document_id: UUID) -> dict[str, Any]:
    if action.get("type") == "send-notification" and not action.get("block_document_id"):
        return {**action, "block_document_id": block_document_id}
    return action


def notification_block_id(block_name: str) -> UUID:
    """The document id of the saved notification block named ``block_name``."""
    from prefect.blocks.abstract import NotificationBlock
    from prefect.blocks.core import Block

    if not block_name:
        raise ConfigError(
            "set VIGIE_NOTIFICATION_BLOCK to the name of a saved Prefect notification block "
            "(for example a custom-webhook/vigie-ops block)"
        )
    try:
        block = Block.load(block_name, _sync=True)  # type: ignore[call-arg]
    except (ValueError, RuntimeError) as exc:
        raise ConfigError(f"cannot load the notification block {block_name!r}: {exc}") from None
    if not isinstance(block, NotificationBlock) or block._block_document_id is None:
        raise ConfigError(f"block {block_name!r} is not a saved notification block")
    return block._block_document_id


def apply(path: Path, block_name: str) -> list[Applied]:
    """Create or update every automation of ``path`` on the configured Prefect server."""
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        # Without it Prefect would start a throwaway server and apply them there, uselessly.
        raise ConfigError("set PREFECT_API_URL to the Prefect server the automations belong on")
    automations = build(load_specs(path), notification_block_id(block_name))
    try:
        return [_apply_one(automation) for automation in automations]
    except Exception as exc:
        if isinstance(exc, ConfigError):
            raise
        problem = redact(f"{type(exc).__name__}: {exc}")
        raise ConfigError(f"cannot apply automations on the Prefect server: {problem}") from None


def _apply_one(automation: Any) -> Applied:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        existing = client.read_automations_by_name(automation.name)
        if not existing:
            automation.create(_sync=True)
            return Applied(automation.name, "created", automation.id)
        keep, *extra = existing
        for duplicate in extra:
            client.delete_automation(duplicate.id)
        if same_automation(automation, keep):
            return Applied(automation.name, "unchanged", keep.id)
        client.update_automation(automation_id=keep.id, automation=_core(automation))
        return Applied(automation.name, "updated", keep.id)


def same_automation(wanted: Any, current: Any) -> bool:
    """Whether two automations say the same, ids aside."""
    # Python mode, not JSON: sets (a trigger's ``expect``) must compare as sets; their JSON
    # lists follow an iteration order that can differ between two equal sets.
    return bool(_core(wanted).model_dump() == _core(current).model_dump())


def _core(automation: Any) -> Any:
    from prefect.events.schemas.automations import AutomationCore

    # The server refuses owner_resource in an update, even as null: leave it unset.
    return AutomationCore(**automation.model_dump(exclude={"id", "owner_resource"}))
