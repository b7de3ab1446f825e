"""Structured payment references: made for an invoice, checked, and found in remittance text.

A structured reference lets a bank credit be matched to its invoice with certainty, because a
check digit tells a real reference from a mistyped one. pastdue prints one on its notices and
looks for every kind a payer may use (printed form, check, canonical form):

- ISO 11649 creditor reference, any country: ``RF18 5390 0754 7034``; ISO 7064 mod 97-10 over
  letters and digits; ``RF18539007547034``.
- Belgian structured communication (OGM/VCS): ``+++090/9337/55493+++``; the first ten digits
  mod 97 (97 for 0) in the last two; ``BE:090933755493``.
- Finnish reference (viitenumero): ``1 23453``; weights 7, 3, 1 from the right, complement to
  ten; ``FI:123453``.
- Norwegian KID, Swedish OCR: ``1234567897``; Luhn mod 10; ``KID:1234567897``.
- Swiss QR reference (and the ISR/ESR reference before it): ``21 00000 00003 13947 14300 09017``;
  recursive mod 10 over 26 digits; ``QR:`` and the 27 digits.

Canonical forms drop spaces, separators and wrappers; for the Finnish and KID references also
leading zeros, which do not change their check digit and which banks pad freely. A payment and
an invoice share a reference exactly when their canonical forms are equal.

Which numbers in free text count as references (:func:`references_in`). A random number passes a
mod-10 check one time in ten, so a national reference is accepted only where its context makes
it likely, never for a bare number:

- RF: the letters ``RF`` and two check digits start it, then up to 21 letters and digits, spaces
  allowed; an upper-case reference ends before a word holding lower-case letters; the longest
  run of whole groups that validates is taken, else the longest prefix that does (a reference
  glued to the next word);
- Belgium: the ``+++ ... +++`` or ``*** ... ***`` wrapper, or the label ``OGM`` / ``VCS``;
- Finland: the label ``viite``, ``viitenumero``, ``viitenro``, ``referens`` or ``ref``;
- KID / OCR: the label ``KID`` or ``OCR`` (``KID-nr``, ``OCR-nummer`` ...);
- Swiss QR: exactly 27 digits (single spaces between groups allowed), which no ordinary number in
  a remittance text has; no label needed.

After a label the whole run of digits (single spaces allowed) is the candidate: it is not cut
to make it validate. National references are generated only from an invoice number's digits and
only where they fit the format (at most 10 digits for Belgium, 19 for Finland, 24 for KID, 26
for QR), so that every reference pastdue prints is one it recognises.
"""

from __future__ import annotations

import re

# --- ISO 11649 creditor references (RF) ----------------------------------------------------

_RF = re.compile(r"\b(RF)\s*(\d\d)\s*([0-9A-Z](?:\s*[0-9A-Z]){0,20})", re.IGNORECASE)
_NOT_ALNUM = re.compile(r"[^0-9A-Z]")
_RF_BODY = 21


def _mod97(text: str) -> int:
    digits = "".join(str(int(ch, 36)) for ch in text)
    return int(digits) % 97


def rf_reference(invoice_number: str) -> str:
    """The ISO 11649 reference for an invoice number (its letters and digits, at most 21)."""
    body = _NOT_ALNUM.sub("", invoice_number.upper())[-_RF_BODY:]
    check = 98 - _mod97(body + "RF00")
    return f"RF{check:02d}{body}"


def is_valid_rf(reference: str) -> bool:
    compact = re.sub(r"\s", "", reference.upper())
    if not re.fullmatch(r"RF\d\d[0-9A-Z]{1,21}", compact):
        return False
    return _mod97(compact[4:] + compact[:4]) == 1


# --- national check digits -------------------------------------------------------------------

_BELGIAN_BASE = 10
_FINNISH_BASE = range(3, 20)  # digits before the check digit
_FINNISH_LENGTH = range(4, 21)
_KID_BASE = range(1, 25)
_KID_LENGTH = range(2, 26)
_QR_LENGTH = 27
_QR_TABLE = (0, 9, 4, 6, 8, 2, 7, 1, 3, 5)
_FINNISH_WEIGHTS = (7, 3, 1)


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isascii() and ch.isdigit())


_PRINTED = re.compile(r"[0-9 /+*.\-]*")


