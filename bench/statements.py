"""Benchmark the camt.053 reader on one large synthetic statement.

Usage::

    python bench/statements.py [--credits 100000] [--keep DIR]

Writes a camt.053.001.02 statement of ``--credits`` credit entries (each with its payer, IBAN,
end-to-end id, a structured RF reference and a free remittance text, as a bank's daily file for
a busy collections account would carry) into a temporary folder, then parses it with
``pastdue.importers.camt.parse_camt`` in a fresh child process, so that the wall time and peak
resident memory (``ru_maxrss``) printed are the parser's own, file read included. It asserts
nothing about time; exit status 1 only when the parser reports problems or loses lines.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from pastdue.core.references import rf_reference

CHILD = """
import json, resource, sys, time
from pathlib import Path
from pastdue.importers.camt import parse_camt

started = time.perf_counter()
data = Path(sys.argv[1]).read_bytes()
lines, problems = parse_camt(data, sys.argv[1])
elapsed = time.perf_counter() - started
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"lines": len(lines), "problems": [p.message for p in problems[:3]],
                  "elapsed_s": round(elapsed, 2), "peak_mib": round(peak_kib / 1024, 1)}))
"""

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<BkToCstmrStmt>
<GrpHdr><MsgId>BENCH-2026-06-30</MsgId><CreDtTm>2026-06-30T22:00:00</CreDtTm></GrpHdr>
<Stmt>
<Id>BENCH-STMT-1</Id><ElctrncSeqNb>1</ElctrncSeqNb><CreDtTm>2026-06-30T22:00:00</CreDtTm>
<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
<Dt><Dt>2026-06-30</Dt></Dt></Bal>
"""

ENTRY = """<Ntry>
<NtryRef>{n:09d}</NtryRef><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
<BookgDt><Dt>2026-06-30</Dt></BookgDt><ValDt><Dt>2026-06-30</Dt></ValDt><AcctSvcrRef>ASR{n:012d}</AcctSvcrRef>
<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
<NtryDtls><TxDtls>
<Refs><MsgId>M{n:09d}</MsgId><EndToEndId>E2E-{n:09d}</EndToEndId></Refs>
<AmtDtls><TxAmt><Amt Ccy="EUR">{amount}</Amt></TxAmt></AmtDtls>
<RltdPties><Dbtr><Nm>Customer {n} GmbH</Nm></Dbtr><DbtrAcct><Id><IBAN>{iban}</IBAN></Id></DbtrAcct></RltdPties>
<RmtInf><Ustrd>Invoice INV-2026-{n:06d} customer {n}</Ustrd>
<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>{rf}</Ref></CdtrRefInf></Strd></RmtInf>
</TxDtls></NtryDtls>
</Ntry>
"""

FOOTER = "</Stmt>\n</BkToCstmrStmt>\n</Document>\n"


def german_iban(account: int) -> str:
    """A fictitious German IBAN with correct ISO 13616 check digits (bank code 37040044)."""
    bban = f"37040044{account:010d}"
    check = 98 - int(bban + "131400") % 97  # "DE" is 13 14, then "00"
    return f"DE{check:02d}{bban}"


def write_statement(path: Path, credits: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER)
        for n in range(1, credits + 1):
            amount = f"{(n * 7919) % 500000 / 100 + 10:.2f}"
            out.write(ENTRY.format(n=n, amount=amount, iban=german_iban(n), rf=rf_reference(f"INV-2026-{n:06d}")))
        out.write(FOOTER)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--credits", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="write the statement into this folder and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"camt053-{args.credits}.xml"
        write_statement(path, args.credits)
        size_mib = path.stat().st_size / 1024 / 1024
        result = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            print(result.stderr, file=sys.stderr)
            return 1
        figures = json.loads(result.stdout)
    print(f"camt.053 with {args.credits} credits ({size_mib:.1f} MiB)")
    print(f"  lines {figures['lines']}  parse {figures['elapsed_s']:.2f} s  peak RSS {figures['peak_mib']:.0f} MiB")
    if figures["problems"]:
        print(f"  problems: {figures['problems']}")
    return 0 if figures["lines"] == args.credits and not figures["problems"] else 1


if __name__ == "__main__":
    sys.exit(main())
