"""Notification channels: the I/O half of alerting.

A channel takes a rendered message and either delivers it or raises ``AlertDeliveryError``
with a redacted reason; it never reports success for a message nobody accepted. Three kinds:

- ``AppriseChannel``: an Apprise URL (``mailtos://``, ``json://``, ``ntfys://``, ``slack://``…).
- ``BlockChannel``: a saved Prefect notification block, sent inside ``raise_on_failure()``
  because Apprise blocks otherwise swallow failures.
- ``WebhookChannel``: a JSON POST of the alert (payload included) for machine receivers.

Webhooks (``json://``, ``xml://``, ``form://``, custom webhook blocks, ``WebhookChannel``)
carry ``Idempotency-Key: <dedup key>`` so a receiver can drop the rare duplicate.

Every channel sends ``Delivery.outgoing()``: the message with every chat mention defused
(``parsers.inert``), whatever produced it, so that no feed text pings a whole channel.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

from flows.settings import Settings
from parsers.alert_rules import DEFAULT_CHANNEL, AlertRules, ChannelSpec
from parsers.exceptions import AlertDeliveryError
from parsers.inert import clean, defuse_mentions
from parsers.messages import Markup, Rendered
from parsers.redact import RedactingFilter, redact, redact_url, secrets_in_url

#: Loggers of the libraries that send notifications; they log request URLs (with tokens).
SENDING_LOGGERS = (
    "apprise",
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "urllib3.connectionpool",
    "prefect.blocks",
)
_FILTER = RedactingFilter()

# Apprise schemes that POST to a webhook and accept extra headers as ``+Header=value``.
_WEBHOOK_SCHEMES = frozenset({"json", "jsons", "xml", "xmls", "form", "forms"})
_HTML_SCHEMES = frozenset({"mailto", "mailtos", "email", "sendgrid", "ses", "mailgun"})
_MARKDOWN_SCHEMES = frozenset(
    {"slack", "discord", "mmost", "mmosts", "msteams", "matrix", "matrixs", "rocket", "rockets",
     "tgram", "zulip", "gchat", "workflow", "workflows"}
)  # fmt: skip
_SEVERITY_TO_APPRISE = {"info": "info", "warning": "warning", "critical": "failure"}
_FORMATS = {"text": "text", "markdown": "markdown", "html": "html"}
WEBHOOK_TIMEOUT_S = 10.0


def protect(secrets: Sequence[str] | frozenset[str]) -> None:
    """Mask these secrets (and any URL) in what the sending libraries log, from now on."""
    _FILTER.add_secrets(secrets)
    for name in SENDING_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    apprise_logger = logging.getLogger("apprise")
    if apprise_logger.getEffectiveLevel() > logging.WARNING:
        # Apprise's warnings are the only account of why a send failed; keep them (masked).
        apprise_logger.setLevel(logging.WARNING)


@dataclass(frozen=True)
class Delivery:
    """What a channel is asked to send."""

    message: Rendered
    #: info, warning or critical.
    severity: str
    #: Sent as ``Idempotency-Key`` on webhooks: the alert's dedup key.
    idempotency_key: str
    kind: str
    payload: Mapping[str, Any] = field(default_factory=dict)

    def outgoing(self) -> Rendered:
        """The message as every channel sends it: subject and bodies with no live mention."""
        message = self.message
        return Rendered(
            subject=defuse_mentions(message.subject),
            text=defuse_mentions(message.text),
            markdown=defuse_mentions(message.markdown),
            html=defuse_mentions(message.html),
        )


class Channel(Protocol):
    """Something that delivers a message or raises ``AlertDeliveryError``."""

    @property
    def name(self) -> str: ...

    @property
    def secrets(self) -> frozenset[str]: ...

    def describe(self) -> str: ...

    def send(self, delivery: Delivery) -> None: ...


def _fail(channel: Channel, problem: str) -> AlertDeliveryError:
    text = f"channel {channel.name!r} ({channel.describe()}): {problem}"
    return AlertDeliveryError(redact(text, channel.secrets))


# --- Apprise URLs --------------------------------------------------------------------------


def markup_for_url(url: str) -> Markup:
    """The markup an Apprise scheme renders best."""
    scheme = urlsplit(url).scheme.lower()
    if scheme in _HTML_SCHEMES:
        return "html"
    if scheme in _MARKDOWN_SCHEMES:
        return "markdown"
    return "text"


def with_idempotency_key(url: str, key: str) -> str:
    """The Apprise URL with an ``Idempotency-Key`` header added, for webhook schemes."""
    if urlsplit(url).scheme.lower() not in _WEBHOOK_SCHEMES:
        return url
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}{quote('+Idempotency-Key')}={quote(key, safe='')}"


@dataclass(frozen=True)
class AppriseChannel:
    """An Apprise URL: one destination."""

    name: str
    url: str = field(repr=False)
    markup: Markup = "text"

    @property
    def secrets(self) -> frozenset[str]:
        return secrets_in_url(self.url)

    def describe(self) -> str:
        return redact_url(self.url)

    def send(self, delivery: Delivery) -> None:
        import apprise  # here: `alerts list` builds the router for its secrets, sends nothing

        client = apprise.Apprise()
        if not client.add(with_idempotency_key(self.url, delivery.idempotency_key)):
            raise _fail(self, "not a URL Apprise can send to (check its scheme and parts)")
        message = delivery.outgoing()
        with _captured_warnings("apprise") as warnings:
            accepted = client.notify(
                body=message.body(self.markup),
                title=message.subject,
                body_format=_FORMATS[self.markup],
                notify_type=_SEVERITY_TO_APPRISE.get(delivery.severity, "info"),
            )
        if not accepted:
            reason = "; ".join(warnings) or "the receiver did not accept the message"
            raise _fail(self, reason)


class _ThreadHandler(logging.Handler):
    """Keeps the warnings logged by one thread (other threads may be sending too)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.lines.append(clean(record.getMessage(), 300))