def _checked_digits(text: str) -> str:
    """The digits of a printed reference: "" when it holds anything but digits and the usual
    separators and wrappers, or nothing but zeros (no reference is all zeros)."""
    if not _PRINTED.fullmatch(text):
        return ""
    digits = _digits(text)
    return digits if digits.strip("0") else ""


def _belgian_check(base: str) -> str:
    return f"{int(base) % 97 or 97:02d}"


def _finnish_check(base: str) -> str:
    total = sum(int(d) * _FINNISH_WEIGHTS[i % 3] for i, d in enumerate(reversed(base)))
    return str(-total % 10)


def _luhn_check(base: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(base)):
        d = int(ch) * (2 if i % 2 == 0 else 1)  # the check digit will stand to the right
        total += d - 9 if d > 9 else d
    return str(-total % 10)


def _qr_check(base: str) -> str:
    carry = 0
    for ch in base:
        carry = _QR_TABLE[(carry + int(ch)) % 10]
    return str(-carry % 10)


def _significant(invoice_number: str) -> str:
    """The invoice number's digits without leading zeros; "" when it has none but zeros."""
    return _digits(invoice_number).lstrip("0")


def belgian_reference(invoice_number: str) -> str | None:
    """``+++ddd/dddd/ddddd+++`` from the invoice number's digits, or None when they do not fit."""
    base = _significant(invoice_number)
    if not base or len(base) > _BELGIAN_BASE:
        return None
    full = base.zfill(_BELGIAN_BASE) + _belgian_check(base)
    return f"+++{full[:3]}/{full[3:7]}/{full[7:]}+++"


def is_valid_belgian(text: str) -> bool:
    """Twelve digits (wrapper and separators ignored) whose last two check the first ten."""
    digits = _checked_digits(text)
    base = digits[:-2]
    return len(digits) == _BELGIAN_BASE + 2 and bool(base.strip("0")) and digits[-2:] == _belgian_check(base)


def finnish_reference(invoice_number: str) -> str | None:
    """The Finnish reference (viitenumero), printed in groups of five from the right."""
    base = _significant(invoice_number)
    if len(base) not in _FINNISH_BASE:
        return None
    return _grouped(base + _finnish_check(base), 5)


def is_valid_finnish(text: str) -> bool:
    digits = _checked_digits(text)
    return len(digits) in _FINNISH_LENGTH and digits[-1] == _finnish_check(digits[:-1])


def kid_reference(invoice_number: str) -> str | None:
    """The Norwegian KID (Swedish OCR) with a Luhn check digit, as the digits alone."""
    base = _significant(invoice_number)
    if len(base) not in _KID_BASE:
        return None
    return base + _luhn_check(base)


def is_valid_kid(text: str) -> bool:
    digits = _checked_digits(text)
    return len(digits) in _KID_LENGTH and digits[-1] == _luhn_check(digits[:-1])


def qr_reference(invoice_number: str) -> str | None:
    """The Swiss QR reference: 26 digits (the invoice's, zero-padded) and a check digit,
    printed in groups of five from the right."""
    base = _significant(invoice_number)
    if not base or len(base) > _QR_LENGTH - 1:
        return None
    return _grouped(base.zfill(_QR_LENGTH - 1) + _qr_check(base.zfill(_QR_LENGTH - 1)), 5)


def is_valid_qr(text: str) -> bool:
    digits = _checked_digits(text)
    return len(digits) == _QR_LENGTH and digits[-1] == _qr_check(digits[:-1])


def _grouped(digits: str, size: int) -> str:
    head = len(digits) % size
    groups = ([digits[:head]] if head else []) + [digits[i : i + size] for i in range(head, len(digits), size)]
    return " ".join(groups)


# --- what pastdue accepts for an invoice ------------------------------------------------------


def invoice_references(invoice_number: str) -> tuple[str, ...]:
    """Every canonical reference that pays this invoice: RF always (when the number has a letter
    or digit), then each national one its digits fit."""
    found: list[str] = []
    rf = rf_reference(invoice_number)
    if is_valid_rf(rf):
        found.append(rf)
    for prefix, make in (
        ("BE:", belgian_reference),
        ("FI:", finnish_reference),
        ("KID:", kid_reference),
        ("QR:", qr_reference),
    ):
        printed = make(invoice_number)
        if printed is not None:
            found.append(_canonical(prefix, printed))
    return tuple(found)


def _canonical(prefix: str, printed: str) -> str:
    digits = _digits(printed)
    if prefix in ("FI:", "KID:"):
        digits = digits.lstrip("0")
    return prefix + digits


