"""The bytes of a notice e-mail, written directly: one writer for the SMTP and the file channel.

Why not ``email.message.EmailMessage``? Its header objects parse and refold every value and
cost about 2.4 ms per notice, which alone caps a sender at ~420 messages a second; a dunning
run of a large tenant sends tens of thousands. A notice has one fixed shape, so it is
written here in tens of microseconds, with the standard library's own encoders (``binascii``
quoted-printable and base64, RFC 2047 encoded words), and :func:`build_email` parses the
same bytes back into an ``EmailMessage`` for anyone who wants the object.

The shape::

    multipart/mixed                      only when there are attachments
    ├── multipart/alternative            only when there are both text and HTML
    │   ├── text/plain; charset=utf-8    quoted-printable
    │   └── text/html; charset=utf-8     quoted-printable
    └── application/pdf ...              base64, Content-Disposition: attachment

Every line is 7-bit ASCII and at most 78 characters where the standards ask for it, so any
relay takes the message without 8BITMIME or SMTPUTF8. Boundaries are fixed strings starting
with ``=_``, which can never occur inside quoted-printable or base64 bodies; so the same
notice rendered twice gives the same bytes (Date aside).
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime
from email import message_from_bytes
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr
from functools import lru_cache
from urllib.parse import quote

from pastdue.channels.base import OutgoingMessage
from pastdue.errors import ConfigurationError, PermanentFailure

CRLF = b"\r\n"
MIXED_BOUNDARY = "=_pastdue-mixed"
ALTERNATIVE_BOUNDARY = "=_pastdue-alternative"

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOT_ATOM_ADDRESS = re.compile(rf"^{_ATEXT}(?:\.{_ATEXT})*@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")
_PHRASE_ATOM = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]*$")
_Q_LITERAL = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")
_TOKEN = re.compile(r"^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+$")
_WORD_LENGTH = 66


def render_email(message: OutgoingMessage, sender: str, *, date: datetime | None = None) -> bytes:
    """The notice as the bytes an SMTP server receives (CRLF line ends, 7-bit).

    Raises :class:`PermanentFailure` when the recipient address cannot be written (no server
    would ever accept it) and :class:`ConfigurationError` when the sender cannot.
    """
    headers = [
        _header("From", _mailbox(*sender_address(sender))),
        _header("To", _mailbox(message.recipient_name, recipient_address(message.to))),
        _header("Subject", _text(" ".join(message.subject.split()))),
        _header("Date", [format_datetime(date or datetime.now(UTC))]),
        _header("Message-ID", [_message_id(message.message_id, sender)]),
        b"Auto-Submitted: auto-generated",
        _header("X-Pastdue-Notice", _text(message.notice_id)),
    ]
    language = message.metadata.get("language", "")
    if language.isascii() and language.replace("-", "").isalnum():
        headers.append(_header("Content-Language", [language]))  # RFC 3282: what the text is written in
    if message.unsubscribe_url:
        # RFC 8058 one-click unsubscribe, which large mailbox providers require of bulk senders.
        url = quote(message.unsubscribe_url, safe=":/?#[]@!$&'()*+,;=%~")
        headers += [_header("List-Unsubscribe", [f"<{url}>"]), b"List-Unsubscribe-Post: List-Unsubscribe=One-Click"]
    headers.append(b"MIME-Version: 1.0")
    return CRLF.join(headers) + CRLF + _body(message)


def build_email(message: OutgoingMessage, sender: str, *, date: datetime | None = None) -> EmailMessage:
    """The same notice as an ``EmailMessage`` (parsed from :func:`render_email`), for inspection."""
    return message_from_bytes(render_email(message, sender, date=date), policy=SMTP)


def envelope_sender(sender: str) -> str:
    """The bare address of ``sender`` (which may be ``Name <address>``), for ``MAIL FROM``."""
    return sender_address(sender)[1]


@lru_cache(maxsize=16)
def sender_address(sender: str) -> tuple[str, str]:
    """The display name and address of the configured sender; a bad one is a settings problem."""
    name, addr = parseaddr(sender)
    try:
        return name, _checked_address(addr)
    except (ValueError, HeaderParseError, IndexError) as error:
        raise ConfigurationError(f"PASTDUE_EMAIL_FROM: {sender!r} is not an e-mail address") from error


def recipient_address(to: str) -> str:
    """``to`` as an ASCII address fit for a header and ``RCPT TO``; a bad one is a bad contact."""
    try:
        return _checked_address(to)
    except (ValueError, HeaderParseError, IndexError) as error:
        raise PermanentFailure(f"{to!r} is not a deliverable e-mail address: {error}") from error


def _checked_address(addr: str) -> str:
    """International domains (``müller.de``) turn into their ASCII form, which every server accepts."""
    addr = addr.strip()
    local, at, domain = addr.rpartition("@")
    if at and not domain.isascii():
        addr = f"{local}@{domain.encode('idna').decode('ascii')}"
    if _DOT_ATOM_ADDRESS.match(addr):
        return addr
    # Rare forms (quoted local parts, domain literals): let the standard parser judge them.
    return Address(addr_spec=addr).addr_spec


def _header(name: str, tokens: list[str]) -> bytes:
    """``Name: tokens`` folded between tokens so that lines stay within 78 characters where they can."""
    whole = f"{name}: {' '.join(tokens)}"
    if len(whole) <= 78:
        return whole.encode("ascii")
    lines, line = [], f"{name}:"
    for token in tokens:
        if len(line) + 1 + len(token) > 78 and line != f"{name}:":
            lines.append(line)
            line = ""
        line = f"{line} {token}"
    lines.append(line)
    return "\r\n".join(lines).encode("ascii")


def _mailbox(name: str, addr: str) -> list[str]:
    name = " ".join(name.split())
    if not name:
        return [addr]
    if not name.isascii():
        return [*_encoded_words(name), f"<{addr}>"]
    if _PHRASE_ATOM.match(name):
        return [*name.split(" "), f"<{addr}>"]
    return ['"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"', f"<{addr}>"]


def _text(text: str) -> list[str]:
    """Free text as header tokens: its words if ASCII, else RFC 2047 encoded words."""
    if any(c in text for c in "\r\n\0"):
        raise ValueError(f"header text contains a line break or NUL: {text!r}")
    return text.split(" ") if text.isascii() else _encoded_words(text)


def _encoded_words(text: str) -> list[str]:
    """``=?utf-8?q|b?...?=`` words of at most 66 characters, so each fits a line after its header name.

    Quoted-printable suits mostly-Latin text and base64 the rest (whichever is shorter, as
    mail clients do). Words end after a space where possible, never inside a character: a
    decoder that (against RFC 2047) keeps the whitespace between two encoded words, as
    Python's address parser does, then shows at worst a doubled space, not a split word.
    """
    raw = text.encode("utf-8")
    use_q = _q_length(raw) <= 4 * -(-len(raw) // 3)

    def cost(chunk: str) -> int:
        data = chunk.encode("utf-8")
        return _q_length(data) if use_q else len(data)

    def fits(total: int) -> bool:
        return 12 + (total if use_q else 4 * -(-total // 3)) <= _WORD_LENGTH

    words, current, used = [], "", 0
    for piece in re.findall(r"\S+\s*|\s+", text):
        size = cost(piece)
        if not fits(used + size):
            if current:
                words.append(current)
                current, used = "", 0
            if not fits(size):
                for char in piece:
                    size = cost(char)
                    if current and not fits(used + size):
                        words.append(current)
                        current, used = "", 0
                    current, used = current + char, used + size
                continue
        current, used = current + piece, used + size
    if current:
        words.append(current)
    return [_q_word(word) if use_q else _b_word(word) for word in words]


def _q_length(data: bytes) -> int:
    return sum(1 if b in _Q_LITERAL or b == 0x20 else 3 for b in data)


def _q_word(text: str) -> str:
    payload = "".join(chr(b) if b in _Q_LITERAL else "_" if b == 0x20 else f"={b:02X}" for b in text.encode("utf-8"))
    return f"=?utf-8?q?{payload}?="


def _b_word(text: str) -> str:
    return f"=?utf-8?b?{base64.b64encode(text.encode('utf-8')).decode('ascii')}?="


def _message_id(given: str, sender: str) -> str:
    if not given:
        return make_msgid(domain=sender_address(sender)[1].rpartition("@")[2] or "localhost")
    if not given.isascii() or any(c in given for c in "\r\n\0 "):
        raise ValueError(f"a Message-ID is ASCII without spaces or line breaks: {given!r}")
    return given if given.startswith("<") else f"<{given}>"


def _body(message: OutgoingMessage) -> bytes:
    """MIME headers of the top part, a blank line, and the content."""
    parts: list[bytes] = []
    if message.text or not message.html:
        parts.append(_text_part("plain", message.text))
    if message.html:
        parts.append(_text_part("html", message.html))
    body = parts[0] if len(parts) == 1 else _multipart("alternative", ALTERNATIVE_BOUNDARY, parts)
    if not message.attachments:
        return body
    attachments = [_attachment(a.filename, a.content_type, a.data) for a in message.attachments]
    return _multipart("mixed", MIXED_BOUNDARY, [body, *attachments])


def _text_part(subtype: str, text: str) -> bytes:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    encoded = binascii.b2a_qp(lines, istext=True).replace(b"\n", CRLF)
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'.encode()
        + b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        + encoded
        + (b"" if encoded.endswith(CRLF) or not encoded else CRLF)
    )


def _attachment(filename: str, content_type: str, data: bytes) -> bytes:
    content_type = content_type if _TOKEN.match(content_type) else "application/octet-stream"
    name = " ".join(filename.split()) or "attachment"
    if name.isascii():
        disposition = 'attachment; filename="' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    else:
        # RFC 2231: the name percent-encoded in UTF-8; understood by every current mail client.
        disposition = f"attachment; filename*=utf-8''{quote(name, safe='')}"
    return (
        f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: base64\r\n"
        f"Content-Disposition: {disposition}\r\n\r\n".encode()
        + base64.encodebytes(data).replace(b"\n", CRLF)
    )


def _multipart(subtype: str, boundary: str, parts: list[bytes]) -> bytes:
    delimiter = f"--{boundary}".encode()
    out = [f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n'.encode()]
    for part in parts:
        out += [delimiter, CRLF, part, CRLF]
    out += [delimiter, b"--", CRLF]
    return b"".join(out)
