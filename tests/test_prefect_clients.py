"""Prefect's API clients check the server with one TLS context per process
(``context.prefect_clients``), verified as Prefect's own settings say."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest
from prefect import flow
from prefect.client.orchestration import PrefectClient, SyncPrefectClient, get_client
from prefect.settings import (
    PREFECT_API_SSL_CERT_FILE,
    PREFECT_API_TLS_INSECURE_SKIP_VERIFY,
    PREFECT_API_URL,
    PREFECT_CLIENT_MAX_RETRIES,
    PREFECT_CLIENT_SERVER_VERSION_CHECK_ENABLED,
    temporary_settings,
)

from flows import context
from tests.loopback import Response, serving, tls_contexts


def _tls_of(client: PrefectClient | SyncPrefectClient) -> ssl.SSLContext:
    """The TLS context the client's connection pool connects with (httpx hands the one it
    is given to httpcore's pool as it is)."""
    tls: ssl.SSLContext = client._client._transport._pool._ssl_context  # type: ignore[union-attr]
    return tls


@flow(persist_result=False)
async def _clients_seen_by_a_flow() -> tuple[PrefectClient, SyncPrefectClient]:
    return get_client(), get_client(sync_client=True)


def test_the_prefect_clients_of_every_event_loop_share_one_tls_context(
    prefect_server: None,
) -> None:
    """Two passes, each on its own event loop as ``vigie monitor`` and the benchmark run
    them: each loop has its own clients, asynchronous and synchronous, which a flow run and
    its engine use, and all of them connect with one TLS context, which verifies."""

    async def one_loop() -> dict[str, Any]:
        async with context.prefect_clients():
            opened = get_client(), get_client(sync_client=True)
            seen = await _clients_seen_by_a_flow()
            await opened[0].hello()
            opened[1].hello()
        return {"opened": opened, "seen by the flow": seen}

    first, second = asyncio.run(one_loop()), asyncio.run(one_loop())

    assert first["seen by the flow"] == first["opened"]
    assert second["seen by the flow"] == second["opened"]
    assert first["opened"][0] is not second["opened"][0]  # clients belong to their loop
    shared = context.prefect_api_tls()
    assert all(_tls_of(c) is shared for c in (*first["opened"], *second["opened"]))
    assert shared.verify_mode == ssl.CERT_REQUIRED and shared.check_hostname
    assert shared.cert_store_stats()["x509_ca"] > 0  # the CA bundle, loaded once


def test_an_https_prefect_api_is_still_verified_as_prefect_s_settings_say(tmp_path: Path) -> None:
    """The shared context is built from Prefect's settings: an https API whose certificate
    comes from the CA of ``PREFECT_API_SSL_CERT_FILE`` is accepted; with the default CA
    bundle the same server is refused; with ``PREFECT_API_TLS_INSECURE_SKIP_VERIFY`` it is
    accepted unchecked, as Prefect's own clients would do."""
    server_tls, _ = tls_contexts(tmp_path, "localhost")

    async def hello() -> int:
        async with context.prefect_clients():
            return (await get_client().hello()).status_code

    with serving(server_tls) as server:
        server.routes["/api/hello"] = Response(b'"hi"', headers={"Content-Type": "text/json"})
        port = server.base_url.rsplit(":", 1)[1]
        quiet: dict[Any, Any] = {
            PREFECT_API_URL: f"https://localhost:{port}/api",
            PREFECT_CLIENT_MAX_RETRIES: 0,
            PREFECT_CLIENT_SERVER_VERSION_CHECK_ENABLED: False,
        }
        with temporary_settings({**quiet, PREFECT_API_SSL_CERT_FILE: str(tmp_path / "ca.pem")}):
            assert asyncio.run(hello()) == 200
        with temporary_settings(quiet), pytest.raises(httpx.ConnectError) as refused:
            asyncio.run(hello())
        assert "CERTIFICATE_VERIFY_FAILED" in str(refused.value)
        with temporary_settings({**quiet, PREFECT_API_TLS_INSECURE_SKIP_VERIFY: True}):
            assert asyncio.run(hello()) == 200
    assert len(server.requests_to("/api/hello")) == 2
