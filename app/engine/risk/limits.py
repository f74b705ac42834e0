"""Risk limits, the account facts an order is checked against, and the refusal in words."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from decimal import Decimal
from typing import Any

from app.domain.instrument import Instrument
from app.domain.money import ZERO


@dataclass(frozen=True, slots=True)
class Denial:
    key: str
    template: str
    params: dict[str, str]
    field: str = ""

    @property
    def message(self) -> str:
        return self.template.format(**self.params)


@dataclass(slots=True)
class RiskLimits:
    """Every rule's setting; ``None`` switches that rule off. Money in the valuation currency."""

    max_order_notional: Decimal | None = Decimal("50000")
    max_order_qty: dict[str, Decimal] | None = None  # per base asset
    max_position_notional: Decimal | None = Decimal("100000")  # per asset held
    max_open_orders: int | None = 200
    submits_per_second: int | None = 50
    submits_per_day: int | None = 20_000
    cancels_per_second: int | None = 50
    cancels_per_day: int | None = 20_000
    duplicate_count: int | None = 5  # the same order this many times ...
    duplicate_window_s: float = 10.0  # ... within this window is refused
    price_band_pct: Decimal | None = Decimal("10")  # fat-finger: limit/stop this far from last
    daily_loss_limit: Decimal | None = Decimal("5000")
    check_balance: bool = True

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in asdict(self).items():
            if isinstance(v, Decimal):
                out[k] = str(v)
            elif isinstance(v, dict):
                out[k] = {a: str(x) for a, x in v.items()}
            else:
                out[k] = v
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RiskLimits:
        limits = cls()
        names = {f.name for f in fields(cls)}
        for k, v in data.items():
            if k not in names:
                continue
            cur = getattr(limits, k)
            if v is None:
                setattr(limits, k, None)
            elif k == "max_order_qty":
                setattr(limits, k, {a: Decimal(x) for a, x in v.items()})
            elif isinstance(cur, Decimal) or k in (
                "max_order_notional",
                "max_position_notional",
                "price_band_pct",
                "daily_loss_limit",
            ):
                setattr(limits, k, Decimal(v))
            else:
                setattr(limits, k, v)
        return limits


@dataclass(frozen=True, slots=True)
class OrderContext:
    """What the risk engine needs to know about the account when an order arrives."""

    instrument: Instrument
    last: Decimal | None
    reference_price: Decimal | None  # price used for notional (limit, trigger, or book)
    free_base: Decimal  # not committed to other open orders
    free_quote: Decimal
    position_qty: Decimal  # coins of the base held (spot: never below zero)
    open_orders: int
    quote_value: Decimal | None  # one quote unit in the valuation currency (None: no price)
    open_buy_qty: Decimal = ZERO  # base still to be bought by open orders (they grow the position)
    shares_funds: bool = False  # an OCO's second leg: the first leg's funds cover both
    valuation_currency: str = "USDT"
