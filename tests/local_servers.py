"""Real servers on 127.0.0.1 for the channel tests: an SMTP sink and a scripted HTTP server.

Both listen on ephemeral ports bound before they start, so tests never race for a port and
never leave the machine. Each can be told how to answer the next request, which is how the
tests reach the failure paths (a 550, a 429 with ``Retry-After``, a server that is too slow).
"""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.policy import default
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from pastdue.channels.base import Attachment, OutgoingMessage


def notice(**overrides: Any) -> OutgoingMessage:
    """A typical first reminder; tests override only what they are about."""
    values: dict[str, Any] = {
        "notice_id": "n-0001",
        "channel": "email",
        "customer_id": "c-42",
        "to": "anna@example.com",
        "recipient_name": "Anna Schmidt",
        "subject": "Payment reminder: invoice 2026-101",
        "text": "Dear Anna,\n\ninvoice 2026-101 over EUR 1,190.00 is overdue.\n",
        "html": "<p>Dear Anna,</p><p>invoice 2026-101 over EUR 1,190.00 is overdue.</p>",
        "message_id": "<n-0001@billing.example.com>",
        "idempotency_key": "n-0001",
        "metadata": {"tenant": "acme", "level": "1"},
    }
    values.update(overrides)
    return OutgoingMessage(**values)


PDF = Attachment("Mahnung-2026-101.pdf", "application/pdf", b"%PDF-1.7\n% not a real letter\n%%EOF\n")


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll ``condition`` until it holds; servers run in other threads and need a moment."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


def free_port() -> int:
    """A port nothing listens on (bound, then released): connecting to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- SMTP -------------------------------------------------------------------------------------


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=default)


@dataclass
class SinkHandler:
    """Accepts everything unless scripted: ``rcpt_replies`` by address, ``data_replies`` in order."""

    received: list[Received] = field(default_factory=list)
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    data_replies: list[str] = field(default_factory=list)
    mail_reply: str = ""

    async def handle_MAIL(  # noqa: N802  (aiosmtpd's hook names)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        if self.mail_reply:
            return self.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        reply = self.rcpt_replies.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        if self.data_replies:
            return self.data_replies.pop(0)
        content = envelope.original_content or b""
        self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), content))
        return f"250 2.0.0 Ok: queued as Q{len(self.received):05d}"


class _CountingSMTP(SMTP):
    def __init__(self, sink: SmtpSink, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sink = sink

    def connection_lost(self, error: Exception | None) -> None:
        self._sink.closed += 1
        super().connection_lost(error)


class SmtpSink(Controller):
    """aiosmtpd on 127.0.0.1 and a port of its own, counting the connections it accepts and loses."""

    def __init__(self, handler: SinkHandler | None = None, **smtp_options: Any) -> None:
        self.sink = handler or SinkHandler()
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        super().__init__(self.sink, hostname="127.0.0.1", port=self._listener.getsockname()[1], **smtp_options)
        self.connections = 0
        self.closed = 0

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, sock=self._listener, ssl=self.ssl_context)

    def factory(self) -> SMTP:
        self.connections += 1
        return _CountingSMTP(self, self.handler, **self.SMTP_kwargs)

    def start(self) -> None:
        try:
            super().start()
        except BaseException:
            self._listener.close()
            raise
        try:
            wait_until(lambda: self.closed == 1)
        except BaseException:
            self.stop()
            raise
        self.connections = self.closed = 0  # not the controller's own start-up probe

    @property
    def received(self) -> list[Received]:
        return self.sink.received


@contextmanager
def smtp_sink(handler: SinkHandler | None = None, **smtp_options: Any) -> Iterator[SmtpSink]:
    sink = SmtpSink(handler, **smtp_options)
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


# -- TLS --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    certfile: Path
    keyfile: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.certfile, self.keyfile)
        return context


def self_signed_certificate(folder: Path) -> Certificate:
    """A certificate for 127.0.0.1 and localhost: with ``cryptography`` if installed, else ``openssl``."""
    certificate = Certificate(folder / "cert.pem", folder / "key.pem")
    try:
        _certificate_with_cryptography(certificate)
    except ImportError:
        if shutil.which("openssl") is None:
            pytest.skip("no TLS test certificate: neither the cryptography package nor openssl is available")
        subprocess.run(
            [
                "openssl", "req", "-x509", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout", str(certificate.keyfile), "-out", str(certificate.certfile),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )  # fmt: skip
    return certificate


def _certificate_with_cryptography(certificate: Certificate) -> None:
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certificate.certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    certificate.keyfile.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


# -- HTTP -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: Message
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: Any = None
    """``bytes`` as they are, anything else as JSON."""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds to wait before answering (a slow provider)."""


Script = Callable[[Request], Reply]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10
    server: ScriptedHttpServer

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        request = Request(self.command, self.path, self.headers, self.rfile.read(length))
        reply = self.server.dispatch(request)
        if reply.delay:
            self.server.stopping.wait(reply.delay)
        body = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            self.close_connection = True  # the client gave up waiting: nothing left to answer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests assert on ``requests`` instead."""


class ScriptedHttpServer(ThreadingHTTPServer):
    """Answers each request with the next scripted :class:`Reply` (200 ``{}`` once the script is empty)."""

    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[Request] = []
        self.replies: list[Reply | Script] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def script(self, *replies: Reply | Script) -> None:
        with self._lock:
            self.replies = list(replies)

    def dispatch(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            reply = self.replies.pop(0) if self.replies else Reply(200, {})
        return reply(request) if callable(reply) else reply


@contextmanager
def http_server() -> Iterator[ScriptedHttpServer]:
    server = ScriptedHttpServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextmanager
def serving(web: Any, *, base_path: str = "", timeout: float = 30) -> Iterator[Any]:
    """An ASGI application on a real uvicorn server on a free loopback port, and an httpx
    client for it (``base_path`` prefixes every request path)."""
    import httpx
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(web, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(250):
            if server.started:
                break
            time.sleep(0.02)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}{base_path}", timeout=timeout) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(timeout=10)
