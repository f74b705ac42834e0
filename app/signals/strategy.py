"""The strategy API, the same for a backtest and for live auto-trading.

A strategy sees closed bars and asks for orders. It has two parts:

- ``compute(bars, forecasts)``: vectorised and causal. From the closed bars (float arrays, oldest
  first) and, for a model-driven strategy, the model's forecast of each bar, it returns a ``Plan``:
  named value arrays aligned with the bars, and ``events``, the bars at whose close ``on_bar``
  must run (a cross, a forecast changing side). A value at bar t depends on bars t-lookback … t
  only, so the same plan comes out of the whole history (a backtest) and of the last
  ``lookback + 1`` bars (live, recomputed on each closed bar).
- ``on_bar(ctx)``: at the close of an event bar, reads ``ctx.value(name)``, ``ctx.position`` and
  ``ctx.equity`` and asks ``ctx`` for orders: ``ctx.target(+1 | 0 | -1, stop_loss=…,
  take_profit=…)`` (long, flat, short; sized by the run's ``Sizing``; optional protective
  bracket) or ``ctx.order(...)``. Orders are sent when the next market event arrives (in a
  backtest, the next bar's open) and sized then, from the price they will meet.

The backtester (``app.backtest.engine``) calls ``on_bar`` only at event bars and never per bar
otherwise. The live runner (``app.engine.strategy_runner``) calls ``compute`` on its window at each
closed bar and ``on_bar`` when the newest bar is an event, with a ``Context`` backed by the order
manager (``target`` → market close + bracket entry, every order through the risk engine). Nothing
here imports either of them.

Sizing: ``FixedFraction`` (a fraction of equity, fees included, rounded down to the lot step),
``VolatilityTarget`` (the fraction that gives the position an annualised volatility target,
capped) and ``WholeUnits`` (backtesting.py's sizing: whole units of 99.99 % of equity).
"""

from __future__ import annotations

import math
import sys
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar, Protocol

import numpy as np

from app.domain.enums import OrderType, Side
from app.domain.instrument import Instrument
from app.domain.market import Bar
from app.domain.money import ONE, ZERO
from app.signals.candles import Candles

YEAR_MS = 365.25 * 86_400_000


@dataclass(frozen=True, eq=False)
class Plan:
    """What a strategy computed over the closed bars: ``events`` (bool per bar: run ``on_bar`` at
    its close) and named float arrays aligned with the bars (``ctx.value(name)``; also reported)."""

    events: np.ndarray
    values: Mapping[str, np.ndarray] = field(default_factory=dict)


class Context(Protocol):
    """What a strategy may look at and ask for at the close of an event bar."""

    @property
    def bar(self) -> Bar:
        """The bar that just closed (Decimal prices)."""
        ...

    def value(self, name: str) -> float:
        """The plan's value ``name`` at this bar."""
        ...

    @property
    def position(self) -> Decimal:
        """Base quantity held (negative: short)."""
        ...

    @property
    def equity(self) -> Decimal:
        """Cash plus the position at the last price, in the quote currency."""
        ...

    @property
    def can_short(self) -> bool:
        """False on a spot account: a short target means flat there."""
        ...

    def target(
        self, direction: int, *, stop_loss: Decimal | None = None, take_profit: Decimal | None = None, tag: str = ""
    ) -> None:
        """Be long (+1), flat (0) or short (-1): cancel this strategy's working orders, close a
        position on the other side, open a new one sized by the run's sizing. ``stop_loss`` and
        ``take_profit`` are fractions of the entry price (0.02 = 2 %): a protective bracket placed
        as the entry fills. Already on that side: nothing changes."""
        ...

    def order(
        self,
        side: Side,
        quantity: Decimal | None = None,
        *,
        type: OrderType = OrderType.MARKET,
        price: Decimal | None = None,
        stop_price: Decimal | None = None,
        tag: str = "",
    ) -> None:
        """One order (``quantity`` None: sized by the run's sizing)."""
        ...

    def cancel_all(self) -> None:
        """Cancel this strategy's working orders (and its brackets' exits)."""
        ...


# -- sizing ---------------------------------------------------------------------------------------
class Sizing(Protocol):
    """How much to buy or sell when a strategy asks for a position without a quantity."""

    @property
    def vol_lookback(self) -> int:
        """Bars of realised volatility it needs (0: none)."""
        ...

    def quantity(self, equity: Decimal, price: Decimal, inst: Instrument, vol: float) -> Decimal:
        """Base quantity for a new position at ``price`` (the price the order will meet) with
        ``equity`` in the account; ``vol`` is the annualised realised volatility (NaN if unknown)."""
        ...


@dataclass(frozen=True)
class FixedFraction:
    """``fraction`` of equity, fees included, rounded down to the lot step (the app's sizing)."""

    fraction: Decimal = ONE
    vol_lookback: int = 0

    def quantity(self, equity: Decimal, price: Decimal, inst: Instrument, vol: float) -> Decimal:
        return _fraction_qty(equity, self.fraction, price, inst)


