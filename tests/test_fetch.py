"""The guarded fetcher against real loopback servers: manners, limits, timeouts, SSRF guard.

No HTTP mocks: every test talks to a real socket on 127.0.0.1. Host names other than
127.0.0.1 and localhost come from an injected resolver, which the fetcher really connects to,
so ``feeds.test`` below is a name for the loopback server, not a stand-in for one.
"""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import itertools
import socket
import threading
import time
import tracemalloc
import zlib
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, TypeVar

import pytest
import typer
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from cli.feed_debug import register
from fetching import fetcher as fetch_module
from fetching.fetcher import Fetcher, FetchPolicy, FetchResult, ip_refusal_reason, system_resolver
from flows.settings import Settings, get_settings
from parsers.exceptions import FetchError
from tests.loopback import LoopbackServer, Response, serving, tls_contexts

T = TypeVar("T")

RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<item><title>Quebec caps asylum claims</title><link>https://example.com/a</link></item>
</channel></rss>"""

POLICY = FetchPolicy(
    user_agent="Vigie/0.1 (news monitoring; +https://example.com/contact)",
    connect_timeout=2.0,
    read_timeout=2.0,
    total_timeout=5.0,
    max_feed_bytes=1_000_000,
    max_page_bytes=2_000_000,
    max_redirects=3,
    per_host_concurrency=2,
    allow=("127.0.0.1",),
)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def fetch(url: str, policy: FetchPolicy = POLICY, **kwargs: Any) -> FetchResult:
    resolver = kwargs.pop("resolver", None)
    verify = kwargs.pop("verify", None)

    async def go() -> FetchResult:
        async with Fetcher(policy, resolver=resolver, verify=verify) as fetcher:
            return await fetcher.fetch(url, **kwargs)

    return run(go())


def fetch_error(url: str, policy: FetchPolicy = POLICY, **kwargs: Any) -> FetchError:
    with pytest.raises(FetchError) as caught:
        fetch(url, policy, **kwargs)
    return caught.value


def table_resolver(
    table: Mapping[str, Sequence[str]],
) -> Callable[[str, int], Awaitable[list[str]]]:
    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return list(table[host])

    return resolve


# --- Manners and conditional GET -------------------------------------------------------


def test_fetch_returns_body_validators_and_hash(http_server: LoopbackServer) -> None:
    http_server.routes["/feed"] = Response(
        RSS, headers={"ETag": '"v1"', "Last-Modified": "Mon, 02 Mar 2026 10:00:00 GMT"}
    )
    result = fetch(http_server.url("/feed"))
    assert (result.status, result.content, result.not_modified) == (200, RSS, False)
    assert result.etag == '"v1"'
    assert result.last_modified == "Mon, 02 Mar 2026 10:00:00 GMT"
    assert result.headers["etag"] == '"v1"'  # names in lower case
    assert result.body_hash is not None and len(result.body_hash) == 64
    assert result.elapsed_ms >= 0
    sent = http_server.requests_to("/feed")[0].headers
    assert sent["User-Agent"] == POLICY.user_agent
    assert "application/rss+xml" in sent["Accept"]
    assert "If-None-Match" not in sent and "If-Modified-Since" not in sent


def test_etag_gives_304_without_body(http_server: LoopbackServer) -> None:
    def route(handler: BaseHTTPRequestHandler) -> Response:
        if handler.headers.get("If-None-Match") == '"v1"':
            return Response(status=304)
        return Response(RSS, headers={"ETag": '"v1"'})

    http_server.routes["/feed"] = route
    result = fetch(http_server.url("/feed"), etag='"v1"')
    assert http_server.requests_to("/feed")[0].headers["If-None-Match"] == '"v1"'
    assert (result.status, result.not_modified, result.content) == (304, True, b"")
    assert result.body_hash is None
    assert result.etag == '"v1"'  # the 304 sent none: keep the one we have


def test_last_modified_gives_304(http_server: LoopbackServer) -> None:
    stamp = "Mon, 02 Mar 2026 10:00:00 GMT"

    def route(handler: BaseHTTPRequestHandler) -> Response:
        if handler.headers.get("If-Modified-Since") == stamp:
            return Response(status=304, headers={"Last-Modified": stamp})
        return Response(RSS, headers={"Last-Modified": stamp})

    http_server.routes["/feed"] = route
    result = fetch(http_server.url("/feed"), last_modified=stamp)
    assert http_server.requests_to("/feed")[0].headers["If-Modified-Since"] == stamp
    assert result.not_modified and result.content == b""
    assert result.last_modified == stamp


def test_per_host_concurrency_is_capped(http_server: LoopbackServer) -> None:
    lock = threading.Lock()
    in_flight = [0]
    peak = [0]

    def slow(handler: BaseHTTPRequestHandler) -> Response:
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        time.sleep(0.15)
        with lock:
            in_flight[0] -= 1
        return Response(RSS)

    http_server.routes["/slow"] = slow

    async def go() -> list[FetchResult]:
        async with Fetcher(POLICY) as fetcher:
            urls = [http_server.url("/slow")] * 6
            return await asyncio.gather(*(fetcher.fetch(u) for u in urls))

    assert len(run(go())) == 6
    assert peak[0] == POLICY.per_host_concurrency


# --- HTTP errors and Retry-After --------------------------------------------------------


def test_429_with_retry_after_seconds(http_server: LoopbackServer) -> None:
    http_server.routes["/feed"] = Response(b"slow down", 429, {"Retry-After": "120"})
    error = fetch_error(http_server.url("/feed"))
    assert (error.transient, error.status, error.retry_after) == (True, 429, 120.0)
    assert str(error) == "HTTP 429 Too Many Requests from 127.0.0.1 (will retry after 120 s)"


def test_503_with_retry_after_http_date(http_server: LoopbackServer) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    http_server.routes["/feed"] = Response(b"maintenance", 503, {"Retry-After": when})
    error = fetch_error(http_server.url("/feed"))
    assert error.transient and error.status == 503
    assert error.retry_after is not None and 85 <= error.retry_after <= 90


def test_500_is_transient(http_server: LoopbackServer) -> None:
    http_server.routes["/feed"] = Response(b"oops", 500)
    error = fetch_error(http_server.url("/feed"))
    assert str(error) == "HTTP 500 Internal Server Error from 127.0.0.1 (will retry)"
    assert (error.transient, error.status, error.retry_after) == (True, 500, None)


@pytest.mark.parametrize(("status", "advice"), [(404, "check the URL"), (410, "for good")])
def test_4xx_is_hard(http_server: LoopbackServer, status: int, advice: str) -> None:
    http_server.routes["/feed"] = Response(b"", status)
    error = fetch_error(http_server.url("/feed"))
    assert (error.transient, error.status) == (False, status)
    assert advice in str(error)


def test_connection_refused_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    error = fetch_error(f"http://127.0.0.1:{port}/feed")
    assert error.transient and "could not connect to 127.0.0.1" in str(error)


def test_stuck_resolver_hits_the_connect_timeout() -> None:
    async def stuck(host: str, port: int) -> list[str]:
        await asyncio.sleep(60)
        return []

    error = fetch_error("http://stuck.test/", replace(POLICY, connect_timeout=0.2), resolver=stuck)
    assert str(error) == "timed out after 0.2 s resolving stuck.test" and error.transient


def test_unknown_host_is_hard() -> None:
    error = fetch_error("http://nowhere.test/feed", resolver=table_resolver({}))
    assert not error.transient and "could not resolve nowhere.test" in str(error)


# --- Timeouts ---------------------------------------------------------------------------


def test_slow_server_hits_the_read_timeout(http_server: LoopbackServer) -> None:
    # Headers at once, then silence.
    http_server.routes["/feed"] = Response(b"<rss>", chunks=[b"</rss>"], chunk_delay=2.0)
    policy = replace(POLICY, read_timeout=0.3)
    started = time.monotonic()
    error = fetch_error(http_server.url("/feed"), policy)
    assert time.monotonic() - started < 1.5
    assert error.transient
    assert str(error).startswith("timed out after 0.3 s reading http://127.0.0.1:")


def test_trickling_body_hits_the_total_timeout(http_server: LoopbackServer) -> None:
    # One byte every 50 ms: never quiet long enough for the read timeout, never done.
    http_server.routes["/feed"] = Response(chunks=itertools.repeat(b" "), chunk_delay=0.05)
    policy = replace(POLICY, read_timeout=0.5, total_timeout=1.0)
    started = time.monotonic()
    error = fetch_error(http_server.url("/feed"), policy)
    assert 0.9 < time.monotonic() - started < 2.5
    assert error.transient
    assert str(error).startswith("timed out after 1 s receiving")
    assert "total limit" in str(error)


async def _trickle_headers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Slowloris, server side: a status line, then one header line every 50 ms, forever."""
    await reader.readuntil(b"\r\n\r\n")
    try:
        writer.write(b"HTTP/1.1 200 OK\r\n")
        for n in itertools.count():
            writer.write(b"X-Slow-%d: y\r\n" % n)
            await writer.drain()
            await asyncio.sleep(0.05)
    except ConnectionError:
        pass
    finally:
        writer.close()


