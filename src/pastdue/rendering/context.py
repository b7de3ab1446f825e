"""The values a template sees: one small dict per notice, with amounts and dates already formatted.

Formatting once in Python and handing templates plain strings keeps templates simple and
rendering fast: a template shows ``{{ item.open_amount }}`` instead of calling Babel, and the
three parts of an email share one formatted context.

Every template sees these names:

============== ==============================================================================
doc            the :class:`~pastdue.core.notice.NoticeDocument` itself, raw (use ``|money``
               and ``|date`` to format its values, e.g. ``{{ doc.created_on|date("long") }}``)
channel        ``email``, ``sms``, ``letter`` or ``phone``
level          the notice's level (1 = first reminder); ``level_name``, ``level_count`` as in the policy
language       the language the wording is in (``en`` when the customer's has none)
locale         the Babel locale amounts and dates are formatted for, e.g. ``de_DE``
customer       the customer's :class:`~pastdue.core.notice.Party`: name, address_lines, email, phone
customer_id    the customer's id in the ledger
sender         the creditor's Party; ``iban``, ``bic``, ``payment_url`` how to pay it
reference      what to quote when paying: the notice's reference, or its id when it has none
notice_id      the notice's id
items          the invoices the notice is about, as rows (below); ``count`` how many,
               ``numbers`` their numbers joined by commas
other_items    the customer's other overdue invoices, as rows
totals         the open total per currency, formatted; ``total`` the same joined by `` + ``
deadline       the new payment deadline, long form (``14. Juli 2026``); ``deadline_short`` medium form
date           the notice's date, long form; ``date_short`` medium form
portal_url     the customer's portal link, or empty; ``unsubscribe_url`` the opt-out link, or empty
t              the language's labels (``t.invoice``, ``t.due_on``, ``t.colon`` ...)
============== ==============================================================================

A row has ``number``, ``issued_on``, ``due_on`` (medium dates), ``amount``, ``open_amount``
(formatted), ``days_overdue`` and ``level``. Layouts also see ``w``, the wording blocks of the
notice's level and language (``w.subject``, ``w.opening`` ...), and ``subject``, the notice's
subject line: the wording's subject in a subject template, the rendered subject after it.

Filters: ``|money`` formats a Money, ``|date`` a date (``"medium"`` or ``"long"``, ...), both
in ``locale``; ``|css`` makes text safe inside a double-quoted CSS string.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from jinja2.runtime import Context

from pastdue.core.money import Money
from pastdue.core.notice import NoticeDocument, NoticeLine
from pastdue.rendering.formatting import format_date, format_money

NOTICE_NAMES: frozenset[str] = frozenset(
    {
        "doc",
        "channel",
        "level",
        "level_name",
        "level_count",
        "language",
        "locale",
        "customer",
        "customer_id",
        "sender",
        "iban",
        "bic",
        "payment_url",
        "reference",
        "notice_id",
        "items",
        "count",
        "numbers",
        "other_items",
        "totals",
        "total",
        "deadline",
        "deadline_short",
        "date",
        "date_short",
        "portal_url",
        "unsubscribe_url",
        "t",
    }
)
"""Names every template may use; layouts add ``w`` and, outside subject templates, ``subject``."""


BlockFunction = Callable[[Context], Iterator[str]]


class Row(NamedTuple):
    """One invoice as templates show it, every value ready to print (a tuple: cheap to build)."""

    number: str
    issued_on: str
    due_on: str
    amount: str
    open_amount: str
    days_overdue: int
    level: int


def _rows(lines: tuple[NoticeLine, ...], locale: str) -> tuple[Row, ...]:
    return tuple(
        Row(
            line.number,
            format_date(line.issued_on, locale),
            format_date(line.due_on, locale),
            format_money(line.amount, locale),
            format_money(line.open_amount, locale),
            line.days_overdue,
            line.level,
        )
        for line in lines
    )


def _totals(doc: NoticeDocument) -> tuple[Money, ...]:
    """``doc.totals``, or the open amounts summed per currency when the caller left them out."""
    if doc.totals:
        return doc.totals
    sums: dict[str, Money] = {}
    for line in (*doc.items, *doc.other_overdue):
        previous = sums.get(line.open_amount.currency)
        sums[line.open_amount.currency] = line.open_amount if previous is None else previous + line.open_amount
    return tuple(sums.values())


def notice_context(doc: NoticeDocument, language: str) -> dict[str, Any]:
    """The names of the module docstring, except ``t``, ``w`` and ``subject``."""
    locale = doc.locale
    totals = [format_money(money, locale) for money in _totals(doc)]
    items = _rows(doc.items, locale)
    sender = doc.sender
    return {
        "doc": doc,
        "channel": doc.channel,
        "level": doc.level,
        "level_name": doc.level_name,
        "level_count": doc.level_count,
        "language": language,
        "locale": locale,
        "customer": doc.customer,
        "customer_id": doc.customer_id,
        "sender": sender.party,
        "iban": sender.iban,
        "bic": sender.bic,
        "payment_url": sender.payment_url,
        "reference": doc.reference or doc.notice_id,
        "notice_id": doc.notice_id,
        "items": items,
        "count": len(items),
        "numbers": ", ".join(row.number for row in items),
        "other_items": _rows(doc.other_overdue, locale),
        "totals": totals,
        "total": " + ".join(totals),
        "deadline": format_date(doc.deadline, locale, "long"),
        "deadline_short": format_date(doc.deadline, locale),
        "date": format_date(doc.created_on, locale, "long"),
        "date_short": format_date(doc.created_on, locale),
        "portal_url": doc.portal_url,
        "unsubscribe_url": doc.unsubscribe_url,
    }


class Wording:
    """The wording blocks of one notice (``w.subject``, ``w.opening`` ...), each rendered on first use.

    An email needs five of the seven blocks and an SMS one; rendering only those saves time
    in bulk. Text is stripped of surrounding white space, so a template may lay blocks out freely.
    """

    __slots__ = ("_blocks", "_context", "_done", "_name")

    def __init__(self, name: str, context: Context, blocks: dict[str, list[BlockFunction]]) -> None:
        context.blocks = blocks
        self._name = name
        self._context = context
        self._blocks = blocks
        self._done: dict[str, str] = {}

    def __getattr__(self, block: str) -> Any:
        done = self._done.get(block)
        if done is not None:
            return done
        if block.startswith("_"):
            raise AttributeError(block)
        chain = self._blocks.get(block)
        if chain is None:  # undefined, so that ``w.extra is defined`` works and printing it fails clearly
            return self._context.environment.undefined(hint=f"{self._name} has no block {block!r}", name=block)
        text = "".join(chain[0](self._context)).strip()
        self._done[block] = text
        return text
