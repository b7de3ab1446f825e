"""Writing camt.053.001.08 statements: for the demo, the benchmark and tests.

pastdue never sends statements anywhere; it writes them to show and to measure its own
import on files shaped like a bank's (one entry per credit, the payer's name and IBAN,
the end-to-end reference and the remittance text, structured where a reference is given).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape

from pastdue.core.money import Money

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"


@dataclass(frozen=True, slots=True)
class Booking:
    """One line to write: positive amounts are credits, negative debits."""

    amount: Money
    booked_on: date
    remittance: str = ""
    payer_name: str = ""
    payer_iban: str = ""
    end_to_end_id: str = ""
    structured_reference: str = ""
    reversal: bool = False


def camt053(bookings: Iterable[Booking], *, account: str, statement_id: str, currency: str = "EUR") -> bytes:
    """A whole camt.053 document with one statement holding every booking in order."""
    return "".join(_parts(bookings, account, statement_id, currency)).encode("utf-8")


def _parts(bookings: Iterable[Booking], account: str, statement_id: str, currency: str) -> Iterator[str]:
    yield (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="{NAMESPACE}"><BkToCstmrStmt>'
        f"<GrpHdr><MsgId>{escape(statement_id)}</MsgId><CreDtTm>2026-01-01T00:00:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>{escape(statement_id)}</Id><Acct><Id><IBAN>{escape(account)}</IBAN></Id>"
        f"<Ccy>{currency}</Ccy></Acct>\n"
    )
    for n, b in enumerate(bookings, start=1):
        credit = b.amount.amount > 0
        party, party_account = ("Dbtr", "DbtrAcct") if credit else ("Cdtr", "CdtrAcct")
        strd = (
            f"<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry><Issr>ISO</Issr></Tp>"
            f"<Ref>{escape(b.structured_reference)}</Ref></CdtrRefInf></Strd>"
            if b.structured_reference
            else ""
        )
        ustrd = f"<Ustrd>{escape(b.remittance)}</Ustrd>" if b.remittance else ""
        iban = ""
        if b.payer_iban:
            iban = f"<{party_account}><Id><IBAN>{escape(b.payer_iban)}</IBAN></Id></{party_account}>"
        name = f"<{party}><Pty><Nm>{escape(b.payer_name)}</Nm></Pty></{party}>" if b.payer_name else ""
        yield (
            f'<Ntry><NtryRef>{escape(statement_id)}-{n}</NtryRef><Amt Ccy="{b.amount.currency}">'
            f"{abs(b.amount.amount)}</Amt><CdtDbtInd>{'CRDT' if credit else 'DBIT'}</CdtDbtInd>"
            f"{'<RvslInd>true</RvslInd>' if b.reversal else ''}<Sts><Cd>BOOK</Cd></Sts>"
            f"<BookgDt><Dt>{b.booked_on.isoformat()}</Dt></BookgDt><ValDt><Dt>{b.booked_on.isoformat()}</Dt></ValDt>"
            f"<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>"
            f"<NtryDtls><TxDtls><Refs><EndToEndId>{escape(b.end_to_end_id or 'NOTPROVIDED')}</EndToEndId></Refs>"
            f"<RltdPties>{name}{iban}</RltdPties><RmtInf>{ustrd}{strd}</RmtInf></TxDtls></NtryDtls></Ntry>\n"
        )
    yield "</Stmt></BkToCstmrStmt></Document>\n"
