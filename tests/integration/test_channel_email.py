"""E-mail notices arrive at a real SMTP server (aiosmtpd on 127.0.0.1) as customers' mailboxes expect.

Each test starts its own sink and parses what arrived with the standard library, so the
assertions are about the bytes on the wire, not about how the channel built them.
"""

from __future__ import annotations

import email
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from hypothesis import given, settings
from hypothesis import strategies as st

from local_servers import (
    PDF,
    Certificate,
    SinkHandler,
    SmtpSink,
    free_port,
    notice,
    self_signed_certificate,
    smtp_sink,
    wait_until,
)
from pastdue.channels import FileEmailChannel, SmtpChannel, build_email, email_channel
from pastdue.errors import ConfigurationError, PermanentFailure, TemporaryFailure

SENDER = "Acme Billing <billing@acme.example>"
WHEN = datetime(2026, 6, 30, 9, 0, tzinfo=UTC)


def clock() -> datetime:
    return WHEN


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with smtp_sink() as server:
        yield server


@pytest.fixture(params=[False, True], ids=["one-by-one", "pipelined"])
def channel(sink: SmtpSink, request: pytest.FixtureRequest) -> Iterator[SmtpChannel]:
    """Every behaviour holds with MAIL, RCPT and DATA sent one by one and pipelined (RFC 2920)."""
    smtp = SmtpChannel(
        "127.0.0.1", sink.port, sender=SENDER, local_hostname="pastdue.test", clock=clock, pipelining=request.param
    )
    yield smtp
    smtp.close()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


def arrived(sink: SmtpSink, index: int = -1) -> EmailMessage:
    return sink.received[index].message()


# -- what arrives -----------------------------------------------------------------------------


def test_a_notice_arrives_with_text_and_html_as_alternatives(sink: SmtpSink, channel: SmtpChannel) -> None:
    channel.send(notice())

    mail = arrived(sink)
    assert mail.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in mail.iter_parts()] == ["text/plain", "text/html"]
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text is not None and "invoice 2026-101 over EUR 1,190.00 is overdue" in text.get_content()
    assert html is not None and "<p>Dear Anna,</p>" in html.get_content()


def test_envelope_and_headers_name_sender_recipient_and_notice(sink: SmtpSink, channel: SmtpChannel) -> None:
    channel.send(notice())

    envelope = sink.received[-1]
    assert envelope.mail_from == "billing@acme.example"
    assert envelope.rcpt_tos == ["anna@example.com"]
    mail = arrived(sink)
    assert mail["From"] == SENDER
    assert mail["To"] == "Anna Schmidt <anna@example.com>"
    assert mail["Message-ID"] == "<n-0001@billing.example.com>"
    assert mail["X-Pastdue-Notice"] == "n-0001"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["Date"].datetime == WHEN


def test_german_umlauts_survive_in_subject_name_and_body(sink: SmtpSink, channel: SmtpChannel) -> None:
    channel.send(
        notice(
            recipient_name="Jürgen Müller, Bäckerei Groß",
            subject="Zahlungserinnerung: Rechnung 2026-101 – bitte überweisen Sie 1.190,00 €",
            text="Sehr geehrter Herr Müller,\n\nbitte überweisen Sie 1.190,00 €.\n",
            html="",
        )
    )

    raw = sink.received[-1].data
    assert raw.isascii(), "headers and body must be 7-bit clean for any relay"
    mail = arrived(sink)
    assert mail["Subject"] == "Zahlungserinnerung: Rechnung 2026-101 – bitte überweisen Sie 1.190,00 €"
    assert mail["To"].addresses[0].display_name == "Jürgen Müller, Bäckerei Groß"
    assert mail["To"].addresses[0].addr_spec == "anna@example.com"
    assert mail.get_content_type() == "text/plain"
    assert "bitte überweisen Sie 1.190,00 €" in mail.get_content()


def test_the_letter_pdf_is_attached_beside_the_alternatives(sink: SmtpSink, channel: SmtpChannel) -> None:
    channel.send(notice(attachments=(PDF,)))

    mail = arrived(sink)
    assert mail.get_content_type() == "multipart/mixed"
    body, attachment = list(mail.iter_parts())
    assert body.get_content_type() == "multipart/alternative"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "Mahnung-2026-101.pdf"
    assert attachment.get_content() == PDF.data


