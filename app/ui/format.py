"""Amounts as traders read them: each asset to its own precision, thousands grouped, exact."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_DOWN, Decimal

from babel.numbers import get_decimal_symbol, get_group_symbol

from app import i18n
from app.domain.instrument import Instrument
from app.i18n import fmt_decimal

FIAT_LIKE = {"USD", "USDT", "USDC", "BUSD", "FDUSD", "DAI", "EUR", "KRW", "JPY", "GBP"}


def asset_places(asset: str, instruments: Iterable[Instrument]) -> int:
    """Decimals an asset is shown with: a base asset by its instrument's lot step, a quote asset
    by its price tick (at least 2), anything else with 8."""
    insts = list(instruments)
    for inst in insts:
        if inst.base == asset:
            return inst.qty_decimals
    for inst in insts:
        if inst.quote == asset:
            return max(2, inst.price_decimals)
    return 2 if asset in FIAT_LIKE else 8


def fmt_amount(value: Decimal, places: int, *, down: bool = False) -> str:
    """``value`` with ``places`` decimals and grouped thousands; ``down`` truncates (an amount
    available to spend is never shown larger than it is)."""
    if down:
        value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN)
    return fmt_decimal(value, places)


def fmt_money(value: Decimal, asset: str, places: int, *, down: bool = False) -> str:
    """An amount with its unit: "127,800.00 USDT"."""
    return f"{fmt_amount(value, places, down=down)} {asset}"


_symbols: dict[str, dict[int, str] | None] = {}


def fmt_fixed(value: Decimal, places: int) -> str:
    """``fmt_decimal(value, places)`` for the many cells of the book and the trades: the same text
    (exact, the locale's separators), through Python's own formatting instead of babel's, which is
    some forty times slower."""
    lang = i18n.language()
    if lang not in _symbols:
        loc = i18n.locale()
        group, dec = get_group_symbol(loc), get_decimal_symbol(loc)
        _symbols[lang] = None if (group, dec) == (",", ".") else {ord(","): group, ord("."): dec}
    text = format(value, f",.{places}f")
    table = _symbols[lang]
    return text if table is None else text.translate(table)
