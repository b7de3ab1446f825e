"""E-mail notices, over SMTP or into a folder of ``.eml`` files, written by one function.

Both channels send the bytes :func:`~pastdue.channels.mime.render_email` writes (and
:func:`build_email` parses back into an ``EmailMessage``), so what a developer opens from the
file outbox is exactly what a mail server would have received. Everything is standard
library: :mod:`pastdue.channels.mime` writes and ``smtplib`` talks.

:class:`SmtpChannel` keeps one connection open across sends, because a dunning run sends
thousands of notices and the TCP, TLS and AUTH handshakes would otherwise cost more than the
messages. A connection idle for a few seconds is checked with one NOOP before it is trusted;
a busy one is not (a NOOP per message would add a fifth round trip to the four a message
costs). A server that dropped the connection anyway is noticed at ``MAIL FROM``, before it
took any responsibility for the message, and the message goes out again on a new connection.

How SMTP replies become delivery outcomes:

=================================================  ==========================================
reply or event                                     raised
=================================================  ==========================================
connection refused, timeout, TLS error, any 4xx    :class:`TemporaryFailure` (retry later)
5xx to ``RCPT TO`` or to the message (``DATA``)    :class:`PermanentFailure` (the address or
                                                   the message will never be accepted)
5xx to ``MAIL FROM``, AUTH refused, no STARTTLS    :class:`ConfigurationError` (every message
when required, untrusted certificate               would fail the same way: fix the settings)
connection lost after the message was sent         :class:`TemporaryFailure`; the server may
                                                   have accepted it, and the deterministic
                                                   Message-ID makes a duplicate recognisable
=================================================  ==========================================
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pastdue.channels.base import OutgoingMessage, Receipt
from pastdue.channels.mime import build_email, envelope_sender, recipient_address, render_email
from pastdue.channels.outbox import notice_path, write_atomically
from pastdue.errors import ConfigurationError, PermanentFailure, TemporaryFailure

__all__ = ["DEFAULT_PORTS", "FileEmailChannel", "Security", "SmtpChannel", "build_email", "render_email"]

Security = Literal["plain", "starttls", "tls"]
"""``plain``: no TLS; ``starttls``: upgrade on port 587 and refuse a server without it;
``tls``: TLS from the first byte (``smtps://``, port 465)."""

DEFAULT_PORTS: dict[Security, int] = {"plain": 25, "starttls": 587, "tls": 465}

_QUEUE_ID = re.compile(r"queued as ([A-Za-z0-9._-]+)|\bid=([A-Za-z0-9._-]+)", re.IGNORECASE)


def _now() -> datetime:
    return datetime.now(UTC)


class FileEmailChannel:
    """Writes each e-mail to ``<folder>/<notice_id>.eml``; the default outbox of a fresh install.

    The same notice always lands in the same file, so a repeated send replaces it.
    """

    def __init__(
        self,
        folder: str | Path,
        sender: str,
        *,
        name: str = "email",
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.name = name
        self.folder = Path(folder)
        self.sender = sender
        self._clock = clock
        envelope_sender(sender)  # a bad sender is a settings problem: say so when building, not per message

    def send(self, message: OutgoingMessage) -> Receipt:
        data = render_email(message, self.sender, date=self._clock())
        path = notice_path(self.folder, message.notice_id, ".eml")
        write_atomically(path, data)
        return Receipt(provider_id=str(path), detail=message.message_id)

    def close(self) -> None:
        """Nothing stays open between sends."""


class _Dropped(Exception):
    """The server hung up before it took responsibility for the message: resending is safe."""


class SmtpChannel:
    """Sends e-mail through one SMTP server over one connection kept open between sends.

    Sends are serialised by a lock, so one channel may be shared by threads; for parallel
    sending give each worker its own channel (and so its own connection).
    ``idle_check`` is how long (seconds) a connection may sit unused before a NOOP checks it.
    ``pipelining`` (RFC 2920) sends MAIL, RCPT and DATA in one write, two round trips per
    message instead of four; ``None`` uses it when the server offers it.
    """

    def __init__(
        self,
        host: str,
        port: int | None = None,
        *,
        sender: str,
        username: str = "",
        password: str = "",
        security: Security = "plain",
        timeout: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
        idle_check: float = 5.0,
        pipelining: bool | None = None,
        name: str = "email",
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.name = name
        self.host = host
        self.port = port or DEFAULT_PORTS[security]
        self.sender = sender
        self.security: Security = security
        self._envelope_from = envelope_sender(sender)
        self._username = username
        self._password = password
        self._timeout = timeout
        self._ssl_context = ssl_context
        self._local_hostname = local_hostname
        self._idle_check = idle_check
        self._pipelining = pipelining
        self._clock = clock
        self._smtp: smtplib.SMTP | None = None
        self._last_used = 0.0
        self._lock = threading.Lock()

    def send(self, message: OutgoingMessage) -> Receipt:
        data = render_email(message, self.sender, date=self._clock())
        recipient = recipient_address(message.to)
        with self._lock:
            smtp, reused = self._connection()
            try:
                reply = self._transaction(smtp, recipient, data)
            except _Dropped:
                self._discard()
                if not reused:
                    raise TemporaryFailure(f"{self._where()}: the server closed the connection") from None
                smtp, _ = self._connection()
                try:
                    reply = self._transaction(smtp, recipient, data)
                except _Dropped:
                    self._discard()
                    raise TemporaryFailure(f"{self._where()}: the server closed the connection") from None
            self._last_used = time.monotonic()
        return Receipt(provider_id=_queue_id(reply) or message.message_id or message.notice_id, detail=reply)

    def close(self) -> None:
        with self._lock:
            smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()

    # -- connection -------------------------------------------------------------------------

    def _connection(self) -> tuple[smtplib.SMTP, bool]:
        """The open connection if it still answers, else a new one; and whether it was reused."""
        smtp = self._smtp
        if smtp is not None and time.monotonic() - self._last_used > self._idle_check:
            try:
                alive = smtp.noop()[0] == 250
            except (smtplib.SMTPException, OSError):
                alive = False
            if not alive:
                self._discard()
                smtp = None
        if smtp is not None:
            return smtp, True
        self._smtp = self._connect()
        self._last_used = time.monotonic()
        return self._smtp, False

    def _connect(self) -> smtplib.SMTP:
        if self._local_hostname is None:
            self._local_hostname = socket.getfqdn()
        context = self._ssl_context or ssl.create_default_context()
        smtp: smtplib.SMTP
        try:
            # Host given to the constructor: smtplib checks the certificate against it.
            if self.security == "tls":
                smtp = smtplib.SMTP_SSL(
                    self.host, self.port, local_hostname=self._local_hostname, timeout=self._timeout, context=context
                )
            else:
                smtp = smtplib.SMTP(self.host, self.port, local_hostname=self._local_hostname, timeout=self._timeout)
        except (smtplib.SMTPException, OSError) as error:
            raise self._connect_failure(error) from error
        try:
            smtp.ehlo()
            if self.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise ConfigurationError(
                        f"PASTDUE_EMAIL_URL: {self._where()} does not offer STARTTLS, which starttls=1 requires"
                    )
                smtp.starttls(context=context)
                smtp.ehlo()
            if self._username:
                smtp.login(self._username, self._password)
        except (smtplib.SMTPException, OSError) as error:
            smtp.close()
            raise self._connect_failure(error) from error
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _connect_failure(self, error: OSError) -> Exception:
        """Settings problems (login, TLS trust, missing extensions) apart from a server that is away."""
        if isinstance(error, smtplib.SMTPAuthenticationError):
            return ConfigurationError(
                f"PASTDUE_EMAIL_URL: {self._where()} refused the login of {self._username!r}: "
                f"{error.smtp_code} {_text(error.smtp_error)}"
            )
        if isinstance(error, smtplib.SMTPNotSupportedError):
            return ConfigurationError(f"PASTDUE_EMAIL_URL: {self._where()}: {error}")
        if isinstance(error, ssl.SSLCertVerificationError):
            return ConfigurationError(
                f"PASTDUE_EMAIL_URL: the certificate of {self._where()} is not trusted: {error.verify_message} "
                "(give ?cafile=PATH for a private CA)"
            )
        return TemporaryFailure(f"{self._where()}: cannot connect: {type(error).__name__}: {error}")

    def _discard(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    # -- one message -------------------------------------------------------------------------

    def _transaction(self, smtp: smtplib.SMTP, recipient: str, data: bytes) -> str:
        """MAIL, RCPT, DATA on an open connection; returns the server's final reply text."""
        pipelining = self._pipelining if self._pipelining is not None else smtp.has_extn("pipelining")
        if pipelining:
            return self._pipelined(smtp, recipient, data)
        # docmd, not mail()/rcpt(): those re-parse both addresses with email.utils on every
        # message, which costs more than the rest of the client's work; ours are checked already.
        try:
            code, reply = smtp.docmd("MAIL", f"FROM:<{self._envelope_from}>")
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            raise _Dropped from error
        self._check_sender(smtp, code, reply)
        try:
            code, reply = smtp.docmd("RCPT", f"TO:<{recipient}>")
            if code in (250, 251):
                code, reply = smtp.data(data)
                stage = "message"
            else:
                stage = f"recipient {recipient}"
        except smtplib.SMTPDataError as error:
            code, reply, stage = error.smtp_code, _bytes(error.smtp_error), "DATA"
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            self._discard()
            raise TemporaryFailure(
                f"{self._where()}: connection lost during the transaction; the server may have accepted "
                f"the message: {type(error).__name__}: {error}"
            ) from error
        return self._final(smtp, code, reply, stage)

    def _pipelined(self, smtp: smtplib.SMTP, recipient: str, data: bytes) -> str:
        """The same transaction with MAIL, RCPT and DATA written at once (RFC 2920).

        The replies come back in order and are judged as in the one-by-one dialogue; a DATA
        that a server accepts although it refused the recipient is ended empty and reset.
        """
        commands = f"MAIL FROM:<{self._envelope_from}>\r\nRCPT TO:<{recipient}>\r\nDATA\r\n"
        try:
            smtp.send(commands)
            mail = smtp.getreply()
            rcpt = smtp.getreply()
            start = smtp.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            raise _Dropped from error
        if mail[0] == 421:
            raise _Dropped
        if start[0] == 354 and (mail[0] != 250 or rcpt[0] not in (250, 251)):
            try:
                smtp.send(b".\r\n")
                smtp.getreply()
            except (smtplib.SMTPServerDisconnected, OSError):
                self._discard()
                raise TemporaryFailure(f"{self._where()}: connection lost after a refused command") from None
        self._check_sender(smtp, *mail)
        if rcpt[0] not in (250, 251):
            code, reply, stage = rcpt[0], rcpt[1], f"recipient {recipient}"
        elif start[0] != 354:
            code, reply, stage = start[0], start[1], "DATA"
        else:
            try:
                smtp.send(_dot_stuffed(data) + b".\r\n")
                code, reply = smtp.getreply()
            except (smtplib.SMTPServerDisconnected, OSError) as error:
                self._discard()
                raise TemporaryFailure(
                    f"{self._where()}: connection lost during the transaction; the server may have accepted "
                    f"the message: {type(error).__name__}: {error}"
                ) from error
            stage = "message"
        return self._final(smtp, code, reply, stage)

    def _check_sender(self, smtp: smtplib.SMTP, code: int, reply: bytes) -> None:
        """Judge the reply to MAIL FROM: a refused sender is a settings problem, not the notice's."""
        if code == 421:
            raise _Dropped
        if code == 250:
            return
        self._reset(smtp)
        if 500 <= code < 600:
            raise ConfigurationError(
                f"PASTDUE_EMAIL_FROM: {self._where()} refuses the sender {self._envelope_from!r}: {code} {_text(reply)}"
            )
        raise TemporaryFailure(f"{self._where()}: MAIL FROM: {code} {_text(reply)}")

    def _final(self, smtp: smtplib.SMTP, code: int, reply: bytes | str, stage: str) -> str:
        """Judge the last reply of a transaction: accepted, refused for good, or deferred."""
        if code == 250:
            return _text(reply)
        self._reset(smtp)
        if 500 <= code < 600:
            raise PermanentFailure(f"{self._where()}: {stage} refused: {code} {_text(reply)}")
        raise TemporaryFailure(f"{self._where()}: {stage} deferred: {code} {_text(reply)}")

    def _reset(self, smtp: smtplib.SMTP) -> None:
        """Abort the transaction so the connection can carry the next message; drop it if it cannot."""
        try:
            if smtp.rset()[0] == 250:
                return
        except (smtplib.SMTPException, OSError):
            pass
        self._discard()

    def _where(self) -> str:
        return f"smtp server {self.host}:{self.port}"


_LEADING_DOT = re.compile(rb"(?m)^\.")


def _dot_stuffed(data: bytes) -> bytes:
    """The message as DATA carries it: lines starting with a dot doubled, ending in CRLF."""
    data = _LEADING_DOT.sub(b"..", data)
    return data if data.endswith(b"\r\n") else data + b"\r\n"


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _bytes(reply: bytes | str) -> bytes:
    return reply.encode("utf-8", "replace") if isinstance(reply, str) else reply


def _queue_id(reply: str) -> str:
    """The server's id for the message, as Postfix (``queued as X``) and Exim (``id=X``) report it."""
    match = _QUEUE_ID.search(reply)
    return (match.group(1) or match.group(2)) if match else ""
