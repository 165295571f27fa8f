"""Fetching feeds and pages like a good citizen, and surviving the real web.

One ``Fetcher`` per run owns one HTTP client. Each ``fetch`` does, per hop::

    check the scheme (http/https only)
    resolve the host; refuse private, loopback, link-local... addresses (SSRF guard)
    wait for a per-host slot (politeness), and for a feed, when ``host_limit_prefix`` is set,
        for a slot of its host's Prefect global concurrency limit (politeness across workers),
        which the fetcher holds until it has no more requests for that host
    GET the address that was checked (pinned, so DNS cannot change under us), with a
        descriptive User-Agent and the caller's ETag / Last-Modified
    redirect?  -> next hop, at most ``max_redirects`` times, every hop checked again
    304        -> not modified, no body
    4xx/5xx    -> FetchError (transient for 408/429/5xx, with Retry-After when sent)
    2xx        -> stream the body, decompressing it ourselves in bounded steps, and stop as
                  soon as it passes the size limit or the total time limit

Every failure is a ``FetchError`` whose message says what happened and what to do about it,
whatever went wrong: every URL (the one asked for, each redirect's) is checked before a
request is built from it (``fetch_url_refusal``), validators are sent only when they can be
(``usable_etag``), and anything else that escapes httpx or the resolver is still wrapped, so
that one feed or page can fail only itself.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import re
import socket
import ssl
import time
import zlib
from collections import Counter, OrderedDict, deque
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from http import HTTPStatus
from http.cookiejar import CookieJar, DefaultCookiePolicy
from types import TracebackType
from typing import Protocol
from urllib.parse import urljoin

import certifi
import httpx

from fetching.decoding import ACCEPT_ENCODING, Kind, read_body
from fetching.guard import (
    AllowList,
    Resolver,
    checked_url,
    ip_or_none,
    ip_refusal_reason,
    refusal_message,
    system_resolver,
)
from parsers.exceptions import FetchError
from parsers.inert import clean
from parsers.schedule import parse_retry_after
from parsers.validators import usable_etag, usable_last_modified

_TRANSIENT_STATUSES = frozenset({408, 425, 429})  # plus every 5xx
_STATUS_ADVICE = {
    401: "the site wants a login",
    403: "access denied; the site may block automated readers",
    404: "check the URL",
    410: "the publisher removed it for good",
}
_ACCEPT: dict[Kind, str] = {
    "feed": "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5",
    "page": "text/html, application/xhtml+xml;q=0.9, */*;q=0.5",
}
HOST_LIMIT_SETTING = "VIGIE_HOST_LIMIT_PREFIX"
#: Hosts whose client (and its idle connections) a fetcher keeps while they are not in use.
IDLE_CLIENTS = 32
#: How long an idle connection is kept for the next request (httpx's default is 5 s). Passes
#: of a long-lived ``vigie serve`` that follow each other (a retry, a manual run) reuse their
#: connections; one the server has closed meanwhile is noticed before reuse and replaced.
IDLE_CONNECTION_SECONDS = 60.0
#: The prefix ``vigie feeds limits`` suggests when the setting is empty.
DEFAULT_HOST_LIMIT_PREFIX = "vigie-host-"
# Prefect's lease API refuses leases shorter than a minute. A lease outlives the request it
# guards only when a worker dies holding it; then the slot comes back when the lease expires.
_MIN_LEASE_SECONDS = 60.0
_NOT_NAME_CHAR = re.compile(r"[^a-z0-9-]")


class FetchSettings(Protocol):
    """The settings a ``FetchPolicy`` is read from (``flows.settings.Settings`` has them)."""

    @property
    def user_agent(self) -> str: ...
    @property
    def connect_timeout(self) -> float: ...
    @property
    def read_timeout(self) -> float: ...
    @property
    def total_timeout(self) -> float: ...
    @property
    def max_feed_bytes(self) -> int: ...
    @property
    def max_page_bytes(self) -> int: ...
    @property
    def max_redirects(self) -> int: ...
    @property
    def per_host_concurrency(self) -> int: ...
    @property
    def fetch_allow_list(self) -> tuple[str, ...]: ...
    @property
    def host_limit_prefix(self) -> str: ...


@dataclass(frozen=True)
class FetchPolicy:
    """The limits and manners every fetch follows."""

    #: Sent with every request, so publishers know who polls them and how to object.
    user_agent: str
    #: Seconds allowed to open a connection.
    connect_timeout: float
    #: Seconds allowed between two reads (headers or body bytes).
    read_timeout: float
    #: Seconds allowed for one whole response, however slowly it trickles in.
    total_timeout: float
    #: Largest feed body accepted, in bytes after decompression.
    max_feed_bytes: int
    #: Largest page body accepted, in bytes after decompression.
    max_page_bytes: int
    #: Redirects followed before a fetch is refused.
    max_redirects: int
    #: Requests in flight to one host within one ``Fetcher``.
    per_host_concurrency: int
    #: Host names (exact, without port) or IPs/CIDRs that may be fetched although not public.
    allow: tuple[str, ...] = ()
    #: When set, every request for a feed also holds a slot of the Prefect global concurrency
    #: limit named this prefix plus the feed's host (``host_limit_name``), which must exist.
    host_limit_prefix: str = ""

    @classmethod
    def from_settings(cls, settings: FetchSettings) -> FetchPolicy:
        """The policy the settings describe."""
        return cls(
            user_agent=settings.user_agent,
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            total_timeout=settings.total_timeout,
            max_feed_bytes=settings.max_feed_bytes,
            max_page_bytes=settings.max_page_bytes,
            max_redirects=settings.max_redirects,
            per_host_concurrency=settings.per_host_concurrency,
            allow=settings.fetch_allow_list,
            host_limit_prefix=settings.host_limit_prefix,
        )

    def max_bytes(self, kind: Kind) -> int:
        """The body size limit for this kind of document."""
        return self.max_feed_bytes if kind == "feed" else self.max_page_bytes


@dataclass(frozen=True)
class FetchResult:
    """A successful fetch: a body, or word that the stored copy is still current."""

    #: The URL asked for.
    url: str
    #: The URL that answered, after redirects.
    final_url: str
    #: HTTP status of the final response (2xx, or 304).
    status: int
    #: The body, decompressed; empty when not modified.
    content: bytes
    #: Response headers, names in lower case (repeated headers joined with ", ").
    headers: Mapping[str, str]
    #: True when the server answered 304 to the conditional request.
    not_modified: bool
    #: Validator to send next time; on a 304 without one, the one that was sent.
    etag: str | None
    #: Likewise for Last-Modified.
    last_modified: str | None
    #: Wall time of the whole fetch, redirects included.
    elapsed_ms: int
    #: SHA-256 (hex) of ``content``; None when not modified.
    body_hash: str | None
    #: Bytes of the body, decompressed (kept when ``content`` is let go once it is read).
    size: int = 0


@dataclass(frozen=True)
class _Hop:
    """What one request of a redirect chain produced."""

    status: int
    headers: dict[str, str]
    content: bytes
    #: The absolute URL to go to next, when the response was a redirect.
    location: str | None = None


# --- The fetcher ------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process: loading the CA bundle costs ~0.3 s each time."""
    return ssl.create_default_context(cafile=certifi.where())


