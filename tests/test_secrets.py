"""Secrets in channel URLs and blocks never reach logs, artifacts, errors or CLI output."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest
import typer
from typer.testing import CliRunner

from cli import alerting
from flows.alerts import deliver_due, delivery_markdown
from flows.channels import BlockChannel, Delivery, build_router
from parsers.exceptions import AlertDeliveryError
from parsers.messages import Rendered
from parsers.redact import MASK, RedactingFilter, redact, redact_url, secrets_in_url
from tests.alerting import (  # noqa: F401  (fixtures)
    NOW,
    Events,
    Outbox,
    Receiver,
    article_payload,
    on_prefect,
    prefect_api,
    rules,
    settings,
)
from tests.alerting import smtp_server as smtp
from tests.loopback import LoopbackServer

PASSWORD = "Hunter2PaSsWoRd"
HEADER_TOKEN = "HeAdErToKeN4242"
PATH_TOKEN = "PaThToKeN9876xyz"
SMTP_PASSWORD = "SmtpPa55word!"
TOKENS = (PASSWORD, HEADER_TOKEN, PATH_TOKEN, SMTP_PASSWORD, "SmtpPa55word%21")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("json://user:pw@127.0.0.1:8080/hook/tok?+X-Key=abc", "json://127.0.0.1:8080/***"),
        ("https://hooks.slack.com/services/T00/B00/XXXX", "https://hooks.slack.com/***"),
        ("mailtos://me:app-pass@smtp.example.org?to=a@b.c", "mailtos://smtp.example.org/***"),
        ("ntfys://ntfy.sh", "ntfys://ntfy.sh"),
        ("tgram://123456:ABCdef/987", "tgram://***"),
        ("slack://TokenA/TokenB/TokenC", "slack://***"),
        ("not a url", "***"),
    ],
)
def test_redact_url_keeps_only_scheme_and_host(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_secrets_in_url_finds_every_credential_and_its_decoded_form() -> None:
    found = secrets_in_url(
        "json://user:p%40ss%21word@h:1/hook/abcdef123?+Authorization=Bearer%20xyz123"
    )

    assert {"p%40ss%21word", "p@ss!word", "abcdef123", "Bearer xyz123"} <= found
    assert "hook" not in found  # too short to be a credential: left readable
    assert "slackhost" not in secrets_in_url("https://slackhost.example/x")


def test_redact_masks_urls_and_known_secrets_anywhere() -> None:
    secrets = secrets_in_url(f"json://u:{PASSWORD}@h/x/{PATH_TOKEN}")
    text = f"failed: POST http://u:{PASSWORD}@h/x/{PATH_TOKEN} (token {PATH_TOKEN}, pw {PASSWORD})"

    redacted = redact(text, secrets)

    assert PASSWORD not in redacted and PATH_TOKEN not in redacted
    assert redacted == f"failed: POST http://h/{MASK} (token {MASK}, pw {MASK})"


def test_logging_filter_rewrites_records_for_every_handler(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("tests.secrets.library")
    redactor = RedactingFilter()
    redactor.add_secrets([PATH_TOKEN])
    logger.addFilter(redactor)
    try:
        with caplog.at_level(logging.DEBUG):
            logger.debug("posting to %s with %s", "https://h.example/a?k=v", PATH_TOKEN)
            try:
                raise ValueError(PATH_TOKEN)
            except ValueError:
                logger.exception("boom")
    finally:
        logger.removeFilter(redactor)

    assert PATH_TOKEN not in caplog.text
    assert "posting to https://h.example/*** with ***" in caplog.text


# --- end to end --------------------------------------------------------------------------------


@pytest.fixture
def box(sqlite_url: str) -> Iterator[Outbox]:
    box = Outbox(sqlite_url)
    yield box
    box.close()


def _assert_clean(*texts: str) -> None:
    for text in texts:
        for token in TOKENS:
            assert token not in text, f"{token!r} leaked into: {text[:200]!r}"


def test_no_token_leaks_from_a_failing_then_working_delivery(
    box: Outbox,
    http_server: LoopbackServer,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    vigie_env: pytest.MonkeyPatch,
) -> None:
    receiver = Receiver(http_server, f"/hook/{PATH_TOKEN}")
    hook = receiver.apprise_url(f"user:{PASSWORD}@") + f"?+X-Api-Key={HEADER_TOKEN}"
    alert_id = box.add("new_relevant_article", article_payload())
    receiver.status = 401
    with smtp(password=SMTP_PASSWORD) as mailbox, caplog.at_level(logging.DEBUG):
        mail = mailbox.url(f"vigie:{SMTP_PASSWORD.replace('!', '%21')}@")
        config = settings(alert_urls=f"{hook},{mail}")
        router = build_router(rules(), config)
        failed = deliver_due(box.sessions, NOW, settings=config, rules=rules(), router=router,
                             emit=Events())  # fmt: skip
        receiver.status = 200
        later = NOW + timedelta(minutes=5)
        sent = deliver_due(box.sessions, later, settings=config, rules=rules(), router=router,
                           emit=Events())  # fmt: skip

    assert sent.count("sent") == 1 and len(mailbox.messages) == 1 and len(receiver.accepted) == 1
    assert receiver.accepted[0].headers["X-Api-Key"] == HEADER_TOKEN  # the token did its job
    error = failed.outcomes[0].detail
    assert "401" in error and "json://127.0.0.1" in error
    alert = box.get(alert_id)
    vigie_env.setenv("VIGIE_ALERT_URLS", config.alert_urls)
    vigie_env.setenv("VIGIE_DATABASE_URL", str(box.engine.url.render_as_string(False)))
    app = typer.Typer()
    alerting.register(app)
    listed = CliRunner().invoke(app, ["alerts", "list", "--format", "json"])
    receiver.status = 403
    tested = CliRunner().invoke(app, ["alerts", "test"])
    assert tested.exit_code == 1 and "FAILED" in tested.output and "403" in tested.output
    captured = capfd.readouterr()
    _assert_clean(
        caplog.text,
        captured.out,
        captured.err,
        error,
        alert.last_error or "",
        delivery_markdown(failed),
        listed.output,
        tested.output,
    )


@pytest.mark.prefect_server
@pytest.mark.usefixtures("on_prefect")
def test_prefect_block_channel_redacts_and_sends_idempotency_key(
    http_server: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    receiver = Receiver(http_server, "/block-hook")
    CustomWebhookNotificationBlock(
        name="vigie-test",
        url=f"{http_server.base_url}/missing/{PATH_TOKEN}",
        json_data={"text": "{{body}}", "key": "{{apikey}}"},
        secrets={"apikey": HEADER_TOKEN},
    ).save("vigie-test-broken", overwrite=True)
    CustomWebhookNotificationBlock(
        name="vigie-test",
        url=receiver.url,
        json_data={"subject": "{{subject}}", "text": "{{body}}", "key": "{{apikey}}"},
        secrets={"apikey": HEADER_TOKEN},
    ).save("vigie-test-ok", overwrite=True)
    message = Rendered("Vigie test", "body text", "body", "<p>body</p>")

    with caplog.at_level(logging.DEBUG), pytest.raises(AlertDeliveryError) as broken:
        BlockChannel("ops", "custom-webhook/vigie-test-broken").send(
            Delivery(message, "info", "key-1", "test")
        )
    BlockChannel("ops", "custom-webhook/vigie-test-ok").send(
        Delivery(message, "info", "key-2", "test")
    )
    with pytest.raises(AlertDeliveryError, match="cannot load the block"):
        BlockChannel("ops", "custom-webhook/no-such-block").send(
            Delivery(message, "info", "key-3", "test")
        )

    assert "404" in str(broken.value) and broken.value.__cause__ is None
    assert receiver.keys() == {"key-2": 1}
    _assert_clean(str(broken.value), caplog.text)