def test_trickling_headers_hit_the_total_timeout() -> None:
    policy = replace(POLICY, read_timeout=0.5, total_timeout=1.0)

    async def go() -> FetchError:
        server = await asyncio.start_server(_trickle_headers, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            async with Fetcher(policy) as fetcher:
                with pytest.raises(FetchError) as caught:
                    await fetcher.fetch(f"http://127.0.0.1:{port}/feed")
            return caught.value
        finally:
            server.close()

    started = time.monotonic()
    error = run(go())
    assert time.monotonic() - started < 2.5
    assert "timed out after 1 s" in str(error) and error.transient


# --- Size limits ------------------------------------------------------------------------


def test_declared_oversize_is_refused_before_reading(http_server: LoopbackServer) -> None:
    http_server.routes["/feed"] = Response(b"x" * 5000)
    policy = replace(POLICY, max_feed_bytes=1000)
    error = fetch_error(http_server.url("/feed"), policy)
    assert str(error) == "response from 127.0.0.1 declares 5 kB, over the 1 kB feed limit"
    assert not error.transient


def test_lying_2gb_content_length_is_refused(http_server: LoopbackServer) -> None:
    http_server.routes["/feed"] = Response(RSS, headers={"Content-Length": "2000000000"})
    started = time.monotonic()
    error = fetch_error(http_server.url("/feed"))
    assert time.monotonic() - started < 1.0
    assert "declares 2 GB, over the 1 MB feed limit" in str(error)


def test_undeclared_oversize_is_cut_while_streaming(http_server: LoopbackServer) -> None:
    # No Content-Length, endless body: only the streaming count can stop it.
    http_server.routes["/page"] = Response(chunks=itertools.repeat(b"x" * 4096))
    policy = replace(POLICY, max_page_bytes=100_000)
    error = fetch_error(http_server.url("/page"), policy, kind="page")
    assert str(error) == "response exceeded the 100 kB page limit (127.0.0.1)"


def _gzip_bomb(zero_bytes: int) -> bytes:
    """``zero_bytes`` of zeros, gzip-compressed without holding them in memory."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1_000_000)
    parts = [compressor.compress(block) for _ in range(zero_bytes // len(block))]
    return b"".join([*parts, compressor.flush()])


def test_gzip_bomb_is_cut_by_the_decompressed_limit_in_bounded_memory(
    http_server: LoopbackServer,
) -> None:
    bomb = _gzip_bomb(50_000_000)
    assert len(bomb) < 100_000  # 50 MB of zeros in about 50 kB
    http_server.routes["/feed"] = Response(bomb, headers={"Content-Encoding": "gzip"})

    async def go() -> tuple[FetchError, int]:
        async with Fetcher(POLICY) as fetcher:  # the TLS context is made before counting
            tracemalloc.start()
            try:
                with pytest.raises(FetchError) as caught:
                    await fetcher.fetch(http_server.url("/feed"))
                return caught.value, tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()

    error, peak = run(go())
    assert str(error).startswith("decompressed body exceeded the 1 MB feed limit (gzip from")
    # The 1 MB limit plus 64 kB decode steps and buffers. Inflating whole network chunks
    # (httpx's aiter_bytes) peaked above 100 MB on this very bomb.
    assert peak < 4_000_000, f"peak {peak:,} bytes"


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),  # zlib-wrapped, as the RFC says
        ("deflate", lambda data: zlib.compress(data, wbits=-zlib.MAX_WBITS)),  # raw, as IIS did
        ("identity", lambda data: data),
    ],
)
def test_supported_encodings_are_decoded(
    http_server: LoopbackServer, encoding: str, encode: Callable[[bytes], bytes]
) -> None:
    body = RSS * 300  # several decode steps
    http_server.routes["/feed"] = Response(encode(body), headers={"Content-Encoding": encoding})
    result = fetch(http_server.url("/feed"))
    assert result.content == body
    assert http_server.requests[0].headers["Accept-Encoding"] == "gzip, deflate"


def test_unrequested_encoding_is_refused(http_server: LoopbackServer) -> None:
    http_server.routes["/feed"] = Response(b"\x00\x01", headers={"Content-Encoding": "br"})
    assert "unsupported Content-Encoding 'br'" in str(fetch_error(http_server.url("/feed")))


def test_corrupt_gzip_is_a_readable_error(http_server: LoopbackServer) -> None:
    http_server.routes["/feed"] = Response(b"not gzip at all", headers={"Content-Encoding": "gzip"})
    assert "could not decompress" in str(fetch_error(http_server.url("/feed")))


# --- Redirects --------------------------------------------------------------------------


def test_relative_redirect_is_followed(http_server: LoopbackServer) -> None:
    http_server.routes["/old"] = Response(status=301, headers={"Location": "/new"})
    http_server.routes["/new"] = Response(RSS)
    result = fetch(http_server.url("/old"), etag='"e"')
    assert result.final_url == http_server.url("/new")
    assert result.url == http_server.url("/old")
    # The validators travel with the request, as with any client following redirects.
    assert http_server.requests_to("/new")[0].headers["If-None-Match"] == '"e"'


def test_redirect_loop_is_stopped(http_server: LoopbackServer) -> None:
    http_server.routes["/a"] = Response(status=302, headers={"Location": "/b"})
    http_server.routes["/b"] = Response(status=302, headers={"Location": "/a"})
    error = fetch_error(http_server.url("/a"))
    assert str(error).startswith("too many redirects (max 3) starting at ")
    assert len(http_server.requests) == POLICY.max_redirects + 1


def test_redirect_without_location_is_an_error(http_server: LoopbackServer) -> None:
    http_server.routes["/a"] = Response(status=302)
    assert "without a Location header" in str(fetch_error(http_server.url("/a")))


# --- SSRF guard -------------------------------------------------------------------------


def test_loopback_is_refused_without_the_allow_list(http_server: LoopbackServer) -> None:
    http_server.routes["/feed"] = Response(RSS)
    error = fetch_error(http_server.url("/feed"), replace(POLICY, allow=()))
    assert str(error) == (
        "refused: 127.0.0.1 is a loopback address; "
        "add 127.0.0.1 to VIGIE_FETCH_ALLOW_HOSTS to allow it"
    )
    assert not error.transient
    assert http_server.requests == []  # refused before any connection


@pytest.mark.parametrize("allow", ["127.0.0.1", "127.0.0.0/8", "10.0.0.0/8, 127.0.0.1"])
def test_loopback_is_allowed_by_the_allow_list(http_server: LoopbackServer, allow: str) -> None:
    http_server.routes["/feed"] = Response(RSS)
    settings = Settings(fetch_allow_hosts=allow, _env_file=None)  # type: ignore[call-arg]
    policy = replace(FetchPolicy.from_settings(settings), connect_timeout=2.0)
    assert fetch(http_server.url("/feed"), policy).content == RSS


def test_system_resolver_is_checked_too(http_server: LoopbackServer) -> None:
    http_server.routes["/feed"] = Response(RSS)
    url = http_server.url("/feed").replace("127.0.0.1", "localhost")
    error = fetch_error(url, replace(POLICY, allow=()))
    assert str(error).startswith("refused: localhost resolves to ")
    assert "add localhost (or " in str(error)
    # Allowing the name lets it through (falling back to 127.0.0.1 if ::1 answers nothing).
    assert fetch(url, replace(POLICY, allow=("localhost",))).content == RSS


FEEDS_TEST = {"feeds.test": ["127.0.0.1"], "internal.test": ["10.0.0.5"]}


def test_allowed_name_really_reaches_the_server(http_server: LoopbackServer) -> None:
    http_server.routes["/feed"] = Response(RSS)
    port = http_server.base_url.rsplit(":", 1)[1]
    policy = replace(POLICY, allow=("feeds.test",))
    result = fetch(f"http://feeds.test:{port}/feed", policy, resolver=table_resolver(FEEDS_TEST))
    assert result.content == RSS
    assert result.final_url == f"http://feeds.test:{port}/feed"
    # Connected to the checked address, but spoke to the name.
    assert http_server.requests[0].headers["Host"] == f"feeds.test:{port}"


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("http://127.0.0.1:{port}/secret", "refused: 127.0.0.1 is a loopback address"),
        ("http://[::ffff:127.0.0.1]:{port}/secret", "IPv4 127.0.0.1 inside an IPv6 address"),
        ("http://localhost:{port}/secret", "refused: localhost resolves to"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("http://internal.test/admin", "internal.test resolves to 10.0.0.5, which is a private"),
        ("file:///etc/passwd", "scheme 'file' is not allowed (only http and https)"),
        ("gopher://127.0.0.1:{port}/_", "scheme 'gopher' is not allowed"),
    ],
)
def test_redirect_from_an_allowed_host_to_a_forbidden_one_is_refused(
    http_server: LoopbackServer, location: str, reason: str
) -> None:
    port = http_server.base_url.rsplit(":", 1)[1]
    http_server.routes["/start"] = Response(
        status=302, headers={"Location": location.format(port=port)}
    )
    http_server.routes["/secret"] = Response(b"internal data")
    resolver = table_resolver(FEEDS_TEST)
    if "localhost" in location:  # the real system resolver, for the real name
        resolver = _with_system_fallback(resolver)
    policy = replace(POLICY, allow=("feeds.test",))
    error = fetch_error(f"http://feeds.test:{port}/start", policy, resolver=resolver)
    assert reason in str(error)
    assert len(http_server.requests_to("/start")) == 1  # the allowed hop was real
    assert http_server.requests_to("/secret") == []


def _with_system_fallback(
    resolver: Callable[[str, int], Awaitable[list[str]]],
) -> Callable[[str, int], Awaitable[list[str]]]:
    async def resolve(host: str, port: int) -> list[str]:
        return await (resolver if host.endswith(".test") else system_resolver)(host, port)

    return resolve


def test_name_with_one_internal_address_among_public_ones_is_refused() -> None:
    resolver = table_resolver({"mixed.test": ["93.184.215.14", "127.0.0.1"]})
    error = fetch_error("http://mixed.test/feed", replace(POLICY, allow=()), resolver=resolver)
    assert "mixed.test resolves to 127.0.0.1, which is a loopback address" in str(error)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/feed", "gopher://x/"])
def test_other_schemes_are_refused(url: str) -> None:
    scheme = url.split(":")[0]
    assert f"scheme '{scheme}' is not allowed (only http and https)" in str(fetch_error(url))


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://[::ffff:127.0.0.1]:8080/", "a loopback address (IPv4 127.0.0.1 inside an IPv6"),
        ("http://100.64.0.1/", "100.64.0.1 is a carrier-grade NAT address"),
        ("http://0.0.0.0/", "an unspecified address"),
    ],
)
def test_literal_addresses_are_refused(url: str, reason: str) -> None:
    assert reason in str(fetch_error(url, replace(POLICY, allow=())))


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("127.0.0.1", "a loopback address"),
        ("::1", "a loopback address"),
        ("10.1.2.3", "a private address"),
        ("172.16.0.1", "a private address"),
        ("192.168.1.1", "a private address"),
        ("fc00::1", "a private address"),
        ("169.254.169.254", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("100.64.0.1", "a carrier-grade NAT address"),
        ("224.0.0.1", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("0.0.0.0", "an unspecified address"),
        ("::", "an unspecified address"),
        ("240.0.0.1", "a private address"),  # reserved class E; Python calls it private too
        ("fec0::1", "a site-local address"),
        ("::ffff:127.0.0.1", "a loopback address (IPv4 127.0.0.1"),
        ("::ffff:169.254.169.254", "a link-local address"),
        ("::ffff:100.64.0.1", "a carrier-grade NAT address"),
        ("2002:7f00:1::", "a loopback address (IPv4 127.0.0.1"),  # 6to4
        ("2002:a9fe:a9fe::", "a link-local address"),  # 6to4 of 169.254.169.254
        ("64:ff9b::7f00:1", "a loopback address (IPv4 127.0.0.1"),  # NAT64
        ("64:ff9b::a00:1", "a private address (IPv4 10.0.0.1"),
        ("64:ff9b:1::1", "a local-use NAT64 address"),
        ("::127.0.0.1", "a loopback address (IPv4 127.0.0.1"),  # IPv4-compatible
        ("2001:db8::1", "a private address"),  # documentation
        ("8.8.8.8", None),
        ("93.184.215.14", None),
        ("2606:4700:4700::1111", None),
        ("::ffff:8.8.8.8", None),
        ("64:ff9b::808:808", None),  # NAT64 of 8.8.8.8
    ],
)
def test_ip_classifier(address: str, refused: str | None) -> None:
    reason = ip_refusal_reason(ipaddress.ip_address(address))
    if refused is None:
        assert reason is None
    else:
        assert reason is not None and reason.startswith(refused)


@given(st.ip_addresses())
def test_ip_classifier_never_raises(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    reason = ip_refusal_reason(ip)
    assert reason is None or reason.startswith(("a ", "an ", "not "))


@given(st.ip_addresses(v=4))
def test_mapped_addresses_are_judged_like_their_ipv4(ip: ipaddress.IPv4Address) -> None:
    mapped = ipaddress.IPv6Address(f"::ffff:{ip}")
    assert (ip_refusal_reason(mapped) is None) == (ip_refusal_reason(ip) is None)


# --- TLS through a pinned address ---------------------------------------------------------


def test_https_to_a_pinned_address_still_checks_the_certificate_name(tmp_path: Path) -> None:
    server_tls, client_tls = tls_contexts(tmp_path, "feeds.test")
    policy = replace(POLICY, allow=("feeds.test", "other.test"))
    names = table_resolver({"feeds.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})
    with serving(server_tls) as server:
        server.routes["/feed"] = Response(RSS)
        port = server.base_url.rsplit(":", 1)[1]

        def get(host: str, **kwargs: Any) -> FetchResult:
            url = f"https://{host}:{port}/feed"  # client_tls trusts the test CA
            return fetch(url, policy, resolver=names, verify=client_tls, **kwargs)

        assert get("feeds.test").content == RSS
        assert server.requests[0].headers["Host"] == f"feeds.test:{port}"
        # Same address, same trusted CA, but the certificate is not for this name.
        with pytest.raises(FetchError) as wrong_name:
            get("other.test")
        # And the system's CAs do not know the test CA at all.
        untrusted = fetch_error(f"https://feeds.test:{port}/feed", policy, resolver=names)
    assert str(wrong_name.value).startswith("TLS certificate of other.test was refused")
    assert "Hostname mismatch" in str(wrong_name.value)
    assert str(untrusted).startswith("TLS certificate of feeds.test was refused")
    assert not untrusted.transient


def test_connections_are_reused_for_one_host_name_only(tmp_path: Path) -> None:
    server_tls, client_tls = tls_contexts(tmp_path, "feeds.test")
    policy = replace(POLICY, allow=("feeds.test", "other.test"))
    names = table_resolver({"feeds.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})
    with serving(server_tls, keep_alive=True) as server:
        server.routes["/feed"] = Response(RSS)
        port = server.base_url.rsplit(":", 1)[1]

        async def fetch_in_turn(*hosts: str) -> list[FetchResult | FetchError]:
            results: list[FetchResult | FetchError] = []
            async with Fetcher(policy, resolver=names, verify=client_tls) as fetcher:
                for host in hosts:
                    try:
                        results.append(await fetcher.fetch(f"https://{host}:{port}/feed"))
                    except FetchError as exc:
                        results.append(exc)
            return results

        results = run(fetch_in_turn("feeds.test", "feeds.test", "other.test", "feeds.test"))

    same_site, again, other, back = results
    assert isinstance(same_site, FetchResult) and isinstance(again, FetchResult)
    assert isinstance(back, FetchResult)
    # One connection carried all three requests for feeds.test ...
    assert len(server.requests) == 3 and len({r.client_port for r in server.requests}) == 1
    # ... and the other name on the same address got a connection of its own, whose
    # certificate (made for feeds.test only) was checked and refused.
    assert isinstance(other, FetchError) and "Hostname mismatch" in str(other)


def test_an_idle_connection_outlives_a_pause_between_passes() -> None:
    # httpx drops idle connections after 5 s; a serve's passes can be further apart.
    pause = 5.5
    assert pause < fetch_module.IDLE_CONNECTION_SECONDS
    with serving(keep_alive=True) as server:
        server.routes["/feed"] = Response(RSS)

        async def fetch_twice() -> None:
            async with Fetcher(replace(POLICY, allow=("127.0.0.1",))) as fetcher:
                await fetcher.fetch(server.url("/feed"))
                await asyncio.sleep(pause)
                await fetcher.fetch(server.url("/feed"))

        run(fetch_twice())

    assert len(server.requests) == 2
    assert server.requests[0].client_port == server.requests[1].client_port


def test_clients_of_hosts_not_asked_lately_are_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    # A run touching thousands of hosts must not keep a socket open for each of them.
    monkeypatch.setattr(fetch_module, "IDLE_CLIENTS", 1)
    hosts = ("a.test", "b.test", "c.test")
    policy = replace(POLICY, allow=hosts)
    names = table_resolver({host: ["127.0.0.1"] for host in hosts})
    with serving(keep_alive=True) as server:
        server.routes["/feed"] = Response(RSS)
        port = server.base_url.rsplit(":", 1)[1]

        async def fetch_in_turn(*order: str) -> None:
            async with Fetcher(policy, resolver=names) as fetcher:
                for host in order:
                    await fetcher.fetch(f"http://{host}:{port}/feed")

        run(fetch_in_turn("a.test", "b.test", "c.test", "c.test", "a.test"))

    ports = [(r.headers["Host"].split(":")[0], r.client_port) for r in server.requests]
    (_, a_first), _, (_, c_first), (_, c_again), (_, a_again) = ports
    assert c_again == c_first  # the host asked last kept its connection
    assert a_again != a_first  # a.test's, idle behind two other hosts, was closed


# --- `feed fetch` -----------------------------------------------------------------------


@pytest.fixture
def cli() -> Iterator[typer.Typer]:
    app = typer.Typer()
    register(app)

    @app.callback()
    def main() -> None:
        """Vigie (test copy)."""

    get_settings.cache_clear()
    yield app
    get_settings.cache_clear()


def test_cli_feed_fetch_shows_the_exchange(
    http_server: LoopbackServer, cli: typer.Typer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIGIE_FETCH_ALLOW_HOSTS", "127.0.0.1")
    http_server.routes["/feed"] = Response(
        RSS, headers={"ETag": '"v2"', "Cache-Control": "max-age=600", "Content-Type": "text/xml"}
    )
    result = CliRunner().invoke(cli, ["feed", "fetch", http_server.url("/feed"), "--etag", '"v1"'])
    assert result.exit_code == 0, result.output
    assert 'If-None-Match: "v1"' in result.output
    assert "User-Agent: Vigie/0.1" in result.output
    assert 'etag: "v2"' in result.output and "cache-control: max-age=600" in result.output
    assert "entries: 1 in T" in result.output
    assert "0:10:00" in result.output  # what the server asks before the next poll


def test_cli_feed_fetch_honours_the_allow_list(
    http_server: LoopbackServer, cli: typer.Typer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIGIE_FETCH_ALLOW_HOSTS", "")
    http_server.routes["/feed"] = Response(RSS)
    result = CliRunner().invoke(cli, ["feed", "fetch", http_server.url("/feed")])
    assert result.exit_code == 1
    assert "refused: 127.0.0.1 is a loopback address" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("args", [["feed"], ["feed", "fetch"], ["feed", "parse"]])
def test_cli_help(cli: typer.Typer, args: list[str]) -> None:
    result = CliRunner().invoke(cli, [*args, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


def test_cli_feed_fetch_not_modified(
    http_server: LoopbackServer, cli: typer.Typer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIGIE_FETCH_ALLOW_HOSTS", "127.0.0.0/8")
    http_server.routes["/feed"] = Response(status=304)
    result = CliRunner().invoke(cli, ["feed", "fetch", http_server.url("/feed"), "--etag", "x"])
    assert result.exit_code == 0, result.output
    assert "304 not modified" in result.output and "nothing to parse" in result.output
