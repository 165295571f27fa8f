"""A fast loopback HTTP/1.1 server for a generated corpus, with conditional GET.

    python -m bench.serve --root DIR --port P [--hosts 127.0.0.1,127.0.0.2]   # serve
    python bench/serve.py --check [--requests 4000]                          # measure

It answers ``GET``/``HEAD`` from ``DIR/routes.json`` (feeds held in memory, pages read from
disk), ignores query strings (tracking parameters reach the same page), sends ETag and
Last-Modified, and answers 304 to a matching If-None-Match, or, without one, to an
If-Modified-Since not older than the document. Connections are kept alive when the client
wants (reader does; so does Vigie, one pool of connections per host name).

Why not ``tests/loopback.py``: ``ThreadingHTTPServer`` starts a thread per connection and
parses headers with the email package; ``--check`` measures both on this machine, so the
benchmark can show that the server is not what it measures. ``/__stats`` returns request
counts as JSON (not a corpus path, so it never collides with one).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path

if __package__ in (None, ""):
    sys.path[0] = str(Path(__file__).resolve().parent.parent)  # see bench/corpus.py

_HEAD_LIMIT = 64 * 1024
_REASONS = {200: "OK", 304: "Not Modified", 404: "Not Found", 405: "Method Not Allowed"}


@dataclass(frozen=True)
class Document:
    """One servable document; pages keep only their file name until asked for."""

    content_type: str
    last_modified: str
    file: Path
    body: bytes | None = None

    def read(self) -> bytes:
        return self.body if self.body is not None else self.file.read_bytes()


def load_routes(root: Path) -> dict[str, Document]:
    """Routes from ``routes.json``; feeds are read now (they are polled again and again)."""
    routes: dict[str, Document] = {}
    table = json.loads((root / "routes.json").read_text())
    for path, (name, kind, modified) in table.items():
        file = root / "www" / name
        body = file.read_bytes() if name.startswith("feeds/") else None
        routes[path] = Document(kind, modified, file, body)
    return routes


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=10).hexdigest() + '"'


def _not_modified(headers: dict[bytes, bytes], etag: str, last_modified: str) -> bool:
    match = headers.get(b"if-none-match")
    if match is not None:
        tags = [t.strip().removeprefix("W/") for t in match.decode("latin-1").split(",")]
        return etag in tags or "*" in tags
    since = headers.get(b"if-modified-since")
    if since is None:
        return False
    try:
        return parsedate_to_datetime(last_modified) <= parsedate_to_datetime(since.decode())
    except (TypeError, ValueError):
        return False  # an unreadable date is ignored, as RFC 9110 says


class CorpusServer:
    """Serves routes on several loopback addresses, all on one port."""

    def __init__(self, routes: dict[str, Document]) -> None:
        self.routes = routes
        self.stats: Counter[str] = Counter()
        self._etags: dict[str, str] = {}

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                keep_alive = self._answer(head, writer)
                await writer.drain()
                if not keep_alive:
                    break
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass  # the client closed the connection, or sent nonsense: nothing to answer
        finally:
            writer.close()

    def _answer(self, head: bytes, writer: asyncio.StreamWriter) -> bool:
        lines = head.split(b"\r\n")
        method, target, version = [*lines[0].split(b" "), b"", b""][:3]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        connection = headers.get(b"connection", b"").lower()
        keep_alive = connection != b"close" and (
            version == b"HTTP/1.1" or connection == b"keep-alive"
        )
        path = target.decode("latin-1")
        status, extra, body = self._respond(method, path, headers)
        if not path.startswith("/__stats"):  # count the clients' requests, not the probes
            self.stats[str(status)] += 1
            self.stats["bytes"] += len(body)
        response = [
            f"HTTP/1.1 {status} {_REASONS[status]}\r\n".encode(),
            b"Server: vigie-bench\r\n",
            f"Content-Length: {len(body)}\r\n".encode(),
            b"Connection: keep-alive\r\n" if keep_alive else b"Connection: close\r\n",
            *(f"{name}: {value}\r\n".encode() for name, value in extra.items()),
            b"\r\n",
        ]
        writer.write(b"".join(response) + (body if method != b"HEAD" else b""))
        return keep_alive

    def _respond(
        self, method: bytes, target: str, headers: dict[bytes, bytes]
    ) -> tuple[int, dict[str, str], bytes]:
        if method not in (b"GET", b"HEAD"):
            return 405, {"Allow": "GET, HEAD"}, b""
        path = target.split("?", 1)[0]  # tracking parameters reach the same document
        if path == "/__stats":
            return 200, {"Content-Type": "application/json"}, json.dumps(self.stats).encode()
        document = self.routes.get(path)
        if document is None:
            return 404, {"Content-Type": "text/plain"}, b"not found"
        body = document.read()
        etag = self._etags.get(path) or self._etags.setdefault(path, etag_of(body))
        validators = {"ETag": etag, "Last-Modified": document.last_modified}
        if _not_modified(headers, etag, document.last_modified):
            return 304, validators, b""
        return 200, {"Content-Type": document.content_type, **validators}, body

    async def serve(self, hosts: Sequence[str], port: int, ready: threading.Event | None) -> None:
        servers = [
            await asyncio.start_server(self.handle, host, port, limit=_HEAD_LIMIT, backlog=1024)
            for host in hosts
        ]
        if ready is not None:
            ready.set()
        else:  # a child process: tell the parent it may start clients
            print(f"READY {port}", flush=True)
        await asyncio.gather(*(s.serve_forever() for s in servers))


# --- measuring the server itself -------------------------------------------------------------


def _fetch_all(urls: Sequence[str], workers: int) -> float:
    """Seconds to GET every URL with ``workers`` threads, one connection per request (the
    dearest way to serve them); the server's share of a benchmark run is less than this."""
    import http.client
    from concurrent.futures import ThreadPoolExecutor
    from urllib.parse import urlsplit

    def get(url: str) -> int:
        parts = urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
        conn.request("GET", parts.path, headers={"Connection": "close"})
        size = len(conn.getresponse().read())
        conn.close()
        return size

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        sizes = list(pool.map(get, urls))
    assert all(sizes), "an empty response"
    return time.perf_counter() - started


