"""Amounts as traders read them: each asset to its own precision, thousands grouped, exact."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_DOWN, Decimal

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
