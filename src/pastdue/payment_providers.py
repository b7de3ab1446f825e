"""Payment providers: where the portal's pay button sends a customer.

One port with one method, :meth:`PaymentProvider.checkout`, which turns what is owed into
a checkout URL at the provider. The provider reports the outcome later as a signed event
(``POST /webhooks/payments``, :mod:`pastdue.services.provider_events`), never through the
customer's browser: a redirect back proves nothing about money.

:class:`FakeProvider` is the local stand-in for the demo and tests. Its checkout page is
served by pastdue itself (``/fake-provider/checkout/{session}``) and, on "pay", hands a
``payment.succeeded`` event to the same service the webhook calls. Its sessions are signed
with a key drawn when it is built, so a session cannot be edited to pay another customer's
invoices or a different amount, and they die with the process, as a fake's should.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from pastdue.core.money import Money

FAKE_CHECKOUT_PATH = "/fake-provider/checkout/"


@dataclass(frozen=True, slots=True)
class CheckoutRequest:
    """What the customer is about to pay: one currency, the invoices it is for, and where
    the provider sends the customer back to afterwards."""

    customer_id: str
    amount: Money
    invoices: tuple[str, ...]
    reference: str
    return_url: str


class PaymentProvider(Protocol):
    def checkout(self, request: CheckoutRequest) -> str:
        """The URL of a checkout page for this request."""
        ...


class FakeProvider:
    """A provider that lives inside pastdue; see the module docstring."""

    def __init__(self, base_url: str, key: bytes | None = None) -> None:
        self._base_url = base_url.rstrip("/")
        self._key = key or secrets.token_bytes(32)

    def checkout(self, request: CheckoutRequest) -> str:
        body = json.dumps(
            {
                "customer_id": request.customer_id,
                "amount": str(request.amount.amount),
                "currency": request.amount.currency,
                "invoices": list(request.invoices),
                "reference": request.reference,
                "return_url": request.return_url,
                "nonce": secrets.token_urlsafe(8),
            },
            sort_keys=True,
            separators=(",", ":"),
        ).encode()
        payload = base64.urlsafe_b64encode(body).decode().rstrip("=")
        return f"{self._base_url}{FAKE_CHECKOUT_PATH}{payload}.{self._sign(payload)}"

    def open_session(self, session: str) -> CheckoutRequest | None:
        """The request a session URL was made for, or ``None`` if it was not made here."""
        payload, _, signature = session.partition(".")
        if not payload or not hmac.compare_digest(self._sign(payload), signature):
            return None
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return CheckoutRequest(
            str(data["customer_id"]),
            Money(Decimal(data["amount"]), str(data["currency"])),
            tuple(str(number) for number in data["invoices"]),
            str(data["reference"]),
            str(data["return_url"]),
        )

    @staticmethod
    def payment_id(session: str) -> str:
        """The provider's id of the payment a session makes: the same session paid twice
        is one payment, which the provider-events service then sees as a duplicate."""
        return "fake_" + hashlib.sha256(session.encode()).hexdigest()[:24]

    def _sign(self, payload: str) -> str:
        mac = hmac.new(self._key, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac[:18]).decode()
