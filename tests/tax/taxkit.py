"""Factories for the tax tests: events at Korean times, FX rates, prices."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from app.tax.model import EventKind, TaxEvent
from app.tax.rules import KST
from app.tax.valuation import FxRate

D = Decimal


def ts(text: str) -> int:
    """ms of a Korean local time, e.g. "2027-03-01T10:00"."""
    return int(datetime.fromisoformat(text).replace(tzinfo=KST).timestamp() * 1000)


def ev(
    when: str,
    symbol: str,
    side: str,
    qty: str,
    price: str = "0",
    fee: str = "0",
    fee_asset: str = "KRW",
    venue: str = "upbit",
    source: str = "",
) -> TaxEvent:
    return TaxEvent(
        ts(when),
        venue,
        symbol,
        EventKind(side),
        D(qty),
        D(price),
        D(fee),
        fee_asset,
        source or f"{when} {symbol} {side}",
    )


def fx(day: str, base: str, quote: str, rate: str) -> FxRate:
    return FxRate(date.fromisoformat(day), base, quote, D(rate), "test rates")
