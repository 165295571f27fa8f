"""Bounded decoding: a response body, decompressed in bounded steps under a size limit.

httpx's own decoders inflate a whole network chunk at once, and 64 KiB of gzip can hold
64 MB of zeros; here the body is inflated at most ``_DECODE_STEP`` bytes at a time and
refused as soon as it passes the limit.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Literal

import httpx

from parsers.exceptions import FetchError

Kind = Literal["feed", "page"]

# Only the codings decoded below, in bounded steps.
ACCEPT_ENCODING = "gzip, deflate"
_DECODE_STEP = 64 * 1024


# --- Bounded decompression --------------------------------------------------------------


class _Inflater:
    """Decodes gzip or deflate in steps of at most ``_DECODE_STEP`` bytes of output."""

    def __init__(self, coding: str) -> None:
        # MAX_WBITS | 32 accepts both gzip and zlib headers; raw deflate is tried on failure
        # because some servers send it as "deflate".
        self._raw_fallback = coding == "deflate"
        self._z = zlib.decompressobj(zlib.MAX_WBITS | 32)
        self._started = False

    def decode(self, data: bytes) -> Iterator[bytes]:
        while data and not self._z.eof:
            out = self._inflate(data)
            if out:
                yield out
            data = self._z.unconsumed_tail

    def flush(self) -> bytes:
        return self._z.flush()

    def _inflate(self, data: bytes) -> bytes:
        try:
            out = self._z.decompress(data, _DECODE_STEP)
        except zlib.error:
            if not self._raw_fallback or self._started:
                raise
            self._raw_fallback = False
            self._z = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self._z.decompress(data, _DECODE_STEP)
        self._started = True
        return out


class _Identity:
    def decode(self, data: bytes) -> Iterator[bytes]:
        yield data

    def flush(self) -> bytes:
        return b""


def _decoder(content_encoding: str | None, host: str) -> _Inflater | _Identity:
    codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return _Identity()
    if len(codings) == 1 and codings[0] in ("gzip", "x-gzip", "deflate"):
        return _Inflater(codings[0])
    raise FetchError(
        f"unsupported Content-Encoding {content_encoding!r} from {host} "
        f"(Vigie asks for {ACCEPT_ENCODING} only)"
    )


async def read_body(response: httpx.Response, limit: int, kind: Kind, host: str) -> bytes:
    """The decompressed body, refused as soon as it passes ``limit`` bytes."""
    declared = _declared_length(response.headers.get("content-length"))
    if declared is not None and declared > limit:
        raise FetchError(
            f"response from {host} declares {_human_bytes(declared)}, "
            f"over the {_human_bytes(limit)} {kind} limit"
        )
    encoding = response.headers.get("content-encoding")
    decoder = _decoder(encoding, host)
    coding = encoding if isinstance(decoder, _Inflater) else None
    chunks: list[bytes] = []
    size = 0
    async for raw in response.aiter_raw():
        for piece in decoder.decode(raw):
            size += len(piece)
            _check_size(size, limit, kind, host, coding)
            chunks.append(piece)
    chunks.append(decoder.flush())
    _check_size(size + len(chunks[-1]), limit, kind, host, coding)
    return b"".join(chunks)


def _check_size(size: int, limit: int, kind: Kind, host: str, coding: str | None) -> None:
    if size <= limit:
        return
    if coding:
        raise FetchError(
            f"decompressed body exceeded the {_human_bytes(limit)} {kind} limit "
            f"({coding} from {host}; a compression bomb, or a very large document)"
        )
    raise FetchError(f"response exceeded the {_human_bytes(limit)} {kind} limit ({host})")


def _declared_length(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.split(",")[0].strip())
    except ValueError:
        return None  # unparsable: the streaming limit still applies


def _human_bytes(n: int) -> str:
    for unit, size in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} bytes"