@contextmanager
def _captured_warnings(logger_name: str) -> Iterator[list[str]]:
    """Collect a library's warnings, which are the only place Apprise says why it failed."""
    logger = logging.getLogger(logger_name)
    handler = _ThreadHandler()
    logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)


# --- Prefect blocks ------------------------------------------------------------------------


@dataclass(frozen=True)
class BlockChannel:
    """A saved Prefect notification block, loaded by name at send time."""

    name: str
    block_name: str
    markup: Markup | None = None
    _secrets: list[str] = field(default_factory=list, repr=False, compare=False)

    @property
    def secrets(self) -> frozenset[str]:
        return frozenset(self._secrets)

    def describe(self) -> str:
        return f"Prefect block {self.block_name}"

    def load(self) -> Any:
        """The block, checked to be a notification block."""
        from prefect.blocks.abstract import NotificationBlock
        from prefect.blocks.core import Block

        try:
            # _sync: Vigie calls this from inside async flows, where Prefect would otherwise
            # hand back an un-awaited coroutine.
            block = Block.load(self.block_name, _sync=True)  # type: ignore[call-arg]
        except (ValueError, RuntimeError) as exc:
            raise _fail(self, f"cannot load the block: {type(exc).__name__}: {exc}") from None
        if not isinstance(block, NotificationBlock):
            raise _fail(self, f"{type(block).__name__} is not a notification block")
        self._secrets.extend(block_secrets(block))
        protect(self.secrets)
        return block

    def send(self, delivery: Delivery) -> None:
        block = _with_idempotency_key(self.load(), delivery.idempotency_key)
        markup = self.markup or markup_for_block(block)
        message = delivery.outgoing()
        try:
            with block.raise_on_failure():
                block.notify(message.body(markup), message.subject, _sync=True)
        except Exception as exc:
            # Not chained (`from exc`): the cause's text may hold the block's URL and token,
            # and a printed traceback would show it.
            raise _fail(self, f"{type(exc).__name__}: {exc}") from None


def block_secrets(block: Any) -> frozenset[str]:
    """Every secret value and URL part of a block's fields."""
    found: set[str] = set()
    for _name, value in block:
        if hasattr(value, "get_secret_value"):  # SecretStr, SecretDict
            value = value.get_secret_value()
        if isinstance(value, Mapping):
            found.update(str(v) for v in value.values() if v)
        elif isinstance(value, str) and "://" in value:
            found.update(secrets_in_url(value))
            found.add(value)
    return frozenset(found)


def markup_for_block(block: Any) -> Markup:
    """The markup a block type renders best."""
    name = type(block).__name__.lower()
    if "email" in name:
        return "html"
    if any(word in name for word in ("slack", "teams", "discord", "mattermost")):
        return "markdown"
    return "text"


