"""A real HTTP server on 127.0.0.1 whose routes tests can change while it runs."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class Response:
    """What the server answers on one route."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    #: When set, the body is streamed as these pieces after ``body``, with no Content-Length
    #: added (the closed connection ends it): for slow, trickling or endless responses.
    chunks: Iterable[bytes] | None = None
    #: Seconds to wait before sending each piece of ``chunks``.
    chunk_delay: float = 0.0
    #: When set, sent as it is instead of all of the above: status line, headers and body,
    #: for responses no well-behaved server would write.
    raw: bytes | None = None


#: A route is a fixed response, or a function of the request handler (to read headers).
Route = Response | Callable[[BaseHTTPRequestHandler], Response]


@dataclass
class Recorded:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    #: The client's port: requests that share it came over one connection.
    client_port: int = 0


class LoopbackServer:
    """Serves ``routes`` (path -> Route); unknown paths get 404. Records every request.

    With ``keep_alive``, connections stay open for more requests (HTTP/1.1); routes must then
    not use ``chunks``, whose end only a closed connection marks.
    """

    def __init__(self, tls: ssl.SSLContext | None = None, *, keep_alive: bool = False) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Recorded] = []
        self._keep_alive = keep_alive
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._scheme = "https" if tls else "http"
        if tls is not None:
            # The handshake happens in the handler thread, where a client that refuses the
            # certificate only ends its own connection.
            self._server.socket = tls.wrap_socket(
                self._server.socket, server_side=True, do_handshake_on_connect=False
            )
        # A short poll interval makes stop() quick: shutdown() waits for the next poll.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{self._scheme}://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def requests_to(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]

    def start(self) -> LoopbackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if server._keep_alive else "HTTP/1.0"

            def handle(self) -> None:
                # A TLS client that refuses our certificate (as tests make them) hangs up.
                with suppress(ssl.SSLError, ConnectionError):
                    super().handle()

            def do_GET(self) -> None:
                self._answer()

            def do_POST(self) -> None:
                self._answer()

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.requests.append(
                    Recorded(
                        self.command,
                        self.path,
                        dict(self.headers.items()),
                        body,
                        self.client_address[1],
                    )
                )
                route = server.routes.get(self.path)
                if route is None:
                    response = Response(b"not found", 404)
                else:
                    response = route(self) if callable(route) else route
                if response.raw is not None:
                    with suppress(BrokenPipeError, ConnectionResetError):
                        self.wfile.write(response.raw)
                    self.close_connection = True
                    return
                self.send_response(response.status)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                declared = "content-length" in {k.lower() for k in response.headers}
                if not declared and response.chunks is None:
                    self.send_header("Content-Length", str(len(response.body)))
                try:
                    self.end_headers()
                    self.wfile.write(response.body)
                    for piece in response.chunks or ():
                        time.sleep(response.chunk_delay)
                        self.wfile.write(piece)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client hung up, as clients under test are meant to

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep test output readable

        return Handler


@contextmanager
def serving(
    tls: ssl.SSLContext | None = None, *, keep_alive: bool = False
) -> Iterator[LoopbackServer]:
    """A started server (HTTPS when given a server-side TLS context), stopped on exit."""
    server = LoopbackServer(tls, keep_alive=keep_alive).start()
    try:
        yield server
    finally:
        server.stop()


def tls_contexts(tmp_path: Path, name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a certificate for ``name`` from a throwaway CA, and a client
    context that trusts that CA alone; the CA's certificate is also left in ``ca.pem``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def build(subject: str, key: ec.EllipticCurvePrivateKey) -> x509.CertificateBuilder:
        now = datetime.now(UTC)
        return (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Vigie test CA")]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        )

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        build("Vigie test CA", ca_key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        build(name, key)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(pem))
    (tmp_path / "leaf.pem").write_bytes(leaf.public_bytes(pem))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(tmp_path / "leaf.pem", tmp_path / "key.pem")
    client = ssl.create_default_context(cadata=ca.public_bytes(pem).decode())
    return server, client
