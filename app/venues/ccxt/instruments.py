"""Markets as ccxt loads them → ``Instrument`` (tick size, lot step, minimum quantity and
notional, fees). ccxt's precision modes differ per exchange: a tick size (Binance, Coinbase),
a number of decimals (older Kraken, Upbit) or significant digits; all become an exact step here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ccxt.base.decimal_to_precision import DECIMAL_PLACES, SIGNIFICANT_DIGITS, TICK_SIZE

from app.domain.instrument import Instrument
from app.domain.money import ZERO

from .convert import dec, dec_or_none


def clean(value: Decimal) -> Decimal:
    """``0.01000000`` → ``0.01`` and ``10.00000000`` → ``10`` (no exponent notation)."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def step(precision: Any, mode: int) -> Decimal | None:
    """The exact step of one of ccxt's ``market['precision']`` values, or None when unknown."""
    if precision is None:
        return None
    if mode == TICK_SIZE:
        d = dec(precision)
        return clean(d) if d > 0 else None
    if mode == DECIMAL_PLACES:
        places = int(dec(precision))
        return clean(Decimal(1).scaleb(-places))
    if mode == SIGNIFICANT_DIGITS:
        return None  # depends on the price: the exchange's profile must say
    return None


def instrument_from_market(
    venue: str, market: dict[str, Any], precision_mode: int, **override: Any
) -> Instrument | None:
    """A spot market that trades now, as an ``Instrument`` (None for others or when its steps are unknown)."""
    if not market.get("spot") or market.get("active") is False:
        return None
    precision = market.get("precision") or {}
    tick = override.pop("tick_size", None) or step(precision.get("price"), precision_mode)
    lot = override.pop("lot_step", None) or step(precision.get("amount"), precision_mode)
    if tick is None or lot is None:
        return None
    limits = market.get("limits") or {}
    amount, cost = limits.get("amount") or {}, limits.get("cost") or {}
    fields: dict[str, Any] = {
        "venue": venue,
        "symbol": market["symbol"],
        "base": market["base"],
        "quote": market["quote"],
        "tick_size": tick,
        "lot_step": lot,
        "min_qty": dec_or_none(amount.get("min")) or lot,
        "max_qty": dec_or_none(amount.get("max")),
        "min_notional": dec_or_none(cost.get("min")) or ZERO,
        "max_notional": dec_or_none(cost.get("max")),
    }
    for name in ("maker", "taker"):
        fee = dec_or_none(market.get(name))
        if fee is not None:
            fields[f"{name}_fee"] = fee
    fields.update({k: v for k, v in override.items() if v is not None})
    return Instrument(**fields)
