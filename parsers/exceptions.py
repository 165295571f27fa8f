"""Vigie's one exception tree.

Each boundary (HTTP, parsing, storage, alert delivery, configuration) wraps what it catches
in one of these, chaining the cause with ``raise ... from``, so callers can tell a bad feed
(recorded, run goes on) from a bug (the Prefect run fails).
"""

from __future__ import annotations


class VigieError(Exception):
    """Base of every error Vigie raises on purpose; its message is meant for a person."""


class ConfigError(VigieError):
    """A setting, taxonomy or rules file is wrong; the message says what to fix."""


class FetchError(VigieError):
    """A URL could not be fetched (network, HTTP status, limits, refused by policy)."""

    def __init__(
        self,
        message: str,
        *,
        transient: bool = False,
        status: int | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message)
        #: True for errors worth retrying soon (timeouts, 429, 5xx); False for hard ones.
        self.transient = transient
        #: The HTTP status that caused the error, when there was one.
        self.status = status
        #: Seconds the server asked us to wait (``Retry-After``), when it said.
        self.retry_after = retry_after


class ParseError(VigieError):
    """Fetched bytes are not a usable feed, page or document."""


class StorageError(VigieError):
    """The database refused or could not complete a unit of work."""


class DatabaseFailure(StorageError):
    """Vigie's own database failed (disk full, connection lost, corrupt file), whatever the
    data: a feed that met it is not at fault, and its health does not move."""


class AlertDeliveryError(VigieError):
    """A notification channel did not accept an alert."""