def test_one_click_unsubscribe_headers_when_the_notice_has_an_opt_out_link(
    sink: SmtpSink, channel: SmtpChannel
) -> None:
    channel.send(notice(unsubscribe_url="https://pay.acme.example/portal/optout?t=abc"))
    channel.send(notice(notice_id="n-0002", message_id="<n-0002@billing.example.com>"))

    with_link, without = arrived(sink, 0), arrived(sink, 1)
    assert with_link["List-Unsubscribe"] == "<https://pay.acme.example/portal/optout?t=abc>"
    assert with_link["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert without["List-Unsubscribe"] is None


@pytest.mark.parametrize(
    ("name", "subject"),
    [
        ('Müller, "Jürgen" (Einkauf)', "Ü" * 200),
        ("O'Brien & Sons, Ltd.", "Reminder: " + "invoice 2026-101 " * 12),
        ("Ζωή Παπαδοπούλου", "Υπενθύμιση πληρωμής 😀 — τιμολόγιο 2026-101"),
        ("", "   spaced\r\n  out\tsubject  "),
    ],
)
def test_names_and_subjects_arrive_exactly_whatever_their_characters_and_length(
    sink: SmtpSink, channel: SmtpChannel, name: str, subject: str
) -> None:
    channel.send(notice(recipient_name=name, subject=subject))

    raw = sink.received[-1].data
    header_block = raw.split(b"\r\n\r\n", 1)[0]
    assert max(len(line) for line in header_block.split(b"\r\n")) <= 78
    mail = arrived(sink)
    assert mail["Subject"] == " ".join(subject.split())
    assert mail["To"].addresses[0].display_name == name
    assert mail["To"].addresses[0].addr_spec == "anna@example.com"


@settings(max_examples=150, deadline=None)
@given(
    name=st.text(st.characters(blacklist_categories=("C", "Zl", "Zp")), max_size=80),
    subject=st.text(st.characters(blacklist_categories=("C", "Zl", "Zp")), max_size=200),
)
def test_any_printable_name_and_subject_survive_the_round_trip(name: str, subject: str) -> None:
    raw = build_email(notice(recipient_name=name, subject=subject), SENDER, date=WHEN).as_bytes()

    assert raw.isascii()
    mail = email.message_from_bytes(raw, policy=default)
    assert mail["Subject"] == " ".join(subject.split())
    decoded = mail["To"].addresses[0].display_name
    # Python's address parser keeps the blank between two encoded words (RFC 2047 drops it),
    # so only the characters are compared, not how they are spaced.
    assert "".join(decoded.split()) == "".join(name.split())
    assert mail["To"].addresses[0].addr_spec == "anna@example.com"


def test_body_lines_of_any_shape_arrive_intact(sink: SmtpSink, channel: SmtpChannel) -> None:
    body = (
        ".\n.starts with a dot\ntrailing spaces   \n=3D is not an escape\n" + "long " * 40 + "\nno newline at the end"
    )
    channel.send(notice(text=body, html=""))

    content = arrived(sink).get_content().replace("\r\n", "\n")  # mail keeps the wire's CRLF
    assert content == body + "\n"


def test_an_attachment_name_with_umlauts_keeps_them(sink: SmtpSink, channel: SmtpChannel) -> None:
    channel.send(notice(attachments=(replace(PDF, filename="Mahnung Müller 2026-101.pdf"),)))

    (attachment,) = arrived(sink).iter_attachments()
    assert attachment.get_filename() == "Mahnung Müller 2026-101.pdf"
    assert attachment.get_content() == PDF.data


def test_receipt_carries_the_servers_queue_id(sink: SmtpSink, channel: SmtpChannel) -> None:
    receipt = channel.send(notice())

    assert receipt.provider_id == "Q00001"


def test_receipt_falls_back_to_the_message_id_when_the_server_names_no_queue_id(sink: SmtpSink) -> None:
    handler = SinkHandler(data_replies=["250 Message accepted"])
    with smtp_sink(handler) as quiet:
        smtp = SmtpChannel("127.0.0.1", quiet.port, sender=SENDER, local_hostname="pastdue.test")
        try:
            receipt = smtp.send(notice())
        finally:
            smtp.close()
    assert receipt.provider_id == "<n-0001@billing.example.com>"


def test_an_international_domain_is_sent_in_its_ascii_form(sink: SmtpSink, channel: SmtpChannel) -> None:
    channel.send(notice(to="info@müller.de"))

    assert sink.received[-1].rcpt_tos == ["info@xn--mller-kva.de"]


# -- connections ------------------------------------------------------------------------------


def test_many_notices_share_one_connection(sink: SmtpSink, channel: SmtpChannel) -> None:
    for number in range(50):
        channel.send(notice(notice_id=f"n-{number}", message_id=f"<n-{number}@billing.example.com>"))

    assert len(sink.received) == 50
    assert sink.connections == 1


def test_an_idle_connection_is_checked_and_kept(sink: SmtpSink) -> None:
    smtp = SmtpChannel("127.0.0.1", sink.port, sender=SENDER, local_hostname="pastdue.test", idle_check=0.0)
    try:
        smtp.send(notice())
        smtp.send(notice(notice_id="n-0002"))
    finally:
        smtp.close()
    assert len(sink.received) == 2
    assert sink.connections == 1


def test_a_connection_the_server_dropped_is_replaced_without_losing_the_message() -> None:
    with smtp_sink(timeout=0.3) as impatient:
        smtp = SmtpChannel("127.0.0.1", impatient.port, sender=SENDER, local_hostname="pastdue.test")
        try:
            smtp.send(notice())
            wait_until(lambda: impatient.closed == 1)  # hung up after 0.3 s idle; the channel checks after 5 s
            smtp.send(notice(notice_id="n-0002"))
        finally:
            smtp.close()
        assert [r.message()["X-Pastdue-Notice"] for r in impatient.received] == ["n-0001", "n-0002"]
        assert impatient.connections == 2


def test_a_closed_channel_reconnects_on_the_next_send(sink: SmtpSink, channel: SmtpChannel) -> None:
    channel.send(notice())
    channel.close()
    channel.send(notice(notice_id="n-0002"))

    assert len(sink.received) == 2
    assert sink.connections == 2


# -- failures ---------------------------------------------------------------------------------


def test_an_unknown_recipient_is_a_permanent_failure_and_the_connection_stays_usable(
    sink: SmtpSink, channel: SmtpChannel
) -> None:
    sink.sink.rcpt_replies["gone@example.com"] = "550 5.1.1 <gone@example.com>: user unknown"

    with pytest.raises(PermanentFailure, match=r"550 5\.1\.1"):
        channel.send(notice(to="gone@example.com"))
    channel.send(notice(notice_id="n-0002"))

    assert [r.rcpt_tos for r in sink.received] == [["anna@example.com"]]
    assert sink.connections == 1


def test_a_greylisting_451_is_a_temporary_failure(sink: SmtpSink, channel: SmtpChannel) -> None:
    sink.sink.rcpt_replies["anna@example.com"] = "451 4.7.1 greylisted, try again later"

    with pytest.raises(TemporaryFailure, match="451"):
        channel.send(notice())


def test_a_451_to_the_message_is_a_temporary_failure(sink: SmtpSink, channel: SmtpChannel) -> None:
    sink.sink.data_replies.append("451 4.3.0 local error in processing")

    with pytest.raises(TemporaryFailure, match=r"451 4\.3\.0"):
        channel.send(notice())
    assert channel.send(notice()).provider_id == "Q00001"


def test_a_message_refused_as_content_is_a_permanent_failure(sink: SmtpSink, channel: SmtpChannel) -> None:
    sink.sink.data_replies.append("554 5.7.1 message rejected as spam")

    with pytest.raises(PermanentFailure, match="554"):
        channel.send(notice())


def test_a_refused_sender_is_a_configuration_error(sink: SmtpSink, channel: SmtpChannel) -> None:
    sink.sink.mail_reply = "553 5.7.1 sender not permitted"

    with pytest.raises(ConfigurationError, match=r"PASTDUE_EMAIL_FROM.*553"):
        channel.send(notice())


def test_a_server_that_is_down_is_a_temporary_failure() -> None:
    smtp = SmtpChannel("127.0.0.1", free_port(), sender=SENDER, local_hostname="pastdue.test", timeout=2)
    with pytest.raises(TemporaryFailure, match="cannot connect"):
        smtp.send(notice())
    smtp.close()


def test_an_address_that_cannot_be_written_is_a_permanent_failure(sink: SmtpSink, channel: SmtpChannel) -> None:
    with pytest.raises(PermanentFailure, match="not a deliverable"):
        channel.send(notice(to="anna at example.com"))
    with pytest.raises(PermanentFailure):
        channel.send(notice(to="anna@example.com\r\nBcc: everyone@example.com"))
    assert sink.received == []


# -- authentication and TLS -------------------------------------------------------------------


def _only_billing(server: object, session: object, envelope: object, mechanism: str, data: object) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"billing", b"s3cret")
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def auth_sink() -> Iterator[SmtpSink]:
    with smtp_sink(authenticator=_only_billing, auth_require_tls=False) as server:
        yield server


