"""Guarantee 6, secrets: a database password, webhook tokens and SMTP credentials never appear
in logs, run artifacts, CLI output, exception text or what Vigie stores.

One run of everything an operator does, with every kind of secret configured at once (a
PostgreSQL URL with a password, a webhook URL with a password, a path token and a header
token, an SMTP URL with a login): ``vigie init``, ``feeds add``, ``monitor`` (the real flow, on
the Prefect test server, over a loopback site), ``alerts deliver`` while the webhook refuses
the token, ``alerts list``, ``alerts test``, ``articles``, ``feeds list``, then ``monitor`` and
``articles`` against a database that cannot be reached. Everything captured is searched:
caplog, the process's stdout and stderr (capfd), each command's output and exception, the
artifacts, flow-run states and logs on the Prefect server, and the error fields in the database.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner, Result

from bench.chaos_site import first_state
from flows import context
from flows.settings import get_settings
from tests.alerting import Receiver, smtp_server
from tests.loopback import LoopbackServer, Response

DB_PASSWORD = "DbPa55w0rd-7c1e"
HOOK_PASSWORD = "HookPa55-51fe"
PATH_TOKEN = "PathToken-4be2d9"
HEADER_TOKEN = "HeaderToken-88aa1"
SMTP_PASSWORD = "SmtpPa55!word"
SECRETS = (DB_PASSWORD, HOOK_PASSWORD, PATH_TOKEN, HEADER_TOKEN, SMTP_PASSWORD,
           quote(SMTP_PASSWORD, safe=""))  # fmt: skip


def _serve_site(server: LoopbackServer) -> list[str]:
    """A small news site on the loopback server; its feed URLs."""
    port = int(server.base_url.rsplit(":", 1)[1])
    state = first_state(feeds=2, items=3, seed=3, port=port)
    for path, (body, kind) in state.routes().items():
        server.routes[path] = Response(body, headers={"Content-Type": kind})
    return [feed.url for feed in state.feeds]


def _invoke(args: list[str]) -> str:
    """A CLI command's output, and its exception with the traceback, as one text."""
    from cli.app import app

    result: Result = CliRunner().invoke(app, args)
    seen = [result.output]
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        seen += traceback.format_exception(result.exception)
    return "\n".join(seen)


def _prefect_records() -> list[str]:
    """Artifacts, flow-run states and logs as the Prefect server holds them."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        artifacts = [f"{a.key} {a.data} {a.description}" for a in client.read_artifacts()]
        runs = [f"{r.name} {r.parameters} {r.state}" for r in client.read_flow_runs(limit=200)]
        logs = [log.message for log in client.read_logs(limit=200)]
    return [*artifacts, *runs, *logs]


def _stored_errors() -> list[str]:
    with context.engine().connect() as connection:
        return [
            str(value)
            for query in (
                "SELECT last_error FROM alerts",
                "SELECT note FROM alerts",
                "SELECT payload FROM alerts",
                "SELECT last_error FROM feeds",
                "SELECT error FROM fetches",
            )
            for value in connection.execute(text(query)).scalars()
            if value is not None
        ]


@pytest.fixture
def receiver(http_server: LoopbackServer) -> Receiver:
    receiver = Receiver(http_server, f"/hook/{PATH_TOKEN}")
    receiver.status = 401  # refuses the first deliveries: errors must be stored redacted
    return receiver


@pytest.fixture
def configured(
    vigie_env: pytest.MonkeyPatch, postgres_url: str, receiver: Receiver
) -> Iterator[pytest.MonkeyPatch]:
    """Every kind of secret configured at once."""
    database = make_url(postgres_url).set(password=DB_PASSWORD)  # trust auth ignores it
    hook = receiver.apprise_url(f"vigie:{HOOK_PASSWORD}@") + f"?+X-Api-Key={HEADER_TOKEN}"
    with smtp_server(password=SMTP_PASSWORD) as mailbox:
        mail = mailbox.url(f"vigie:{quote(SMTP_PASSWORD, safe='')}@")
        vigie_env.setenv("VIGIE_DATABASE_URL", database.render_as_string(hide_password=False))
        vigie_env.setenv("VIGIE_ALERT_URLS", f"{hook},{mail}")
        context.reset()
        yield vigie_env


@pytest.mark.prefect_server
@pytest.mark.usefixtures("prefect_server")
def test_no_secret_reaches_logs_artifacts_cli_output_errors_or_the_database(
    configured: pytest.MonkeyPatch,
    http_server: LoopbackServer,
    receiver: Receiver,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    feeds = _serve_site(http_server)
    seen: list[str] = []
    with caplog.at_level(logging.DEBUG):
        seen.append(_invoke(["init", "--no-curated"]))
        seen += [_invoke(["feeds", "add", url, "--name", f"feed {n}"]) for n, url in
                 enumerate(feeds)]  # fmt: skip
        seen.append(_invoke(["monitor", "--all"]))
        seen.append(_invoke(["alerts", "deliver"]))  # the webhook says 401
        receiver.status = 200
        seen += [_invoke(["alerts", "list", "--format", "json"]), _invoke(["alerts", "test"])]
        seen += [_invoke(["articles"]), _invoke(["feeds", "list", "--format", "json"])]
        stored = _stored_errors()
        unreachable = f"postgresql+psycopg://postgres:{DB_PASSWORD}@127.0.0.1:1/vigie"
        configured.setenv("VIGIE_DATABASE_URL", unreachable)
        context.reset()
        seen += [_invoke(["monitor"]), _invoke(["articles"]), _invoke(["init"])]
    captured = capfd.readouterr()
    seen += [caplog.text, captured.out, captured.err, *stored, *_prefect_records()]

    assert "Database ready at postgresql+psycopg://postgres:***@" in seen[0]
    assert "new article" in seen[len(feeds) + 1] and "Alerts:" in seen[len(feeds) + 2]
    assert any("error" in text.lower() for text in stored)  # failures were recorded...
    assert receiver.accepted and "json://127.0.0.1" in "\n".join(stored)  # ...and redacted
    everything = "\n".join(seen)
    for secret in SECRETS:
        assert secret not in everything, _context_of(everything, secret)


def _context_of(text: str, secret: str) -> str:
    at = text.find(secret)
    return f"{secret!r} leaked: …{text[max(0, at - 200) : at + 80]!r}…"


def test_the_settings_repr_hides_the_database_password(configured: pytest.MonkeyPatch) -> None:
    shown = repr(get_settings())
    for secret in SECRETS:
        assert secret not in shown
