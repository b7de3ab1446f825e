"""An SMTP sink for benchmarks: accepts every message on 127.0.0.1, counts it and its Message-ID.

Usage::

    python bench/smtp_sink.py [--port 0] [--impl fast|aiosmtpd]      # serve until SIGTERM
    python bench/smtp_sink.py --ceiling 20000 [--impl fast|aiosmtpd]  # how fast a trivial client can send

When serving, the first line on stdout is the port. Two commands of its own report and reset
what it received, over the same SMTP connection any client opens:

* ``XSTATS``: ``250 {"messages": n, "unique_ids": n, "duplicates": n, ...}`` (one JSON line)
* ``XRESET``: forget every count (connections too) and Message-ID seen so far

``fast`` is a plain :class:`asyncio.Protocol` that answers 220/250/354/221 and looks for the
end of ``DATA`` (``CRLF.CRLF``) in its buffer; it parses nothing but the Message-ID header.
``aiosmtpd`` is the same sink on aiosmtpd (as the integration tests use), for comparison:
it parses every command and line in Python and is several times slower.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import smtplib
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

_MESSAGE_ID = re.compile(rb"^message-id:[ \t]*([^\r\n]*?)[ \t]*\r?$", re.IGNORECASE | re.MULTILINE)
_FOLD = re.compile(rb"\r\n[ \t]+")
_MAX_LINE = 4096
_EHLO = b"250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 52428800\r\n"


@dataclass
class Stats:
    """What the sink received since it started or was last reset."""

    messages: int = 0
    bytes: int = 0
    connections: int = 0
    without_id: int = 0
    ids: set[bytes] = field(default_factory=set)
    first: float = 0.0
    last: float = 0.0
    cpu_at_reset: float = field(default_factory=time.process_time)

    def record(self, message: bytes | bytearray) -> None:
        now = time.perf_counter()
        if not self.messages:
            self.first = now
        self.last = now
        self.messages += 1
        self.bytes += len(message)
        end = message.find(b"\r\n\r\n")
        headers = _FOLD.sub(b" ", bytes(message[: end if end >= 0 else len(message)]))
        found = _MESSAGE_ID.search(headers)
        if found is None:
            self.without_id += 1
        else:
            self.ids.add(found.group(1))

    def reset(self) -> None:
        """Forget everything; connections are counted afresh from the next one."""
        self.__dict__.update(Stats().__dict__)

    def as_json(self) -> dict[str, Any]:
        with_id = self.messages - self.without_id
        return {
            "messages": self.messages,
            "bytes": self.bytes,
            "connections": self.connections - 1,  # not the one asking
            "unique_ids": len(self.ids),
            "duplicates": with_id - len(self.ids),
            "without_id": self.without_id,
            "span_s": round(self.last - self.first, 4) if self.messages else 0.0,
            "cpu_s": round(time.process_time() - self.cpu_at_reset, 4),
        }


class FastSink(asyncio.Protocol):
    """One client connection: commands line by line, then DATA up to ``CRLF.CRLF``."""

    def __init__(self, stats: Stats) -> None:
        self.stats = stats
        self.buffer = bytearray()
        self.in_data = False
        self.scanned = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.stats.connections += 1
        transport.write(b"220 sink ESMTP ready\r\n")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        replies: list[bytes] = []
        while self.buffer:
            if self.in_data:
                if self.buffer.startswith(b".\r\n") and self.scanned == 0:
                    end, body = 0, 3  # an empty message
                else:
                    found = self.buffer.find(b"\r\n.\r\n", self.scanned)
                    if found < 0:
                        self.scanned = max(0, len(self.buffer) - 4)
                        break
                    end, body = found + 2, found + 5
                self.stats.record(self.buffer[:end])
                del self.buffer[:body]
                self.in_data = False
                self.scanned = 0
                replies.append(b"250 2.0.0 Ok: queued\r\n")
                continue
            newline = self.buffer.find(b"\r\n")
            if newline < 0:
                if len(self.buffer) > _MAX_LINE:
                    replies.append(b"500 5.5.2 line too long\r\n")
                    self.buffer.clear()
                break
            line = bytes(self.buffer[:newline])
            del self.buffer[: newline + 2]
            reply = self.command(line)
            if reply is None:  # QUIT
                replies.append(b"221 2.0.0 Bye\r\n")
                self._write(replies)
                assert self.transport is not None
                self.transport.close()
                return
            replies.append(reply)
        self._write(replies)

    def command(self, line: bytes) -> bytes | None:
        verb = line.split(b" ", 1)[0].upper()
        if verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP", b"HELO"):
            return b"250 2.0.0 Ok\r\n"
        if verb == b"DATA":
            self.in_data = True
            self.scanned = 0
            return b"354 End data with <CR><LF>.<CR><LF>\r\n"
        if verb == b"EHLO":
            return _EHLO
        if verb == b"QUIT":
            return None
        if verb == b"XSTATS":
            return b"250 " + json.dumps(self.stats.as_json()).encode() + b"\r\n"
        if verb == b"XRESET":
            self.stats.reset()
            return b"250 2.0.0 reset\r\n"
        return b"500 5.5.1 command unrecognized\r\n"

    def _write(self, replies: list[bytes]) -> None:
        if replies and self.transport is not None:
            self.transport.write(b"".join(replies))


async def _serve_fast(sock: socket.socket, stats: Stats) -> asyncio.AbstractServer:
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: FastSink(stats), sock=sock)


async def _serve_aiosmtpd(sock: socket.socket, stats: Stats) -> asyncio.AbstractServer:
    from aiosmtpd.smtp import SMTP, Envelope, Session

    class Handler:
        async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:  # noqa: N802
            stats.record(envelope.original_content or b"")
            return "250 2.0.0 Ok: queued"

    class CountingSMTP(SMTP):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            stats.connections += 1
            super().connection_made(transport)

        async def smtp_XSTATS(self, arg: str) -> None:  # noqa: N802
            await self.push("250 " + json.dumps(stats.as_json()))

        async def smtp_XRESET(self, arg: str) -> None:  # noqa: N802
            stats.reset()
            await self.push("250 2.0.0 reset")

    loop = asyncio.get_running_loop()
    handler = Handler()
    return await loop.create_server(lambda: CountingSMTP(handler, hostname="sink", ident="sink"), sock=sock)


def serve(port: int, impl: str, announce: Any = None) -> None:
    """Listen on 127.0.0.1:port (0: any free port), print the port, serve until SIGTERM or SIGINT."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    stats = Stats()

    async def main() -> None:
        start = _serve_fast if impl == "fast" else _serve_aiosmtpd
        server = await start(sock, stats)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        print(sock.getsockname()[1], file=announce or sys.stdout, flush=True)
        async with server:
            await stop.wait()

    asyncio.run(main())


