"""Masking secrets before text reaches a log, an artifact, an exception or the terminal.

Notification URLs carry credentials in many places: ``user:password@``, a token as the user
(``ntfys://tk_…@ntfy.sh``), tokens as path segments (Slack, Discord, Telegram webhooks) and in
the query (``?token=``). So any URL in a text is shown as its scheme and host only, and every
piece of a configured URL that could be a credential is also masked wherever else it appears
(a library may log the token on its own, decoded or not).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from urllib.parse import parse_qsl, unquote, urlsplit

MASK = "***"

# A URL inside free text: scheme, then everything up to whitespace or a quote/bracket.
_URL_IN_TEXT = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]{1,24})://([^\s'\"<>()\[\]]+)")

# Schemes whose host part names a real host. For the others (``tgram://TOKEN/chat``,
# ``slack://T/B/C``) the host position itself may hold a credential, so it is masked too.
_HOST_SCHEMES = frozenset(
    {
        "http", "https", "json", "jsons", "xml", "xmls", "form", "forms", "mailto", "mailtos",
        "ntfy", "ntfys", "gotify", "gotifys", "mmost", "mmosts", "rocket", "rockets",
        "matrix", "matrixs", "apprise", "apprises", "postgresql", "postgresql+psycopg",
        "sqlite", "smtp", "smtps",
    }
)  # fmt: skip

# Shorter path segments and query values are words ("hook", "en", "json"), not credentials;
# masking them everywhere would make error messages unreadable. Passwords are masked whatever
# their length.
MIN_FRAGMENT = 6
MIN_PASSWORD = 3


def redact_url(url: str) -> str:
    """A URL reduced to what is safe to show: ``scheme://host[:port]`` and a mask for the rest."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if not scheme or "://" not in url:
        return MASK
    if scheme not in _HOST_SCHEMES:
        return f"{scheme}://{MASK}"
    try:
        host, port = parts.hostname or "", f":{parts.port}" if parts.port else ""
    except ValueError:  # a "port" that is not a number is no host:port at all
        return f"{scheme}://{MASK}"
    if not host:
        return f"{scheme}://{MASK}"
    hidden = bool(parts.username or parts.password or parts.path.strip("/") or parts.query)
    return f"{scheme}://{host}{port}{'/' + MASK if hidden else ''}"


def secrets_in_url(url: str) -> frozenset[str]:
    """Every piece of ``url`` that may be a credential, as written and percent-decoded."""
    parts = urlsplit(url.strip())
    found: set[str] = set()
    userinfo = parts.netloc.rpartition("@")[0]
    if parts.scheme.lower() in _HOST_SCHEMES:
        # user:password; the host and port are not secret.
        found.update(piece for piece in userinfo.split(":", 1) if piece)
    else:
        # tgram://BOT:TOKEN/chat, slack://A/B/C: every part of the "host" may be a token.
        found.update(piece for piece in re.split(r"[:@]", parts.netloc) if piece)
    found.update(segment for segment in parts.path.split("/") if segment)
    found.update(value for _key, value in parse_qsl(parts.query) if value)
    found.update(unquote(piece) for piece in list(found))
    password = userinfo.split(":", 1)[1] if ":" in userinfo else None
    return frozenset(piece for piece in found if _worth_masking(piece, password))


def _worth_masking(piece: str, password: str | None) -> bool:
    if password and piece in (password, unquote(password)):
        return len(piece) >= MIN_PASSWORD
    return len(piece) >= MIN_FRAGMENT


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every URL reduced by ``redact_url`` and every known secret masked."""
    # Longest first, so that a secret containing a shorter one is masked whole.
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return _URL_IN_TEXT.sub(lambda match: redact_url(match.group(0)), text)


class RedactingFilter(logging.Filter):
    """A logging filter that masks URLs and registered secrets in every record it sees.

    Attach it to the loggers of the libraries that send notifications (they log request URLs
    at DEBUG or INFO); it rewrites the record in place, so every handler, including ones
    attached further up, receives the masked text.
    """

    def __init__(self) -> None:
        super().__init__()
        self._secrets: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    def add_secrets(self, secrets: Iterable[str]) -> None:
        """Mask these too from now on."""
        with self._lock:
            self._secrets = self._secrets | frozenset(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg = redact(message, self._secrets)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            # A traceback would print the exception's own text unmasked: keep only its type.
            record.msg += f" ({type(record.exc_info[1]).__name__})"
            record.exc_info = None
            record.exc_text = None
        return True