def test_a_login_with_the_right_password_sends(auth_sink: SmtpSink) -> None:
    smtp = email_channel(f"smtp://billing:s3cret@127.0.0.1:{auth_sink.port}?helo=pastdue.test", SENDER)
    try:
        smtp.send(notice())
    finally:
        smtp.close()
    assert len(auth_sink.received) == 1


def test_a_refused_login_is_a_configuration_error_that_hides_the_password(auth_sink: SmtpSink) -> None:
    smtp = email_channel(f"smtp://billing:wrong@127.0.0.1:{auth_sink.port}?helo=pastdue.test", SENDER)
    with pytest.raises(ConfigurationError, match="refused the login of 'billing'") as raised:
        smtp.send(notice())
    smtp.close()
    assert "wrong" not in str(raised.value)


def test_starttls_with_a_trusted_certificate_sends(certificate: Certificate) -> None:
    context = certificate.server_context()
    with smtp_sink(tls_context=context, require_starttls=True) as tls:
        url = f"smtp://127.0.0.1:{tls.port}?starttls=1&cafile={certificate.certfile}&helo=pastdue.test"
        smtp = email_channel(url, SENDER)
        try:
            smtp.send(notice())
            smtp.send(notice(notice_id="n-0002"))
        finally:
            smtp.close()
        assert len(tls.received) == 2
        assert tls.connections == 1


