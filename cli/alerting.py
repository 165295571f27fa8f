"""``vigie alerts …``, ``vigie digest`` and ``vigie automations apply``.

Nothing printed here shows a channel's secret: URLs go through ``redact_url`` and errors
through ``redact`` with every configured channel's secrets.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from cli.output import Format, fail, format_option, line, out, print_json, shown_time
from parsers.exceptions import AlertDeliveryError, VigieError
from parsers.inert import clean

if TYPE_CHECKING:  # rules, messages and redaction load with the commands that use them
    from db.outbox import AlertForDelivery
    from flows.channels import Router
    from flows.settings import Settings
    from parsers.alert_rules import AlertRules
    from parsers.messages import Rendered

alerts_app = typer.Typer(
    help="Look at the alerts outbox, test channels, retry and deliver alerts.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
automations_app = typer.Typer(
    help="Prefect automations that notify on failed runs and alerts.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


class Status(StrEnum):
    """Alert statuses ``alerts list`` can filter on."""

    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"
    skipped = "skipped"
    merged = "merged"
    digest = "digest"


def register(app: typer.Typer) -> None:
    """Add ``alerts``, ``digest`` and ``automations`` to ``app``."""
    app.add_typer(alerts_app, name="alerts")
    app.add_typer(automations_app, name="automations")
    app.command("digest")(digest)


def _sessions() -> Any:
    """Sessions for a command that writes, the schema upgraded first (the listings read
    through ``context.reading``: no Alembic, no ORM; no tables says `vigie init`)."""
    from flows import context

    context.ensure_schema()
    return context.sessions()


def _known_secrets() -> frozenset[str]:
    """Secrets of the configured channels; errors are stored redacted, this is a second net."""
    from flows.channels import build_router
    from flows.settings import get_settings
    from parsers.alert_rules import load_rules

    settings = get_settings()
    try:
        return build_router(load_rules(settings.resolved_alert_rules_path), settings).secrets
    except VigieError:
        return frozenset()


def _preflight() -> None:
    """The rules file and the database, checked before a flow starts: a bad one is then one
    line (``ConfigError``, or the database's failure), not a flow-run traceback first."""
    from flows import context
    from flows.settings import get_settings
    from parsers.alert_rules import load_rules

    load_rules(get_settings().resolved_alert_rules_path)
    context.ensure_schema()


# --- alerts list -----------------------------------------------------------------------------


@alerts_app.command("list")
def list_alerts(
    status: Annotated[
        Status | None, typer.Option("--status", "-s", help="Only alerts in this status.")
    ] = None,
    format: Annotated[Format, format_option()] = Format.table,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.", min=1)] = 50,
) -> None:
    """List alerts, newest first, with status, attempts, next attempt and last error."""
    from db import outbox
    from flows import context

    try:
        secrets = _known_secrets()
        with context.reading() as connection:
            alerts = outbox.list_alerts(
                connection, status=status.value if status else None, limit=limit
            )
    except VigieError as exc:
        fail(str(exc))
    rows = [_alert_row(alert, secrets) for alert in alerts]
    if format is Format.json:
        for row, alert in zip(rows, alerts, strict=True):
            row["payload"] = alert.payload
        print_json(rows)
        return
    _print_table(rows)


def _alert_row(alert: AlertForDelivery, secrets: frozenset[str]) -> dict[str, Any]:
    from parsers.redact import redact

    subject = alert.payload.get("title") or alert.payload.get("feed") or ""
    return {
        "id": alert.id,
        "kind": alert.kind,
        "severity": alert.severity,
        "status": alert.status,
        "attempts": alert.attempts,
        "created_at": alert.created_at.isoformat(),
        "next_attempt_at": alert.next_attempt_at.isoformat() if alert.next_attempt_at else None,
        "sent_at": alert.sent_at.isoformat() if alert.sent_at else None,
        "subject": clean(subject, None),
        "channels": list(alert.delivered_channels),
        "last_error": redact(alert.last_error, secrets) if alert.last_error else None,
        "note": alert.note,
        "merged_into": alert.merged_into_id,
        "digest": alert.digest_id,
        "dedup_key": alert.dedup_key,
    }


def _print_table(rows: list[dict[str, Any]]) -> None:
    table = Table("id", "created", "kind", "status", "tries", "next try", "subject", "last error")
    for row in rows:
        table.add_row(
            str(row["id"]),
            shown_time(row["created_at"]),
            row["kind"],
            row["status"],
            str(row["attempts"]),
            shown_time(row["next_attempt_at"]),
            clean(row["subject"], 50),
            clean(row["last_error"] or row["note"], 70),
        )
    out.print(table)


# --- alerts test -----------------------------------------------------------------------------


def _test_message() -> Rendered:
    from parsers.messages import Rendered

    now = shown_time(datetime.now(UTC))
    text = f"Vigie test message, sent {now}. If you can read this, this channel works."
    return Rendered(
        subject="Vigie test message",
        text=text,
        markdown=f"**Vigie test message**\n\n{text}",
        html=f"<p><b>Vigie test message</b></p><p>{text}</p>",
    )


@alerts_app.command("test")
def test_channel(
    channel: Annotated[
        str | None,
        typer.Argument(help="A channel name from the rules, or 'default'. Default: all of them."),
    ] = None,
) -> None:
    """Send a test message to a channel (or every channel) and report success or the error."""
    from flows.channels import build_router
    from flows.settings import get_settings
    from parsers.alert_rules import channel_names, load_rules

    try:
        settings = get_settings()
        rules = load_rules(settings.resolved_alert_rules_path)
        router = build_router(rules, settings)
    except VigieError as exc:
        fail(str(exc))
    known = list(channel_names(rules))
    if channel and channel not in known:
        fail(f"no channel named {channel!r} (defined: {', '.join(known)})")
    names = [channel] if channel else known
    failures = sum(_test_one(target, router) for target in router.channels(names))
    if failures:
        raise typer.Exit(1)


def _test_one(channel: Any, router: Router) -> int:
    from flows.channels import Delivery
    from parsers.redact import redact

    key = f"test:{datetime.now(UTC):%Y%m%dT%H%M%S%f}"
    try:
        channel.send(Delivery(_test_message(), "info", key, "test"))
    except AlertDeliveryError as exc:
        message = redact(str(exc), router.secrets)
        out.print(line(("FAILED", "red"), f" {channel.name}: {message}"))
        return 1
    out.print(line(("ok", "green"), f"     {channel.name} ({channel.describe()})"))
    return 0


# --- alerts retry / deliver ------------------------------------------------------------------


@alerts_app.command("retry")
def retry(
    alert_id: Annotated[int, typer.Argument(help="The alert's id (see `vigie alerts list`).")],
) -> None:
    """Make a failed alert due now, with a fresh set of attempts (sent channels are skipped)."""
    from db import outbox

    try:
        with _sessions().begin() as session:
            alert = outbox.get_alert(session, alert_id)
            changed = alert is not None and outbox.retry(session, alert_id, datetime.now(UTC))
    except VigieError as exc:
        fail(str(exc))
    if alert is None:
        fail(f"no alert {alert_id}", 1)
    if not changed:
        fail(f"alert {alert_id} is {alert.status}; only failed or pending alerts retry", 1)
    from flows.settings import get_settings
    from parsers.alert_rules import load_rules

    settings = get_settings()
    rules = load_rules(settings.resolved_alert_rules_path)
    out.print(describe_retry(alert, rules, settings))


def describe_retry(alert: AlertForDelivery, rules: AlertRules, settings: Settings) -> str:
    """What will happen to ``alert`` now that it is due again, as the next pass will do it."""
    from parsers.alert_rules import route

    routing = route(rules, alert.kind, alert.severity, alert.payload)
    head = f"Alert {alert.id} is due again"
    if routing.action == "skip":
        return f"{head}, but the rules skip it ({routing.reason}): no delivery will send it."
    if routing.action == "digest":
        return f"{head}; the rules keep its kind for the daily digest, which will list it."
    names = [n for n in routing.channels if n not in alert.delivered_channels]
    if "default" in names and not settings.alert_url_list:
        return (
            f"{head}, but its channel 'default' has no URL (VIGIE_ALERT_URLS): the next "
            "delivery will fail it again. Set the URL, then run `vigie alerts deliver`."
        )
    done = (
        f" ({', '.join(alert.delivered_channels)} already has it)"
        if alert.delivered_channels
        else ""
    )
    # A retried alert skips its debounce window (flows.alerts, _Pass._hold_for_window).
    return (
        f"{head}: the next delivery sends it at once to {', '.join(names) or 'its channels'}"
        f"{done}. Run `vigie alerts deliver` to send it now; otherwise the deliver-alerts "
        "deployment or the next monitor run will."
    )


@alerts_app.command("deliver")
def deliver() -> None:
    """Run one delivery pass now (the deliver-alerts flow) and print what it did."""
    import asyncio

    from flows import context
    from flows.alerts import deliver_alerts

    try:
        _preflight()
        context.start_temporary_prefect_server()
        counts = asyncio.run(deliver_alerts())
    except VigieError as exc:
        fail(str(exc))
    out.print(
        f"Alerts: {counts['sent']} sent, {counts['retry']} will be retried, "
        f"{counts['failed']} failed for good, {counts['held']} held (debounce), "
        f"{counts['merged']} merged, {counts['skipped']} skipped by the rules, "
        f"{counts['digest']} kept for the digest; {counts['pending_total']} pending in all."
    )
    if counts["retry"] or counts["failed"]:
        out.print("See `vigie alerts list --status pending` or `--status failed` for reasons.")


# --- digest ----------------------------------------------------------------------------------


def digest(
    hours: Annotated[
        int | None, typer.Option(help="Hours covered; default VIGIE_DIGEST_HOURS.", min=1)
    ] = None,
    send_when_empty: Annotated[
        bool | None,
        typer.Option(
            "--send-when-empty/--skip-when-empty", help="Override the rules' send_when_empty."
        ),
    ] = None,
) -> None:
    """Send the digest of the last day now (at most one per hour).

    Exits with 1 when this hour's digest is not delivered (pending or failed), and says why.
    """
    import asyncio

    from db import outbox
    from flows import context
    from flows.digest import daily_digest, describe
    from parsers.redact import redact

    try:
        _preflight()
        context.start_temporary_prefect_server()
        result = asyncio.run(daily_digest(hours=hours, send_when_empty=send_when_empty))
    except VigieError as exc:
        fail(str(exc))
    if result.get("last_error"):  # stored redacted; this is a second net, as in `alerts list`
        result = {**result, "last_error": redact(str(result["last_error"]), _known_secrets())}
    out.print(describe(result))
    if result.get("outbox_status") in (outbox.PENDING, outbox.FAILED):
        raise typer.Exit(1)


# --- automations -----------------------------------------------------------------------------


@automations_app.command("apply")
def automations_apply(
    file: Annotated[
        Path | None, typer.Option(help="Automations YAML; default deploy/automations.yaml.")
    ] = None,
) -> None:
    """Create or update Vigie's automations on the Prefect server (matched by name)."""
    from flows.automations import apply
    from flows.settings import get_settings

    settings = get_settings()
    try:
        applied = apply(file or settings.resolved_automations_path, settings.notification_block)
    except VigieError as exc:
        fail(str(exc))
    for item in applied:
        out.print(f"{item.action:9} {item.name} ({item.id})")
