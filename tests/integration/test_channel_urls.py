"""The channel settings are URLs; each builds the right channel or says which setting is wrong and why."""

from __future__ import annotations

from pathlib import Path

import pytest

import pastdue.channels
from pastdue.channels import (
    FileEmailChannel,
    FileSmsChannel,
    JsonGatewaySmsChannel,
    SmtpChannel,
    TwilioSmsChannel,
    email_channel,
    sms_channel,
)
from pastdue.errors import ConfigurationError

SENDER = "billing@acme.example"


def test_the_default_email_url_is_a_relative_file_outbox() -> None:
    channel = email_channel("file://./outbox/email", SENDER)

    assert isinstance(channel, FileEmailChannel)
    assert channel.folder == Path("outbox/email")


def test_an_absolute_file_url_keeps_its_path(tmp_path: Path) -> None:
    channel = email_channel(f"file://{tmp_path}/mail", SENDER)

    assert isinstance(channel, FileEmailChannel)
    assert channel.folder == tmp_path / "mail"


@pytest.mark.parametrize(
    ("url", "security", "port"),
    [
        ("smtp://mail.example.com", "plain", 25),
        ("smtp://mail.example.com?starttls=1", "starttls", 587),
        ("smtp://u:p@mail.example.com:2525?starttls=true&timeout=5", "starttls", 2525),
        ("smtps://u:p@mail.example.com", "tls", 465),
    ],
)
def test_smtp_urls_choose_security_and_default_port(url: str, security: str, port: int) -> None:
    channel = email_channel(url, SENDER)

    assert isinstance(channel, SmtpChannel)
    assert (channel.host, channel.port, channel.security) == ("mail.example.com", port, security)


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("smtp://mail.example.com?startls=1", "unknown option"),
        ("smtp://mail.example.com?starttls=maybe", "yes/no"),
        ("smtp://mail.example.com?timeout=0", "timeout"),
        ("smtp://mail.example.com:99999", "Port out of range"),
        ("smtps://mail.example.com?starttls=1", "smtps"),
        ("smtp://?starttls=1", "no host"),
        ("smtp://mail.example.com?cafile=/nonexistent/ca.pem", "cafile"),
        ("imap://mail.example.com", "unknown scheme"),
        ("mail.example.com", "no scheme"),
    ],
)
def test_a_bad_email_url_names_the_setting_and_the_problem(url: str, complaint: str) -> None:
    with pytest.raises(ConfigurationError, match="PASTDUE_EMAIL_URL") as raised:
        email_channel(url, SENDER)
    assert complaint in str(raised.value)


def test_a_password_never_appears_in_a_complaint() -> None:
    with pytest.raises(ConfigurationError) as raised:
        email_channel("imap://user:hunter2@mail.example.com", SENDER)
    assert "hunter2" not in str(raised.value)


def test_a_bad_sender_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="PASTDUE_EMAIL_FROM"):
        email_channel("smtp://mail.example.com", "not an address")


def test_sms_urls_choose_the_provider(tmp_path: Path) -> None:
    assert isinstance(sms_channel("file://./outbox/sms", "Acme"), FileSmsChannel)
    twilio = sms_channel("twilio://AC1:token@api.twilio.com", "+4930123456")
    assert isinstance(twilio, TwilioSmsChannel)
    assert twilio.url == "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json"
    gateway = sms_channel("https://sms.example.com/v1/send?max_segments=3&account=7", "Acme")
    assert isinstance(gateway, JsonGatewaySmsChannel)
    assert (gateway.url, gateway.max_segments) == ("https://sms.example.com/v1/send?account=7", 3)


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("twilio://api.twilio.com", "ACCOUNT_SID:AUTH_TOKEN"),
        ("twilio://AC1:t@api.twilio.com?scheme=http", "plain http"),
        ("twilio://AC1:t@api.twilio.com?region=ie1", "unknown option"),
        ("http://sms.example.com/send", "plain http"),
        ("https://sms.example.com/send?max_segments=0", "max_segments"),
        ("file://./sms?max_segments=x", "max_segments"),
        ("smpp://sms.example.com", "unknown scheme"),
    ],
)
def test_a_bad_sms_url_names_the_setting_and_the_problem(url: str, complaint: str) -> None:
    with pytest.raises(ConfigurationError, match="PASTDUE_SMS_URL") as raised:
        sms_channel(url, "Acme")
    assert complaint in str(raised.value)


def test_the_channels_package_exports_its_public_names() -> None:
    for name in pastdue.channels.__all__:
        assert getattr(pastdue.channels, name) is not None
    with pytest.raises(AttributeError):
        pastdue.channels.NoSuchChannel  # noqa: B018
