"""Delivery channels: one port (:mod:`pastdue.channels.base`) and its adapters.

Names are loaded on first use, so importing the port (as the services do) does not load
``smtplib``, ``httpx`` and the rest; only :mod:`pastdue.bootstrap` builds channels, usually
through :func:`email_channel`, :func:`sms_channel` and :func:`webhook_channel`.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from pastdue.channels.base import Attachment, Channel, Lookup, OutgoingMessage, Receipt

if TYPE_CHECKING:
    from pastdue.channels.email import FileEmailChannel, SmtpChannel, build_email
    from pastdue.channels.phone import PhoneTaskChannel
    from pastdue.channels.recording import RecordingChannel
    from pastdue.channels.sms import FileSmsChannel, JsonGatewaySmsChannel, TwilioSmsChannel, sms_segments
    from pastdue.channels.urls import email_channel, sms_channel, webhook_channel
    from pastdue.channels.webhook import WebhookChannel, sign, verify

_LAZY = {
    "FileEmailChannel": "email",
    "SmtpChannel": "email",
    "build_email": "email",
    "PhoneTaskChannel": "phone",
    "RecordingChannel": "recording",
    "FileSmsChannel": "sms",
    "JsonGatewaySmsChannel": "sms",
    "TwilioSmsChannel": "sms",
    "sms_segments": "sms",
    "email_channel": "urls",
    "sms_channel": "urls",
    "webhook_channel": "urls",
    "WebhookChannel": "webhook",
    "sign": "webhook",
    "verify": "webhook",
}

__all__ = [
    "Attachment",
    "Channel",
    "FileEmailChannel",
    "FileSmsChannel",
    "JsonGatewaySmsChannel",
    "Lookup",
    "OutgoingMessage",
    "PhoneTaskChannel",
    "Receipt",
    "RecordingChannel",
    "SmtpChannel",
    "TwilioSmsChannel",
    "WebhookChannel",
    "build_email",
    "email_channel",
    "sign",
    "sms_channel",
    "sms_segments",
    "verify",
    "webhook_channel",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pastdue.channels' has no attribute {name!r}")
    value = getattr(import_module(f"pastdue.channels.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
