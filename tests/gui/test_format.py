"""The window's number formats: exact, each asset to its precision, the locale's separators."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app import i18n
from app.ui.format import fmt_amount, fmt_fixed

D = Decimal
CASES = [
    (D("64123.456"), 2),
    (D("0.000015"), 5),
    (D("1234567.5"), 0),
    (D("-2.345"), 2),
    (D("0.125"), 2),
    (D("99352.6872946"), 2),
    (D("1E+3"), 2),
]


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_fast_format_writes_what_babel_writes(lang):
    i18n.set_language(lang)
    try:
        for value, places in CASES:
            assert fmt_fixed(value, places) == i18n.fmt_decimal(value, places)
    finally:
        i18n.set_language("en")


def test_an_available_amount_is_never_rounded_up():
    assert fmt_amount(D("99352.6872946"), 2, down=True) == "99,352.68"
    assert fmt_amount(D("0.999999"), 5, down=True) == "0.99999"
