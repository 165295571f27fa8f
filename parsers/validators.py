"""HTTP validators (``ETag``, ``Last-Modified``): which values a server sent may be kept and
sent back in a conditional request.

A header value is sent as ASCII, so a validator with any other character (``"café"``, a
control character) could never be sent back: kept, it would fail every later request of
its feed or page. Such a value is dropped, here, before it is stored and again before it is
sent (a database written by an earlier version may hold one); the next fetch is then
unconditional, which costs a body and nothing else.
"""

from __future__ import annotations

import re

#: Longest ETag kept (the columns that store one hold 1024 characters).
MAX_ETAG_CHARS = 1024
#: Longest Last-Modified kept (the columns hold 255; an HTTP date has 29).
MAX_LAST_MODIFIED_CHARS = 255
# Visible ASCII and spaces: what RFC 9110 allows in a field value, less obs-text (bytes over
# 0x7F, which HTTP libraries refuse to send) and tabs.
_SENDABLE = re.compile(r"[\x20-\x7e]+")


def usable_etag(value: str | None) -> str | None:
    """``value`` when it can be sent back as ``If-None-Match``, else None."""
    return _sendable(value, MAX_ETAG_CHARS)


def usable_last_modified(value: str | None) -> str | None:
    """``value`` when it can be sent back as ``If-Modified-Since``, else None."""
    return _sendable(value, MAX_LAST_MODIFIED_CHARS)


def _sendable(value: str | None, limit: int) -> str | None:
    if not value:
        return None
    value = value.strip()
    if len(value) > limit or not _SENDABLE.fullmatch(value):
        return None
    return value
