"""Structured payment references: made for an invoice, checked, found back in remittance text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pastdue.core import matching
from pastdue.core.references import (
    belgian_reference,
    finnish_reference,
    invoice_references,
    is_valid_belgian,
    is_valid_finnish,
    is_valid_kid,
    is_valid_qr,
    is_valid_rf,
    kid_reference,
    qr_reference,
    references_in,
    rf_reference,
)

# Invoice numbers as ledgers write them: a prefix, separators, digits (leading zeros included).
invoice_numbers = st.from_regex(r"(INV|RE|F|)[-/ ]?(20[0-9]{2}[-/ ]?)?[0-9]{1,24}", fullmatch=True).filter(
    lambda number: any(ch in "123456789" for ch in number)
)
# Words of a remittance text around the reference: no digits, lower case, some punctuation.
noise = st.lists(
    st.sampled_from(["zahlung", "danke", "invoice", "paid", "merci", "betaling", "kunde", "order", "for", "juni"]),
    max_size=4,
).map(" ".join)
separators = st.sampled_from([" ", ", ", ": ", "\n", " / "])

NATIONAL = {
    "BE:": (belgian_reference, is_valid_belgian, ""),
    "FI:": (finnish_reference, is_valid_finnish, "viite "),
    "KID:": (kid_reference, is_valid_kid, "KID "),
    "QR:": (qr_reference, is_valid_qr, ""),
}


def grouped_by_four(reference: str) -> str:
    return " ".join(reference[i : i + 4] for i in range(0, len(reference), 4))


def test_the_standards_own_examples_validate() -> None:
    assert rf_reference("539007547034") == "RF18539007547034"
    assert is_valid_rf("RF18 5390 0754 7034") and not is_valid_rf("RF19539007547034")
    assert is_valid_belgian("+++090/9337/55493+++") and not is_valid_belgian("+++090/9337/55494+++")
    assert is_valid_finnish("1232") and is_valid_finnish("1 23453") and not is_valid_finnish("1233")
    assert is_valid_kid("79927398713") and not is_valid_kid("79927398710")
    assert is_valid_qr("21 00000 00003 13947 14300 09017") and not is_valid_qr("21 00000 00003 13947 14300 09018")


def test_a_reference_is_digits_and_separators_only_and_never_all_zeros() -> None:
    assert not is_valid_kid("KID 79927398713") and not is_valid_finnish("12a32")
    assert not is_valid_belgian("+++000/0000/00097+++") and not is_valid_qr("0" * 27)
    assert is_valid_kid("7992-7398-713") and is_valid_belgian("090.9337.55493")


def test_an_invoice_number_gives_rf_and_every_national_reference_its_digits_fit() -> None:
    assert invoice_references("INV-2026-0042") == (
        "RF73INV20260042",
        "BE:002026004240",
        "FI:202600428",
        "KID:202600425",
        "QR:000000000000000000202600427",
    )
    assert belgian_reference("INV-2026-0042") == "+++002/0260/04240+++"
    assert finnish_reference("INV-2026-0042") == "2026 00428"
    assert qr_reference("INV-2026-0042") == "00 00000 00000 00000 02026 00427"


def test_numbers_that_do_not_fit_a_format_give_no_reference_of_it() -> None:
    assert invoice_references("ABC") == (rf_reference("ABC"),)  # no digits: RF only
    assert invoice_references("INV-0000") == (rf_reference("INV-0000"),)  # zeros only
    eleven = "12345678901"
    assert belgian_reference(eleven) is None and finnish_reference(eleven) is not None
    assert finnish_reference("12") is None  # a Finnish reference has at least three digits before its check
    assert qr_reference("1" * 27) is None and kid_reference("1" * 25) is None


@given(invoice_numbers)
def test_rf_made_and_checked_as_matching_does(number: str) -> None:
    assert rf_reference(number) == matching.rf_reference(number)
    assert is_valid_rf(rf_reference(number)) == matching.is_valid_rf(rf_reference(number)) is True


@given(invoice_numbers, noise, separators, noise, separators, st.booleans())
def test_every_reference_made_for_an_invoice_validates_and_is_found_in_noise(
    number: str, before: str, left: str, after: str, right: str, grouped: bool
) -> None:
    accepted = invoice_references(number)
    rf = rf_reference(number)
    assert accepted[0] == rf
    printed = grouped_by_four(rf) if grouped else rf
    assert references_in(f"{before}{left}{printed}{right}{after}") == [rf]
    for prefix, (make, valid, label) in NATIONAL.items():
        reference = make(number)
        if reference is None:
            assert not any(r.startswith(prefix) for r in accepted)
            continue
        assert valid(reference)
        [canonical] = [r for r in accepted if r.startswith(prefix)]
        assert references_in(f"{before}{left}{label}{reference}{right}{after}") == [canonical]


@given(invoice_numbers, st.data())
def test_one_changed_digit_fails_validation(number: str, data: st.DataObject) -> None:
    references = [(rf_reference(number), is_valid_rf)]
    references += [(make(number), valid) for make, valid, _ in NATIONAL.values() if make(number) is not None]
    for reference, valid in references:
        assert reference is not None
        positions = [i for i, ch in enumerate(reference) if ch.isdigit()]
        position = data.draw(st.sampled_from(positions))
        digit = data.draw(st.sampled_from([d for d in "0123456789" if d != reference[position]]))
        assert not valid(reference[:position] + digit + reference[position + 1 :])


@given(st.from_regex(r"[1-9][0-9]{0,39}", fullmatch=True), noise)
def test_an_ordinary_number_is_no_national_reference(number: str, words: str) -> None:
    found = references_in(f"Rechnung {number} {words}")
    if len(number) == 27 and is_valid_qr(number):
        assert found == [f"QR:{number}"]
    else:
        assert found == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Payment RF18 5390 0754 7034 thanks", ["RF18539007547034"]),
        ("SVWZ+RF18 5390 0754 7034Danke", ["RF18539007547034"]),  # MT940 segments glued together
        ("rf18 5390 0754 7034 bedankt", ["RF18539007547034"]),
        ("Factuur +++090/9337/55493+++", ["BE:090933755493"]),
        ("communication ***090/9337/55493*** merci", ["BE:090933755493"]),
        ("OGM 090/9337/55493", ["BE:090933755493"]),
        ("+++090/9337/55493***", []),  # the wrapper must close as it opened
        ("Viitenumero: 00000 00000 00012 3453", ["FI:123453"]),
        ("lasku 4711, viite 1232", ["FI:1232"]),
        ("Ref. nr 1232", ["FI:1232"]),
        ("KID-nr: 7992739871 3", ["KID:79927398713"]),
        ("OCR-nummer 79927398713", ["KID:79927398713"]),
        ("Zahlung 21 00000 00003 13947 14300 09017 danke", ["QR:210000000003139471430009017"]),
        ("Rechnung 1232 vom Juni", []),  # valid as Finnish by chance, but nothing says it is one
        ("79927398713", []),  # valid Luhn, no label
        ("viite 1232 2026", []),  # the whole run is the candidate, and it does not validate
        ("KID 79927398713, then RF18 5390 0754 7034, again KID 79927398713", ["KID:79927398713", "RF18539007547034"]),
    ],
)
def test_references_in_text(text: str, expected: list[str]) -> None:
    assert references_in(text) == expected