# -- used by the benchmark (and by --ceiling) ----------------------------------------------------


class Sink:
    """A sink in a child process of its own, so that its CPU is not the benchmark's."""

    def __init__(self, impl: str = "fast") -> None:
        self.impl = impl
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--port", "0", "--impl", impl],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if not line.isdigit():
            self.process.kill()
            raise RuntimeError(f"the SMTP sink did not start (it said {line!r})")
        self.port = int(line)
        self.url = f"smtp://127.0.0.1:{self.port}"

    def _ask(self, verb: str) -> str:
        smtp = smtplib.SMTP("127.0.0.1", self.port, local_hostname="bench", timeout=30)
        try:
            code, reply = smtp.docmd(verb)
            if code != 250:
                raise RuntimeError(f"sink answered {code} {reply!r} to {verb}")
            return reply.decode()
        finally:
            smtp.quit()

    def stats(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self._ask("XSTATS"))
        return data

    def reset(self) -> None:
        self._ask("XRESET")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> Sink:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def sample_message(index: int, size: int = 6000) -> bytes:
    """An e-mail of about ``size`` bytes with a Message-ID of its own, as a notice looks on the wire."""
    head = (
        f"From: Billing <billing@bench.example>\r\nTo: ar-{index}@example.com\r\n"
        f"Subject: Payment reminder {index}\r\nMessage-ID: <{index}@bench.example>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    )
    line = "Invoice 2026-0412 of 1,234.56 EUR is overdue since 20 April 2026.\r\n"
    return (head + line * max(1, (size - len(head)) // len(line))).encode()


def ceiling(port: int, count: int, size: int = 6000) -> dict[str, Any]:
    """Send ``count`` messages over one connection the way ``SmtpChannel`` does (MAIL, RCPT, DATA)."""
    messages = [sample_message(i, size) for i in range(count)]
    smtp = smtplib.SMTP("127.0.0.1", port, local_hostname="bench", timeout=30)
    smtp.ehlo()
    wall, cpu = time.perf_counter(), time.process_time()
    for i, data in enumerate(messages):
        smtp.docmd("MAIL", "FROM:<billing@bench.example>")
        smtp.docmd("RCPT", f"TO:<ar-{i}@example.com>")
        code, _ = smtp.data(data)
        if code != 250:
            raise RuntimeError(f"the sink refused message {i}: {code}")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    smtp.quit()
    return {"messages": count, "bytes": size, "wall_s": wall, "client_cpu_s": cpu}


def measure_ceiling(impl: str, count: int, size: int = 6000) -> dict[str, Any]:
    """A sink of ``impl`` in one process, a trivial smtplib client in this one: messages per second."""
    with Sink(impl) as sink:
        result = ceiling(sink.port, count, size)
        seen = sink.stats()
    result.update(
        impl=impl,
        per_s=count / result["wall_s"],
        sink_cpu_s=seen["cpu_s"],
        received=seen["messages"],
        duplicates=seen["duplicates"],
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free one)")
    parser.add_argument("--impl", choices=("fast", "aiosmtpd"), default="fast")
    parser.add_argument("--ceiling", type=int, metavar="N", help="measure N messages from a trivial client, then exit")
    parser.add_argument("--size", type=int, default=6000, help="bytes per message for --ceiling (default 6000)")
    args = parser.parse_args()
    if args.ceiling:
        r = measure_ceiling(args.impl, args.ceiling, args.size)
        print(
            f"{r['impl']}: {r['received']} messages of {r['bytes']} B in {r['wall_s']:.2f} s = {r['per_s']:,.0f}/s; "
            f"client CPU {r['client_cpu_s']:.2f} s, sink CPU {r['sink_cpu_s']:.2f} s, duplicates {r['duplicates']} "
            f"({os.cpu_count()} CPUs)"
        )
        return
    serve(args.port, args.impl)


if __name__ == "__main__":
    main()
