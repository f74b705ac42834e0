"""Tradable instruments and the exchange's filters: tick size, lot step, min/max quantity, min notional."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from .errors import ValidationError
from .money import ZERO, fmt, is_multiple, quantize_step, require_decimal


class InstrumentId(NamedTuple):
    """One instrument at one venue: Binance's BTC/USDT and Kraken's BTC/USDT never share armed
    orders, marks or books. (A named tuple: made on every trade, it must be cheap.)"""

    venue: str
    symbol: str

    def __str__(self) -> str:
        return f"{self.symbol}@{self.venue}"


@dataclass(frozen=True, slots=True)
class Problem:
    """One broken rule, in words, with a message key and parameters for translation."""

    field: str
    key: str
    template: str
    params: dict[str, str]

    @property
    def message(self) -> str:
        return self.template.format(**self.params)

    def error(self) -> ValidationError:
        return ValidationError(self.template, key=self.key, field=self.field, **self.params)


@dataclass(frozen=True, slots=True)
class Instrument:
    venue: str
    symbol: str  # unified, "BTC/USDT"
    base: str
    quote: str
    tick_size: Decimal
    lot_step: Decimal
    min_qty: Decimal = ZERO
    max_qty: Decimal | None = None
    min_notional: Decimal = ZERO
    max_notional: Decimal | None = None
    # Exchange price band for limit prices, as multipliers of the last/average price (Binance
    # PERCENT_PRICE): a price outside [last*down, last*up] is refused by the exchange.
    band_down: Decimal | None = None
    band_up: Decimal | None = None
    maker_fee: Decimal = Decimal("0.001")
    taker_fee: Decimal = Decimal("0.001")

    def __post_init__(self) -> None:
        require_decimal("tick_size", self.tick_size, positive=True)
        require_decimal("lot_step", self.lot_step, positive=True)
        require_decimal("min_qty", self.min_qty)
        require_decimal("min_notional", self.min_notional)
        for name in ("max_qty", "max_notional", "band_down", "band_up"):
            require_decimal(name, getattr(self, name), allow_none=True)
        require_decimal("maker_fee", self.maker_fee)
        require_decimal("taker_fee", self.taker_fee)

    @property
    def key(self) -> tuple[str, str]:
        return (self.venue, self.symbol)

    @property
    def id(self) -> InstrumentId:
        return InstrumentId(self.venue, self.symbol)

    # -- rounding ---------------------------------------------------------------------------------
    def round_price(self, price: Decimal, mode: str = "nearest") -> Decimal:
        return quantize_step(price, self.tick_size, mode)

    def round_qty(self, qty: Decimal, mode: str = "down") -> Decimal:
        """Quantities round down by default: never trade more than the user asked for."""
        return quantize_step(qty, self.lot_step, mode)

    @property
    def price_decimals(self) -> int:
        return max(0, -self.tick_size.normalize().as_tuple().exponent)  # type: ignore[operator]

    @property
    def qty_decimals(self) -> int:
        return max(0, -self.lot_step.normalize().as_tuple().exponent)  # type: ignore[operator]

    # -- validation -------------------------------------------------------------------------------
    def check_price(self, price: Decimal, field: str = "price", last: Decimal | None = None) -> list[Problem]:
        problems: list[Problem] = []
        if price <= 0:
            problems.append(Problem(field, "filter.price_not_positive", "{field} must be above zero", {"field": field}))
            return problems
        if not is_multiple(price, self.tick_size):
            problems.append(
                Problem(
                    field,
                    "filter.price_tick",
                    "{field} {price} is not a multiple of the tick size {tick} {quote} (nearest: {nearest})",
                    {
                        "field": field,
                        "price": fmt(price),
                        "tick": fmt(self.tick_size),
                        "quote": self.quote,
                        "nearest": fmt(self.round_price(price)),
                    },
                )
            )
        if last is not None and last > 0 and self.band_down is not None and self.band_up is not None:
            low, high = last * self.band_down, last * self.band_up
            if not (low <= price <= high):
                problems.append(
                    Problem(
                        field,
                        "filter.price_band",
                        "{field} {price} is outside the exchange's allowed band {low} – {high} {quote}",
                        {
                            "field": field,
                            "price": fmt(price),
                            "low": fmt(self.round_price(low, "up")),
                            "high": fmt(self.round_price(high, "down")),
                            "quote": self.quote,
                        },
                    )
                )
        return problems

    def check_qty(self, qty: Decimal) -> list[Problem]:
        if qty <= 0:
            return [Problem("quantity", "filter.qty_not_positive", "Amount must be above zero", {})]
        problems: list[Problem] = []
        if qty < self.min_qty:
            problems.append(
                Problem(
                    "quantity",
                    "filter.qty_min",
                    "Amount {qty} is below the minimum {min} {base}",
                    {"qty": fmt(qty), "min": fmt(self.min_qty), "base": self.base},
                )
            )
        if self.max_qty is not None and qty > self.max_qty:
            problems.append(
                Problem(
                    "quantity",
                    "filter.qty_max",
                    "Amount {qty} is above the maximum {max} {base}",
                    {"qty": fmt(qty), "max": fmt(self.max_qty), "base": self.base},
                )
            )
        if not is_multiple(qty, self.lot_step):
            problems.append(
                Problem(
                    "quantity",
                    "filter.qty_step",
                    "Amount {qty} is not a multiple of the lot step {step} {base} (nearest: {nearest})",
                    {
                        "qty": fmt(qty),
                        "step": fmt(self.lot_step),
                        "base": self.base,
                        "nearest": fmt(self.round_qty(qty)),
                    },
                )
            )
        return problems

    def check_notional(self, qty: Decimal, price: Decimal) -> list[Problem]:
        notional = qty * price
        problems: list[Problem] = []
        if notional < self.min_notional:
            problems.append(
                Problem(
                    "quantity",
                    "filter.notional_min",
                    "Order value {value} {quote} is below the minimum {min} {quote}",
                    {
                        "value": fmt(notional.quantize(self.tick_size)),
                        "min": fmt(self.min_notional),
                        "quote": self.quote,
                    },
                )
            )
        if self.max_notional is not None and notional > self.max_notional:
            problems.append(
                Problem(
                    "quantity",
                    "filter.notional_max",
                    "Order value {value} {quote} is above the maximum {max} {quote}",
                    {"value": fmt(notional), "max": fmt(self.max_notional), "quote": self.quote},
                )
            )
        return problems