class Fetcher:
    """Fetches URLs under a ``FetchPolicy``; use as ``async with Fetcher(policy) as f:``."""

    def __init__(
        self,
        policy: FetchPolicy,
        *,
        verify: ssl.SSLContext | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        """``resolver`` replaces getaddrinfo (tests map names to loopback with it); the
        fetcher connects to the addresses it returns, once they pass the SSRF guard.
        ``verify`` replaces the TLS context that checks certificates (to trust another CA).
        """
        self.policy = policy
        self._resolve = resolver or system_resolver
        self._allow = AllowList.parse(policy.allow)
        self._verify = verify or _tls_context()
        self._slots: dict[str, asyncio.Semaphore] = {}
        #: One client per host name, least recently used first, and requests using each.
        self._clients: OrderedDict[str, httpx.AsyncClient] = OrderedDict()
        self._in_use: Counter[str] = Counter()
        #: Slots of Prefect limits this fetcher holds or is taking, by limit name, and the
        #: fetches under way for each limit.
        self._held: dict[str, _SlotPool] = {}
        self._shared_users: Counter[str] = Counter()

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Give back held slots and close the connections; the fetcher cannot be used
        afterwards."""
        for name in list(self._held):
            await self._give_back(name)
        clients, self._clients = list(self._clients.values()), OrderedDict()
        for client in clients:
            await client.aclose()

    def _client_for(self, host: str) -> httpx.AsyncClient:
        """The client for one host name, created on first use.

        Requests go to pinned addresses, so a client's pool keys its connections by IP. One
        client per host name keeps connections alive without letting a TLS connection opened
        (and its certificate checked) for one site carry the next site's request on the same
        CDN address. Reuse saves a connection per page when a feed's pages share its host:
        0.45 ms of CPU per request on loopback, and a TLS handshake per page on the web.
        """
        client = self._clients.get(host)
        if client is not None:
            self._clients.move_to_end(host)
        else:
            client = self._clients[host] = httpx.AsyncClient(
                verify=self._verify,
                follow_redirects=False,  # every hop must pass the scheme and SSRF checks
                timeout=httpx.Timeout(
                    connect=self.policy.connect_timeout,
                    read=self.policy.read_timeout,
                    write=self.policy.read_timeout,
                    pool=self.policy.total_timeout,
                ),
                headers={"User-Agent": self.policy.user_agent},
                # Environment proxies would connect on our behalf and bypass the address checks.
                trust_env=False,
                # The host slots already bound requests in flight; idle ones wait for the next.
                limits=httpx.Limits(
                    max_keepalive_connections=self.policy.per_host_concurrency,
                    keepalive_expiry=IDLE_CONNECTION_SECONDS,
                ),
                # A poller needs no session, and cookies would follow it from site to site.
                cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
                event_hooks={"response": [_refuse_unusable_redirect]},
            )
        return client

    def request_headers(
        self, *, etag: str | None = None, last_modified: str | None = None, kind: Kind = "feed"
    ) -> dict[str, str]:
        """The headers a fetch sends (besides Host), conditional ones included."""
        headers = {
            "User-Agent": self.policy.user_agent,
            "Accept": _ACCEPT[kind],
            "Accept-Encoding": ACCEPT_ENCODING,
        }
        # An unsendable validator (stored by an earlier version, say) is left out: the fetch
        # is then unconditional instead of failing.
        if etag := usable_etag(etag):
            headers["If-None-Match"] = etag
        if last_modified := usable_last_modified(last_modified):
            headers["If-Modified-Since"] = last_modified
        return headers

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        kind: Kind = "feed",
    ) -> FetchResult:
        """GET ``url`` under the policy; raise ``FetchError`` with a readable reason."""
        started = time.perf_counter()
        headers = self.request_headers(etag=etag, last_modified=last_modified, kind=kind)
        # Feeds only, and named after the host asked for, not each redirect's: `vigie feeds
        # limits` knows the feeds' own hosts, but not every CDN a feed redirects to, nor the
        # open-ended hosts of article pages; a missing limit would fail those every time.
        shared_limit = self._shared_limit_name(url) if kind == "feed" else None
        if shared_limit is None:
            return await self._follow(url, headers, kind, None, started)
        self._shared_users[shared_limit] += 1
        try:
            return await self._follow(url, headers, kind, shared_limit, started)
        finally:
            self._shared_users[shared_limit] -= 1
            if not self._shared_users[shared_limit]:
                await self._give_back(shared_limit)

    async def _follow(
        self,
        url: str,
        headers: Mapping[str, str],
        kind: Kind,
        shared_limit: str | None,
        started: float,
    ) -> FetchResult:
        """Fetch ``url``, following redirects, each hop checked again."""
        current = url
        for _ in range(self.policy.max_redirects + 1):
            with _unexpected_errors(current):
                hop = await self._hop(current, headers, kind, shared_limit)
            if hop.location is None:
                elapsed_ms = round((time.perf_counter() - started) * 1000)
                sent = headers.get("If-None-Match"), headers.get("If-Modified-Since")
                return _result(url, current, hop, elapsed_ms, *sent)
            current = hop.location
        raise FetchError(
            f"too many redirects (max {self.policy.max_redirects}) starting at {url}; "
            f"the last one pointed to {current}"
        )

    async def _hop(
        self, url: str, headers: Mapping[str, str], kind: Kind, shared_limit: str | None
    ) -> _Hop:
        target = checked_url(url)
        host = target.host
        addresses = await self._vetted_addresses(target)
        # The local slot first: it bounds how many of this run's requests queue at the
        # Prefect server, which then only arbitrates between workers.
        async with self._host_slot(host), self._shared_slot(shared_limit, host):
            with _network_errors(url, host, self.policy):
                async with asyncio.timeout(self.policy.total_timeout):
                    response = await self._send(target, addresses, headers)
                    try:
                        return await self._read(url, host, response, kind)
                    finally:
                        await response.aclose()

    @asynccontextmanager
    async def _host_slot(self, host: str) -> AsyncIterator[None]:
        slot = self._slots.setdefault(host, asyncio.Semaphore(self.policy.per_host_concurrency))
        self._in_use[host] += 1
        try:
            async with slot:
                yield
        finally:
            self._in_use[host] -= 1
            await self._close_idle_clients()

    async def _close_idle_clients(self) -> None:
        """Close the clients of all but the ``IDLE_CLIENTS`` hosts last asked, among those
        with no request in flight.

        An idle connection is only closed when its own client is used again, so a run that
        touches thousands of hosts would otherwise keep a socket open for each of them.
        """
        idle = [host for host in self._clients if not self._in_use[host]]
        for host in idle[: max(0, len(idle) - IDLE_CLIENTS)]:
            await self._clients.pop(host).aclose()

    def _shared_limit_name(self, url: str) -> str | None:
        if not self.policy.host_limit_prefix:
            return None
        return host_limit_name(self.policy.host_limit_prefix, url)

    @asynccontextmanager
    async def _shared_slot(self, name: str | None, host: str) -> AsyncIterator[None]:
        """Hold a slot of the Prefect global concurrency limit ``name`` (none when None).

        A slot this fetcher already holds for ``name`` and no request is using serves the
        request; else one more is taken from the server, and the request goes with whichever
        comes first, that new slot or one of the fetcher's freed by another request
        (``_SlotPool``). Slots are given back when the fetcher has no request left for the
        limit (``fetch``), not after each request: one acquisition per slot and batch instead
        of one per request, and no 2 s poll (Prefect's Retry-After) each time a request finds
        the slot it just gave back not yet freed.
        """
        if name is None:
            yield
            return
        pool = self._held.get(name)
        if pool is None:
            pool = self._held[name] = _SlotPool(name, self.policy)
        slot = await pool.get(host)
        try:
            yield
        finally:
            pool.put(slot)

    async def _give_back(self, name: str) -> None:
        pool = self._held.pop(name, None)
        if pool is not None:
            await pool.give_back()

    async def _vetted_addresses(self, url: httpx.URL) -> list[str]:
        """The addresses to connect to, each one public or allowed; else ``FetchError``."""
        host = url.raw_host.decode("ascii")
        literal = ip_or_none(host)
        addresses = [host] if literal else await self._resolved(host, url.port or _port(url))
        if self._allow.allows_name(host):
            return addresses
        for address in addresses:
            ip = ipaddress.ip_address(address)
            reason = ip_refusal_reason(ip)
            if reason and not self._allow.allows_ip(ip):
                raise FetchError(refusal_message(host, address, reason, literal is not None))
        return addresses

    async def _resolved(self, host: str, port: int) -> list[str]:
        try:
            # Resolving is part of connecting, and a stuck resolver must not hang the run.
            async with asyncio.timeout(self.policy.connect_timeout):
                answer = await self._resolve(host, port)
            addresses = [a for a in answer if ip_or_none(a)]
        except TimeoutError as exc:
            msg = f"timed out after {self.policy.connect_timeout:g} s resolving {host}"
            raise FetchError(msg, transient=True) from exc
        except socket.gaierror as exc:
            # "No such name" will not fix itself; a resolver that timed out may.
            transient = exc.errno not in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", -5))
            raise FetchError(f"could not resolve {host}: {exc}", transient=transient) from exc
        except OSError as exc:
            raise FetchError(f"could not resolve {host}: {exc}", transient=True) from exc
        except UnicodeError as exc:  # the resolver's own name checks (label too long, ...)
            raise FetchError(f"could not resolve {host}: {exc}") from exc
        if not addresses:
            raise FetchError(f"could not resolve {host}: no address", transient=True)
        return addresses

    async def _send(
        self, url: httpx.URL, addresses: Sequence[str], headers: Mapping[str, str]
    ) -> httpx.Response:
        """Send to the vetted addresses in turn, so a dead IPv6 route falls back to IPv4."""
        client = self._client_for(url.host)
        for index, address in enumerate(addresses):
            request = client.build_request(
                "GET",
                url.copy_with(host=address),
                headers={**headers, "Host": url.netloc.decode("ascii")},
                # TLS must still check the certificate against the name, not the address.
                extensions={"sni_hostname": url.raw_host.decode("ascii")},
            )
            try:
                return await client.send(request, stream=True)
            except (httpx.ConnectError, httpx.ConnectTimeout):
                if index == len(addresses) - 1:
                    raise
        raise AssertionError("unreachable: addresses is never empty")

    async def _read(self, url: str, host: str, response: httpx.Response, kind: Kind) -> _Hop:
        status = response.status_code
        headers = {name.lower(): value for name, value in response.headers.items()}
        if status == 304:
            return _Hop(status, headers, b"")
        if 300 <= status < 400:
            return _Hop(status, headers, b"", _location(url, status, headers, host))
        if status >= 400:
            raise _status_error(status, response.reason_phrase, host, headers)
        content = await read_body(response, self.policy.max_bytes(kind), kind, host)
        return _Hop(status, headers, content)


class _SlotPool:
    """The slots of one Prefect limit a fetcher holds or is taking, shared by its requests.

    A request that finds no free slot starts taking one more from the server, and is served
    by whichever comes first: that slot, or one another request frees meanwhile. Taking a
    slot can stall: Prefect's server on SQLite answers 503 when the write collides with
    another, and its client retries 2 s later. A batch on one host then goes on with the
    slot it holds instead of a request (and the whole batch, which waits for it) sitting out
    the retry; the late slot joins the pool when it comes.
    """

    def __init__(self, name: str, policy: FetchPolicy) -> None:
        self._name = name
        self._policy = policy
        #: Every slot held (given back together), those no request is using, the requests
        #: waiting for one (oldest first), and the takes under way.
        self._held: list[_HeldSlot] = []
        self._free: list[_HeldSlot] = []
        self._waiting: deque[asyncio.Future[_HeldSlot]] = deque()
        self._taking: set[asyncio.Task[None]] = set()

    async def get(self, host: str) -> _HeldSlot:
        """A free slot, else the first of one freed by another request or one more taken;
        ``FetchError`` if the server refuses one while the request still waits."""
        if self._free:
            return self._free.pop()
        wanted: asyncio.Future[_HeldSlot] = asyncio.get_running_loop().create_future()
        self._waiting.append(wanted)
        self._start_takes(host)
        try:
            return await wanted
        except asyncio.CancelledError:
            # Cancelled (by the pass's deadline) just as a slot was handed over: keep it.
            if wanted.done() and not wanted.cancelled() and wanted.exception() is None:
                self.put(wanted.result())
            raise
        finally:
            with suppress(ValueError):
                self._waiting.remove(wanted)

    def _start_takes(self, host: str) -> None:
        """Take one more slot for each waiting request, up to the fetcher's own bound on
        requests in flight to a host: more slots than that would only sit free."""
        waiting = sum(not wanted.done() for wanted in self._waiting)
        while (
            len(self._taking) < waiting
            and len(self._held) + len(self._taking) < self._policy.per_host_concurrency
        ):
            taking = asyncio.create_task(self._take(host), name=f"take {self._name}")
            self._taking.add(taking)

    async def _take(self, host: str) -> None:
        try:
            slot = await _HeldSlot.take(self._name, host, self._policy)
        except FetchError as exc:
            self._taking.discard(asyncio.current_task())
            # The oldest waiting request gets the refusal (a missing limit, a timeout); none
            # waiting means a freed slot served them all, and nothing is lost. The others
            # still waiting ask for slots of their own.
            for wanted in self._waiting:
                if not wanted.done():
                    wanted.set_exception(exc)
                    break
            self._start_takes(host)
            return
        finally:
            self._taking.discard(asyncio.current_task())
        self._held.append(slot)
        self.put(slot)

    def put(self, slot: _HeldSlot) -> None:
        """Hand ``slot`` to the oldest waiting request, else keep it free."""
        while self._waiting:
            wanted = self._waiting.popleft()
            if not wanted.done():
                wanted.set_result(slot)
                return
        self._free.append(slot)

    async def give_back(self) -> None:
        """Stop the takes under way (Prefect releases a slot granted to a cancelled take)
        and release every slot held."""
        taking = list(self._taking)
        for task in taking:
            task.cancel()
        try:
            # Shielded, as ``_HeldSlot.give_back``: a pass cancelled meanwhile still has its
            # takes stopped, and its held slots released below.
            await asyncio.shield(asyncio.gather(*taking, return_exceptions=True))
        finally:
            held, self._held, self._free = self._held, [], []
            for slot in held:
                await slot.give_back()


class _HeldSlot:
    """One slot of a Prefect global concurrency limit, held by a task of its own.

    Prefect's ``concurrency`` context must be left by the task that entered it, while a held
    slot serves several requests, each in its own task; the holding task enters it, renews
    the lease meanwhile, and leaves when told to.
    """

    def __init__(self, name: str, policy: FetchPolicy) -> None:
        self._name = name
        self._policy = policy
        self._acquired: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._done = asyncio.Event()
        self._task = asyncio.create_task(self._hold(), name=f"hold {name}")

    @classmethod
    async def take(cls, name: str, host: str, policy: FetchPolicy) -> _HeldSlot:
        """A slot of ``name``, once the server grants it; ``FetchError`` if it does not."""
        # Imported here: Prefect takes over a second to import, and only this path needs it.
        from prefect.concurrency.asyncio import (
            AcquireConcurrencySlotTimeoutError,
            ConcurrencySlotAcquisitionError,
        )

        slot = cls(name, policy)
        try:
            await asyncio.shield(slot._acquired)
        except AcquireConcurrencySlotTimeoutError as exc:
            msg = (
                f"waited {policy.total_timeout:g} s for a slot of Prefect concurrency limit "
                f"{name!r} (other workers are fetching from {host}; will retry)"
            )
            raise FetchError(msg, transient=True) from exc
        except ConcurrencySlotAcquisitionError as exc:
            raise _shared_limit_error(name, exc) from exc
        except asyncio.CancelledError:
            slot._task.cancel()  # Prefect gives back a lease granted to a cancelled waiter
            raise
        return slot

    async def _hold(self) -> None:
        from prefect.concurrency.asyncio import concurrency

        try:
            async with concurrency(
                self._name,
                timeout_seconds=self._policy.total_timeout,
                lease_duration=max(_MIN_LEASE_SECONDS, 2 * self._policy.total_timeout),
                # A missing limit is an error, not the warning Prefect would log before
                # letting every worker hit the host at once.
                strict=True,
                # A failed lease renewal only means the slot may be handed out again early,
                # not worth killing the run.
                raise_on_lease_renewal_failure=False,
            ):
                self._acquired.set_result(None)
                await self._done.wait()
        except BaseException as exc:
            if self._acquired.done():
                raise
            if isinstance(exc, asyncio.CancelledError):
                self._acquired.cancel()
            else:
                self._acquired.set_exception(exc)

    async def give_back(self) -> None:
        """Release the slot; a failure to say so only leaves it to its lease's expiry."""
        self._done.set()
        with suppress(Exception):
            # Shielded: a pass cancelled by its deadline while giving slots back would
            # otherwise cancel the release itself, and the slot would stay taken until its
            # lease expired (a minute or more), holding up every other worker on that host.
            await asyncio.shield(self._task)


# --- Small helpers ----------------------------------------------------------------------


def host_limit_name(prefix: str, url: str) -> str:
    """The Prefect global concurrency limit for ``url``'s host: ``vigie-host-www-cbc-ca``.

    Lower-case letters, digits and dashes only (dots, colons and the rest become dashes);
    the port is left out, since politeness is owed to the host, whatever the port.
    """
    host = checked_url(url).raw_host.decode("ascii")
    return prefix + _NOT_NAME_CHAR.sub("-", host.lower()).strip("-")


def _shared_limit_error(name: str, exc: Exception) -> FetchError:
    if "must be created" in str(exc):
        # Not transient: retrying will not create the limit, and the operator must act.
        return FetchError(
            f"Prefect concurrency limit {name!r} does not exist; create the per-host limits "
            f"with `vigie feeds limits`, or empty {HOST_LIMIT_SETTING} to turn them off"
        )
    cause = exc.__cause__ or exc
    return FetchError(
        f"could not take a slot of Prefect concurrency limit {name!r}: {cause}", transient=True
    )


async def _refuse_unusable_redirect(response: httpx.Response) -> None:
    """Refuse a redirect to a URL Vigie would not request, before httpx reads it.

    httpx builds the request a redirect points to even when it follows none, and fails, with
    an error of its own, on a Location it cannot parse (``http:\\\\host/``, ``http://xn--/``):
    that error escaped the fetch and failed the whole pass (a response hook runs first).
    """
    if not response.has_redirect_location:
        return
    location = response.headers["location"].strip()
    host = response.request.headers["host"]
    # The request went to the vetted address; relative locations are read against the name.
    base = str(response.request.url.copy_with(netloc=host.encode("ascii")))
    try:
        checked_url(urljoin(base, location))
    except (FetchError, ValueError) as exc:
        status = response.status_code
        raise FetchError(f"HTTP {status} redirect from {host} refused: {exc}") from None


def _port(url: httpx.URL) -> int:
    return 443 if url.scheme == "https" else 80


def _location(url: str, status: int, headers: Mapping[str, str], host: str) -> str:
    location = headers.get("location", "").strip()
    if not location:
        raise FetchError(f"HTTP {status} redirect without a Location header from {host}")
    return urljoin(url, location)


def _status_error(status: int, phrase: str, host: str, headers: Mapping[str, str]) -> FetchError:
    transient = status >= 500 or status in _TRANSIENT_STATUSES
    retry_after = parse_retry_after(headers.get("retry-after"), datetime.now(UTC))
    phrase = phrase or _standard_phrase(status)
    if transient:
        when = f" after {retry_after:g} s" if retry_after is not None else ""
        advice = f"will retry{when}"
    else:
        advice = _STATUS_ADVICE.get(status, "will not retry soon")
    return FetchError(
        f"HTTP {status} {phrase} from {host} ({advice})",
        transient=transient,
        status=status,
        retry_after=retry_after,
    )


def _standard_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "(non-standard status)"


@contextmanager
def _network_errors(url: str, host: str, policy: FetchPolicy) -> Iterator[None]:
    """Turn httpx and timeout exceptions into ``FetchError`` with a readable reason."""
    try:
        yield
    except FetchError:
        raise
    except httpx.ConnectTimeout as exc:
        msg = f"timed out after {policy.connect_timeout:g} s connecting to {host}"
        raise FetchError(msg, transient=True) from exc
    except (httpx.ReadTimeout, httpx.WriteTimeout) as exc:
        msg = f"timed out after {policy.read_timeout:g} s reading {url} (the server went quiet)"
        raise FetchError(msg, transient=True) from exc
    except httpx.PoolTimeout as exc:
        msg = f"timed out waiting for a free connection to {host}"
        raise FetchError(msg, transient=True) from exc
    except TimeoutError as exc:
        msg = (
            f"timed out after {policy.total_timeout:g} s receiving {url} "
            "(total limit: the server sends too slowly)"
        )
        raise FetchError(msg, transient=True) from exc
    except httpx.ConnectError as exc:
        if _caused_by(exc, ssl.SSLCertVerificationError):
            # Not worth retrying soon: the publisher has to fix the certificate.
            raise FetchError(f"TLS certificate of {host} was refused: {exc}") from exc
        raise FetchError(f"could not connect to {host}: {exc}", transient=True) from exc
    except httpx.RemoteProtocolError as exc:
        msg = f"{host} broke the HTTP exchange for {url}: {exc}"
        raise FetchError(msg, transient=True) from exc
    except zlib.error as exc:
        raise FetchError(f"could not decompress the body of {url}: {exc}") from exc
    except httpx.HTTPError as exc:
        msg = f"{type(exc).__name__} fetching {url}: {exc}"
        raise FetchError(msg, transient=True) from exc


@contextmanager
def _unexpected_errors(url: str) -> Iterator[None]:
    """Whatever else escapes one request (a library's own error on input nobody foresaw)
    fails that fetch only, with its type and message, never the whole pass."""
    try:
        yield
    except FetchError:
        raise
    except Exception as exc:
        reason = clean(exc, 300) or "no message"
        raise FetchError(f"could not fetch {url[:300]}: {type(exc).__name__}: {reason}") from exc


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _result(
    url: str,
    final_url: str,
    hop: _Hop,
    elapsed_ms: int,
    sent_etag: str | None,
    sent_last_modified: str | None,
) -> FetchResult:
    not_modified = hop.status == 304
    # Only validators that can be sent back are kept (see parsers.validators).
    etag = usable_etag(hop.headers.get("etag")) or (sent_etag if not_modified else None)
    last_modified = usable_last_modified(hop.headers.get("last-modified")) or (
        sent_last_modified if not_modified else None
    )
    return FetchResult(
        url=url,
        final_url=final_url,
        status=hop.status,
        content=hop.content,
        headers=hop.headers,
        not_modified=not_modified,
        etag=etag,
        last_modified=last_modified,
        elapsed_ms=elapsed_ms,
        body_hash=None if not_modified else hashlib.sha256(hop.content).hexdigest(),
        size=len(hop.content),
    )