# --- finding references in free text ----------------------------------------------------------

_BELGIAN_WRAPPED = re.compile(
    r"(?P<open>\+\+\+|\*\*\*)\s*(?P<number>\d{3}\s*/?\s*\d{4}\s*/?\s*\d{5})\s*(?P=open)",
)
_BELGIAN_LABELLED = re.compile(
    r"(?<![0-9A-Za-z])(?:OGM|VCS)[\s.:]*(?P<number>\d{3}\s*/?\s*\d{4}\s*/?\s*\d{5})(?![0-9/])",
    re.IGNORECASE,
)
_LABELLED = re.compile(
    r"(?<![0-9A-Za-z])(?:(?P<kid>KID|OCR)|(?P<fi>viitenumero|viitenro|viite|referensnummer|referens|ref))"
    r"(?:[\s.\-]*(?:nr|no|nummer))?[\s.:#\-]*(?P<number>\d(?: ?\d)*)",
    re.IGNORECASE,
)
_LABEL_HINTS = ("KID", "OCR", "VIITE", "REF")  # every label of _LABELLED contains one of these
_QR_RUN = re.compile(r"(?<!\d)(?<!\d )(?P<number>\d(?: ?\d){26})(?! ?\d)")
_WORD = re.compile(r"[A-Z]?[a-z]")
_ALNUM = re.compile(r"[0-9A-Za-z]")
_ALNUM_RUN = re.compile(r"[0-9A-Za-z]+")


def references_in(text: str) -> list[str]:
    """Valid structured references in a remittance text, canonical, each once, in order of
    appearance; see the module's docstring for what counts as a reference."""
    # Cheap tests first: a statement holds a hundred thousand texts, most without any reference.
    upper = text.upper()
    found: list[tuple[int, int, str]] = []
    if "RF" in upper:
        found.extend(_rf_in(text))
    if "+++" in text or "***" in text or "OGM" in upper or "VCS" in upper:
        for pattern in (_BELGIAN_WRAPPED, _BELGIAN_LABELLED):
            for match in pattern.finditer(text):
                if is_valid_belgian(match["number"]):
                    found.append((match.start(), match.end(), _canonical("BE:", match["number"])))
    if any(label in upper for label in _LABEL_HINTS):
        for match in _LABELLED.finditer(text):
            number = match["number"]
            if match["kid"] and is_valid_kid(number):
                found.append((match.start(), match.end(), _canonical("KID:", number)))
            elif match["fi"] and is_valid_finnish(number):
                found.append((match.start(), match.end(), _canonical("FI:", number)))
    if len(text) >= _QR_LENGTH:
        for match in _QR_RUN.finditer(text):
            if is_valid_qr(match["number"]):
                found.append((match.start(), match.end(), _canonical("QR:", match["number"])))
    accepted: dict[str, None] = {}
    end = 0
    for start, stop, reference in sorted(found, key=lambda f: (f[0], -f[1])):
        if start >= end:  # a span inside one already taken (a QR run after a KID label) is the same number
            accepted.setdefault(reference, None)
            end = stop
    return list(accepted)


def _rf_in(text: str) -> list[tuple[int, int, str]]:
    """RF references: the longest run of whole groups that validates, else the longest prefix.

    Whole groups first, because a payer writes ``RF18 5390 0754 7034 INV 7`` and a prefix cut
    inside a group validates by chance one time in 97; cutting inside a group is the fallback
    for references glued to what follows. An upper-case reference ends before a word with
    lower-case letters (``RF18 5390 0754 7034Danke``), which is never part of it.
    """
    found = []
    for match in _RF.finditer(text):
        body = match.group(3)
        if match.group(1).isupper() and (word := _WORD.search(body)) is not None:
            body = body[: word.start()]
        chars = list(_ALNUM.finditer(body))
        compact = "".join(c.group() for c in chars).upper()
        group_ends = {run.end() for run in _ALNUM_RUN.finditer(body)}
        # Longest first; sorted() is stable, so whole groups come first, each class longest first.
        for n in sorted(range(len(chars), 0, -1), key=lambda n: chars[n - 1].end() not in group_ends):
            candidate = f"RF{match.group(2)}{compact[:n]}"
            if is_valid_rf(candidate):
                found.append((match.start(), match.start(3) + chars[n - 1].end(), candidate))
                break
    return found