def check(requests: int) -> dict[str, float]:
    """Requests per second of this server and of tests/loopback.py, on one feed document."""
    from bench.corpus import CorpusSpec, build, render_feed
    from bench.harness import free_port
    from tests.loopback import LoopbackServer, Response

    corpus = build(CorpusSpec(feeds=1, items=50, seed=1))
    body = render_feed(corpus.feeds[0], corpus.items[0])
    results: dict[str, float] = {"feed_bytes": len(body)}

    threaded = LoopbackServer().start()
    threaded.routes["/feed.xml"] = Response(body, headers={"Content-Type": "application/rss+xml"})
    seconds = _fetch_all([threaded.url("/feed.xml")] * requests, workers=8)
    threaded.stop()
    results["threading_http_server_rps"] = requests / seconds

    fast = CorpusServer({"/feed.xml": Document("application/rss+xml", "", Path(), body)})
    ready = threading.Event()
    loop = asyncio.new_event_loop()
    port = free_port()
    thread = threading.Thread(
        target=loop.run_until_complete, args=(fast.serve(["127.0.0.1"], port, ready),), daemon=True
    )
    thread.start()
    ready.wait(10)
    seconds = _fetch_all([f"http://127.0.0.1:{port}/feed.xml"] * requests, workers=8)
    results["bench_server_rps"] = requests / seconds
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve a benchmark corpus on loopback.")
    parser.add_argument("--root", type=Path, help="corpus directory (with routes.json)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--hosts", default="127.0.0.1", help="comma-separated loopback IPs")
    parser.add_argument("--check", action="store_true", help="measure this server, then exit")
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args(argv)
    if args.check:
        for name, value in check(args.requests).items():
            print(f"{name}: {value:,.0f}")
        return 0
    if args.root is None:
        parser.error("--root is required unless --check")
    server = CorpusServer(load_routes(args.root))
    hosts = [h.strip() for h in args.hosts.split(",") if h.strip()]
    # SIGTERM from the harness ends the loop quietly instead of printing a traceback.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    asyncio.run(server.serve(hosts, args.port, None))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