def _with_idempotency_key(block: Any, key: str) -> Any:
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    if not isinstance(block, CustomWebhookNotificationBlock):
        return block
    headers = {**(block.headers or {}), "Idempotency-Key": key}
    return block.model_copy(update={"headers": headers})


# --- JSON webhooks -------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookChannel:
    """A JSON POST of the alert, for receivers that want data rather than prose."""

    name: str
    url: str = field(repr=False)
    markup: Markup = "text"
    user_agent: str = "Vigie"

    @property
    def secrets(self) -> frozenset[str]:
        return secrets_in_url(self.url)

    def describe(self) -> str:
        return redact_url(self.url)

    def send(self, delivery: Delivery) -> None:
        message = delivery.outgoing()
        body = {
            "kind": delivery.kind,
            "severity": delivery.severity,
            "subject": message.subject,
            "text": message.text,
            "payload": dict(delivery.payload),
            "idempotency_key": delivery.idempotency_key,
        }
        headers = {"Idempotency-Key": delivery.idempotency_key, "User-Agent": self.user_agent}
        import httpx

        try:
            response = httpx.post(self.url, json=body, headers=headers, timeout=WEBHOOK_TIMEOUT_S)
        except httpx.HTTPError as exc:
            raise _fail(self, f"{type(exc).__name__}: {exc}") from None
        if not response.is_success:
            raise _fail(self, f"HTTP {response.status_code} {response.reason_phrase}")


# --- routes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnresolvedChannel:
    """A channel whose configuration is wrong: every send raises the reason."""

    name: str
    problem: str
    markup: Markup = "text"

    @property
    def secrets(self) -> frozenset[str]:
        return frozenset()

    def describe(self) -> str:
        return "not configured"

    def send(self, delivery: Delivery) -> None:
        raise _fail(self, self.problem)


@dataclass(frozen=True)
class Router:
    """Route names (from the rules) to the channels they stand for."""

    routes: Mapping[str, tuple[Channel, ...]]

    def channels(self, names: Sequence[str]) -> list[Channel]:
        """The channels of these routes, each once."""
        found: dict[str, Channel] = {}
        for name in names:
            for channel in self.routes.get(name) or (_unknown(name),):
                found.setdefault(channel.name, channel)
        return list(found.values())

    @property
    def secrets(self) -> frozenset[str]:
        """Every secret of every channel, for redacting what a pass reports."""
        return frozenset(s for route in self.routes.values() for c in route for s in c.secrets)


def _unknown(name: str) -> Channel:
    return UnresolvedChannel(name, f"no channel named {name!r} in the rules")


def build_router(rules: AlertRules, settings: Settings) -> Router:
    """Channels for every route the rules define, plus ``default`` from ``VIGIE_ALERT_URLS``."""
    routes: dict[str, tuple[Channel, ...]] = {DEFAULT_CHANNEL: _default_route(settings)}
    for name, spec in rules.channels.items():
        routes[name] = (_channel(spec, settings),)
    router = Router(routes)
    protect(router.secrets)
    return router


def _default_route(settings: Settings) -> tuple[Channel, ...]:
    urls = settings.alert_url_list
    if not urls:
        problem = "no URL configured: set VIGIE_ALERT_URLS or route this kind elsewhere"
        return (UnresolvedChannel(DEFAULT_CHANNEL, problem),)
    if len(urls) == 1:
        return (AppriseChannel(DEFAULT_CHANNEL, urls[0], markup_for_url(urls[0])),)
    return tuple(
        AppriseChannel(f"{DEFAULT_CHANNEL}[{n}]", url, markup_for_url(url))
        for n, url in enumerate(urls, start=1)
    )


def _channel(spec: ChannelSpec, settings: Settings) -> Channel:
    markup: Markup | None = spec.format  # type: ignore[assignment]
    if spec.source == "block":
        return BlockChannel(spec.name, spec.target, markup)
    if spec.source == "webhook":
        return WebhookChannel(spec.name, spec.target, markup or "text", settings.user_agent)
    url = spec.target
    if spec.source == "url_env":
        url = os.environ.get(spec.target, "").strip()
        if not url:
            return UnresolvedChannel(spec.name, f"environment variable {spec.target} is not set")
    return AppriseChannel(spec.name, url, markup or markup_for_url(url))
