"""Real receivers on loopback for alert tests: a webhook that counts idempotency keys, an SMTP
server (aiosmtpd), and an outbox on a real database with builder methods and a fixed clock."""

from __future__ import annotations

import email
import email.policy
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from db import outbox, repo
from db.engine import make_engine, make_sessions
from db.migrate import upgrade
from db.models import Article
from db.outbox import AlertForDelivery
from flows.settings import SEEDS_DIR, Settings
from parsers.alert_rules import AlertRules, parse_rules
from tests.loopback import LoopbackServer, Response

if TYPE_CHECKING:
    from parsers.tagging import Tagger

NOW = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)
# About 5 s on an idle machine, but a minute or more on a busy shared one.
STARTUP_DEADLINE_S = 150


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- webhook -----------------------------------------------------------------------------------


@dataclass
class Hit:
    """One accepted webhook request."""

    key: str | None
    headers: dict[str, str]
    body: bytes


class Receiver:
    """A webhook at ``/hook`` on a LoopbackServer; ``status`` decides its answer."""

    def __init__(self, server: LoopbackServer, path: str = "/hook") -> None:
        self.server = server
        self.path = path
        self.status = 200
        self.accepted: list[Hit] = []
        self._lock = threading.Lock()
        server.routes[path] = self._answer

    @property
    def url(self) -> str:
        return self.server.url(self.path)

    def apprise_url(self, credentials: str = "") -> str:
        """The receiver as an Apprise ``json://`` URL."""
        host = self.server.base_url.removeprefix("http://")
        return f"json://{credentials}{host}{self.path}"

    def _answer(self, handler: BaseHTTPRequestHandler) -> Response:
        if self.status < 300:
            body = self.server.requests[-1].body
            hit = Hit(handler.headers.get("Idempotency-Key"), dict(handler.headers.items()), body)
            with self._lock:
                self.accepted.append(hit)
        return Response(b"{}", self.status, {"Content-Type": "application/json"})

    def keys(self) -> Counter[str | None]:
        return Counter(hit.key for hit in self.accepted)


# --- SMTP --------------------------------------------------------------------------------------


@dataclass
class Mailbox:
    """Messages an SMTP server on 127.0.0.1 received."""

    port: int
    messages: list[EmailMessage] = field(default_factory=list)

    def url(self, credentials: str = "") -> str:
        return (
            f"mailto://{credentials}127.0.0.1:{self.port}"
            "?from=vigie@example.org&to=analyst@example.org&mode=insecure"
        )

    def parts(self, index: int = -1) -> dict[str, str]:
        """content type -> decoded text of one message's parts."""
        message = self.messages[index]
        return {
            part.get_content_type(): part.get_content()
            for part in message.walk()
            if not part.is_multipart()
        }


class _Handler:
    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.mailbox.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"


@contextmanager
def smtp_server(password: str | None = None) -> Iterator[Mailbox]:
    """An SMTP server on a free loopback port; with ``password``, AUTH is required."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    mailbox = Mailbox(free_port())
    options: dict[str, Any] = {}
    if password is not None:

        def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth: Any):
            ok = auth.password.decode() == password
            return AuthResult(success=ok)

        options = {"authenticator": authenticate, "auth_require_tls": False}
    controller = Controller(_Handler(mailbox), hostname="127.0.0.1", port=mailbox.port, **options)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()


# --- outbox ------------------------------------------------------------------------------------


class Outbox:
    """A migrated database with builders for articles, feeds and alerts."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        upgrade(self.engine)
        self.sessions: sessionmaker[Session] = make_sessions(self.engine)
        self._n = 0

    def article(self, title: str = "An article") -> int:
        self._n += 1
        with self.sessions.begin() as session:
            article = Article(
                canonical_url=f"https://news.example/{self._n}",
                title=title,
                source="test",
                site="news.example",
                first_seen_at=NOW,
            )
            session.add(article)
            session.flush()
            return article.id

    def feed(self, name: str = "A feed") -> int:
        self._n += 1
        with self.sessions.begin() as session:
            url = f"https://feeds.example/{self._n}.rss"
            repo.add_feeds(session, [repo.FeedSpec(url, name)], NOW)
            return next(f.id for f in repo.list_feeds(session) if f.url == url)

    def add(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        at: datetime = NOW,
        key: str | None = None,
        severity: str = "info",
        article_id: int | None = None,
        feed_id: int | None = None,
    ) -> int:
        self._n += 1
        key = key or f"{kind}:{self._n}"
        with self.sessions.begin() as session:
            repo.add_alert(
                session,
                kind=kind,
                dedup_key=key,
                payload=payload,
                now=at,
                severity=severity,
                article_id=article_id,
                feed_id=feed_id,
            )
            alert_id = outbox.id_for_key(session, key)
        assert alert_id is not None
        return alert_id

    def get(self, alert_id: int) -> AlertForDelivery:
        with self.sessions.begin() as session:
            alert = outbox.get_alert(session, alert_id)
        assert alert is not None
        return alert

    def statuses(self) -> dict[str, int]:
        with self.sessions.begin() as session:
            return {k: v for k, v in outbox.status_counts(session).items() if v}

    def close(self) -> None:
        self.engine.dispose()