def test_starttls_required_but_not_offered_is_a_configuration_error(sink: SmtpSink) -> None:
    smtp = email_channel(f"smtp://127.0.0.1:{sink.port}?starttls=1&helo=pastdue.test", SENDER)
    with pytest.raises(ConfigurationError, match="does not offer STARTTLS"):
        smtp.send(notice())
    smtp.close()
    assert sink.received == []


def test_an_untrusted_certificate_is_a_configuration_error(certificate: Certificate) -> None:
    with smtp_sink(tls_context=certificate.server_context(), require_starttls=True) as tls:
        smtp = email_channel(f"smtp://127.0.0.1:{tls.port}?starttls=1&helo=pastdue.test", SENDER)
        with pytest.raises(ConfigurationError, match="not trusted"):
            smtp.send(notice())
        smtp.close()


def test_verify_0_accepts_any_certificate_for_a_local_server(certificate: Certificate) -> None:
    with smtp_sink(tls_context=certificate.server_context(), require_starttls=True) as tls:
        smtp = email_channel(f"smtp://127.0.0.1:{tls.port}?starttls=1&verify=0&helo=pastdue.test", SENDER)
        try:
            smtp.send(notice())
        finally:
            smtp.close()
        assert len(tls.received) == 1


def test_smtps_speaks_tls_from_the_first_byte(certificate: Certificate) -> None:
    with smtp_sink(ssl_context=certificate.server_context()) as tls:
        smtp = email_channel(f"smtps://127.0.0.1:{tls.port}?cafile={certificate.certfile}&helo=pastdue.test", SENDER)
        try:
            smtp.send(notice())
        finally:
            smtp.close()
        assert len(tls.received) == 1
        assert tls.received[0].message()["X-Pastdue-Notice"] == "n-0001"


# -- the file outbox --------------------------------------------------------------------------


def test_the_file_outbox_writes_one_parseable_eml_per_notice(tmp_path: Path) -> None:
    outbox = FileEmailChannel(tmp_path / "outbox", SENDER, clock=clock)

    receipt = outbox.send(notice(attachments=(PDF,)))
    outbox.send(notice())  # the same notice again replaces its file

    path = tmp_path / "outbox" / "n-0001.eml"
    assert receipt.provider_id == str(path)
    assert sorted(p.name for p in path.parent.iterdir()) == ["n-0001.eml"]
    mail = email.message_from_bytes(path.read_bytes(), policy=default)
    assert mail["Message-ID"] == "<n-0001@billing.example.com>"
    assert mail.get_body(("plain",)) is not None


def test_the_file_outbox_writes_exactly_what_smtp_would_send(tmp_path: Path, sink: SmtpSink) -> None:
    outbox = FileEmailChannel(tmp_path, SENDER, clock=clock)
    smtp = SmtpChannel("127.0.0.1", sink.port, sender=SENDER, local_hostname="pastdue.test", clock=clock)
    try:
        outbox.send(notice(attachments=(PDF,)))
        smtp.send(notice(attachments=(PDF,)))
    finally:
        smtp.close()
    written = (tmp_path / "n-0001.eml").read_bytes()
    assert _without_boundaries(written) == _without_boundaries(sink.received[0].data)


def _without_boundaries(raw: bytes) -> bytes:
    mail = email.message_from_bytes(raw, policy=default)
    boundaries = [part.get_boundary() for part in mail.walk() if part.is_multipart()]
    for number, boundary in enumerate(boundaries):
        assert boundary is not None
        raw = raw.replace(boundary.encode(), f"BOUNDARY{number}".encode())
    return raw.replace(b"\r\n", b"\n").rstrip(b"\n")


def test_a_notice_id_cannot_write_outside_the_outbox(tmp_path: Path) -> None:
    outbox = FileEmailChannel(tmp_path / "outbox", SENDER)

    receipt = outbox.send(notice(notice_id="../../etc/passwd"))

    assert Path(receipt.provider_id).parent == tmp_path / "outbox"


def test_build_email_without_html_is_a_single_text_part() -> None:
    mail = build_email(notice(html=""), SENDER, date=WHEN)

    assert mail.get_content_type() == "text/plain"
    assert not mail.is_multipart()