@dataclass(frozen=True)
class VolatilityTarget:
    """The fraction of equity at which the position's annualised volatility would be ``target``
    (realised volatility of the last ``vol_lookback`` bars), at most ``max_fraction``."""

    target: float
    vol_lookback: int = 720  # 30 days of 1h bars
    max_fraction: Decimal = ONE

    @classmethod
    def of(cls, target: Decimal, vol_lookback: int, max_fraction: Decimal) -> VolatilityTarget:
        """From the exact settings (an annualised target such as 0.30)."""
        return cls(float(target), vol_lookback, max_fraction)

    def quantity(self, equity: Decimal, price: Decimal, inst: Instrument, vol: float) -> Decimal:
        if not vol > 0.0 or math.isnan(vol):
            return ZERO
        fraction = min(self.max_fraction, Decimal(repr(self.target / vol)))
        return _fraction_qty(equity, fraction, price, inst)


# backtesting.py's default order size: "all of the equity" as 1 - machine epsilon (shown as .9999).
FULL_EQUITY = 1.0 - sys.float_info.epsilon


@dataclass(frozen=True)
class WholeUnits:
    """backtesting.py's sizing of ``buy()`` / ``sell()`` without a size, computed in floats as it
    does: whole units of ``fraction`` of the equity at the fill price plus commission."""

    fraction: float = FULL_EQUITY
    vol_lookback: int = 0

    def quantity(self, equity: Decimal, price: Decimal, inst: Instrument, vol: float) -> Decimal:
        px = float(price)
        f = self.fraction
        per_unit = px + (abs(f) * px * float(inst.taker_fee)) / abs(f)
        units = int((float(equity) * 1.0 * abs(f)) // per_unit)
        return Decimal(max(units, 0))


def _fraction_qty(equity: Decimal, fraction: Decimal, price: Decimal, inst: Instrument) -> Decimal:
    if equity <= 0 or price <= 0 or fraction <= 0:
        return ZERO
    rate = max(inst.taker_fee, inst.maker_fee)
    budget = equity * fraction - Decimal("1e-6")  # the fee is rounded half-up to 1e-8: never ask for more
    return max(inst.round_qty(budget / (price * (1 + rate))), ZERO)


def realised_vol(close: np.ndarray, lookback: int, bars_per_year: float) -> np.ndarray:
    """Annualised root mean square of the last ``lookback`` one-bar log returns (NaN before)."""
    out = np.full(len(close), np.nan)
    if lookback <= 0 or len(close) <= lookback:
        return out
    r = np.diff(np.log(close))
    win = np.lib.stride_tricks.sliding_window_view(r * r, lookback)
    out[lookback:] = np.sqrt(win.mean(axis=1) * bars_per_year)
    return out


# -- strategies -----------------------------------------------------------------------------------
class Strategy(ABC):
    """A trading strategy: ``compute`` over closed bars, ``on_bar`` at event bars (module doc).
    Parameters are numbers with the types of ``defaults``."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    defaults: ClassVar[dict[str, float | int]] = {}
    model: ClassVar[str | None] = None  # the signal model whose forecasts ``compute`` reads

    def __init__(self, **params: float | int) -> None:
        unknown = sorted(set(params) - set(self.defaults))
        if unknown:
            raise ValueError(f"{self.name} has no parameter {', '.join(unknown)} (it has {', '.join(self.defaults)})")
        merged: dict[str, float | int] = {}
        for key, default in self.defaults.items():
            value = params.get(key, default)
            merged[key] = int(value) if isinstance(default, int) and float(value).is_integer() else float(value)
            if isinstance(default, int) and not float(value).is_integer():
                raise ValueError(f"{self.name}: {key} must be a whole number, not {value}")
        self.params = merged
        self.check()

    def check(self) -> None:  # noqa: B027 (optional: most strategies have a rule or two)
        """Refuse parameters that make no sense (``ValueError``)."""

    @property
    @abstractmethod
    def lookback(self) -> int:
        """Closed bars before the newest that its plan at the newest bar depends on."""

    @abstractmethod
    def compute(self, bars: Candles, forecasts: np.ndarray | None = None) -> Plan:
        """The plan over ``bars`` (vectorised, causal); ``forecasts``: the model's probability
        per bar (NaN where it has none) for a strategy with a ``model``."""

    @abstractmethod
    def on_bar(self, ctx: Context) -> None:
        """At the close of an event bar: ask ``ctx`` for orders."""

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.name}({args})"


def parse_params(items: list[str]) -> dict[str, float | int]:
    """``["fast=10", "slow=30.5"]`` → ``{"fast": 10, "slow": 30.5}``."""
    out: dict[str, float | int] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"a parameter is NAME=VALUE, not {item!r}")
        value = float(raw)
        out[key.strip()] = int(value) if value.is_integer() and "." not in raw and "e" not in raw.lower() else value
    return out