def store_seeds(box: Outbox, tagger: Tagger, at: datetime = NOW) -> None:
    """The project's seed articles stored in ``box`` as the seed flow stores them (alerts too)."""
    from flows.pipeline import intents_from_seeds, tag_specs
    from parsers.seeds import load_seeds

    intents = intents_from_seeds(load_seeds(SEEDS_DIR), tagger)
    with box.sessions.begin() as session:
        tag_ids = repo.sync_tags(session, tag_specs(tagger.taxonomy))
        repo.store_articles(session, intents, tag_ids, at)


def article_payload(title: str = "Quebec asks Ottawa to share the asylum load", **extra: Any):
    payload: dict[str, Any] = {
        "title": title,
        "url": "https://news.example/2026/11/asylum",
        "source": "La Presse",
        "published_at": "2026-11-21T13:30:00+00:00",
        "topics": ["asylum_refugees"],
        "relevance": 2.0,
        "evidence": "Quebec says it received 45,000 asylum claimants this year.",
    }
    payload.update(extra)
    return payload


def settings(**values: Any) -> Settings:
    """Settings for a test, ignoring the environment's alert URLs and any ``.env``."""
    defaults: dict[str, Any] = {"alert_urls": "", "alert_backoff_seconds": 60.0}
    return Settings(_env_file=None, **{**defaults, **values})  # type: ignore[call-arg]


def rules(text: str = "") -> AlertRules:
    return parse_rules(text, "test rules")


class Events:
    """Records what would be emitted as Prefect events."""

    def __init__(self) -> None:
        self.emitted: list[tuple[str, dict[str, str], dict[str, Any]]] = []
        self._lock = threading.Lock()

    def __call__(self, alert: AlertForDelivery, status: str) -> None:
        from flows.alerts import event_resource

        with self._lock:
            event = (f"vigie.alert.{alert.kind}", event_resource(alert, status), alert.payload)
            self.emitted.append(event)

    def statuses(self) -> Counter[str]:
        return Counter(resource["vigie.alert.status"] for _e, resource, _p in self.emitted)


# --- a real Prefect server ---------------------------------------------------------------------


class PrefectServer:
    """``prefect server start`` in a subprocess with its own PREFECT_HOME."""

    def __init__(self, home: Path) -> None:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
        env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false",
                   PREFECT_LOGGING_LEVEL="WARNING")  # fmt: skip
        prefect = Path(sys.executable).parent / "prefect"
        command = [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port),
                   "--analytics-off"]  # fmt: skip
        self.api = f"http://127.0.0.1:{port}/api"
        self._log = (home / "server.log").open("wb")
        self._process = subprocess.Popen(
            command, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )

    def wait_ready(self) -> None:
        wait_until(self._ready, STARTUP_DEADLINE_S, "the Prefect server to start")

    def _ready(self) -> bool:
        if self._process.poll() is not None:
            raise AssertionError(f"prefect server start exited with {self._process.returncode}")
        return _healthy(self.api)

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
        self._log.close()


# One server per pytest process: each test module imports the fixture, which would otherwise
# give every module its own session-scoped copy, and its own server.
_SERVER: list[PrefectServer] = []


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The API URL of a real Prefect server shared by the whole test session."""
    if not _SERVER:
        server = PrefectServer(tmp_path_factory.mktemp("prefect-home"))
        _SERVER.append(server)
        try:
            server.wait_ready()
        except AssertionError:
            server.stop()
            _SERVER.clear()
            raise
    yield _SERVER[0].api
    _SERVER[0].stop()  # at the end of the session; stopping twice is harmless


def _healthy(api: str) -> bool:
    try:
        return httpx.get(f"{api}/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def wait_until(condition: Callable[[], object], deadline_s: float, what: str) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {deadline_s} s waiting for {what}")


@pytest.fixture
def on_prefect(prefect_api: str) -> Iterator[str]:
    """Point this process's Prefect client (and event emitter) at the subprocess server."""
    from prefect.events.worker import EventsWorker
    from prefect.settings import PREFECT_API_URL, temporary_settings

    EventsWorker.drain_all(timeout=10)  # an emitter started earlier would send elsewhere
    with temporary_settings({PREFECT_API_URL: prefect_api}):
        yield prefect_api
        EventsWorker.drain_all(timeout=10)
