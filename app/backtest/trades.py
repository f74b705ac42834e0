"""Fills into round-trip trades: a trade opens when the position leaves zero and closes when it
returns to zero (a fill through zero closes one and opens the next). Money stays ``Decimal``."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from app.domain.enums import Side
from app.domain.money import ZERO, fmt


class FillRecord(NamedTuple):  # a named tuple: one is made per fill, and cheaply
    bar: int  # index of the bar it happened in
    ts_ms: int
    order_id: str
    side: Side
    quantity: Decimal
    price: Decimal
    fee: Decimal
    tag: str = ""


@dataclass(frozen=True, slots=True)
class TradeRecord:
    """One round trip. Prices are volume-weighted over its fills; ``pnl`` is net of every fee."""

    direction: int  # +1 long, -1 short
    quantity: Decimal  # the largest position it reached
    entry_bar: int
    entry_ms: int  # open time of the entry fill's bar
    entry_price: Decimal
    exit_bar: int | None  # None: still open at the end
    exit_ms: int | None
    exit_price: Decimal | None  # for an open trade, the last close it is marked at
    fees: Decimal
    pnl: Decimal

    @property
    def is_open(self) -> bool:
        return self.exit_bar is None

    @property
    def return_pct(self) -> float:
        """P&L over the entry notional."""
        cost = self.entry_price * self.quantity
        return float(self.pnl / cost) if cost else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "direction": "long" if self.direction > 0 else "short",
            "quantity": fmt(self.quantity),
            "entry_bar": self.entry_bar,
            "entry_ms": self.entry_ms,
            "entry_price": fmt(self.entry_price),
            "exit_bar": self.exit_bar,
            "exit_ms": self.exit_ms,
            "exit_price": fmt(self.exit_price) if self.exit_price is not None else None,
            "fees": fmt(self.fees),
            "pnl": fmt(self.pnl),
            "return_pct": self.return_pct,
            "open": self.is_open,
        }


class _Open:
    __slots__ = ("bar", "direction", "entry_notional", "entry_qty", "exit_notional", "exit_qty", "fees", "ms", "peak")

    def __init__(self, direction: int, bar: int, ms: int) -> None:
        self.direction, self.bar, self.ms = direction, bar, ms
        self.entry_qty = self.entry_notional = self.exit_qty = self.exit_notional = self.fees = self.peak = ZERO


class TradeBook:
    def __init__(self) -> None:
        self.position = ZERO
        self.closed: list[TradeRecord] = []
        self._open: _Open | None = None

    def on_fill(self, side: Side, quantity: Decimal, price: Decimal, fee: Decimal, bar: int, bar_ms: int) -> None:
        signed = quantity if side is Side.BUY else -quantity
        left, left_fee = quantity, fee
        t = self._open
        if t is not None and (signed > 0) != (t.direction > 0):
            closing = min(quantity, abs(self.position))
            part_fee = fee if closing == quantity else (fee * closing / quantity)
            t.exit_qty += closing
            t.exit_notional += closing * price
            t.fees += part_fee
            self.position += closing if side is Side.BUY else -closing
            left, left_fee = quantity - closing, fee - part_fee
            if self.position == 0:
                self.closed.append(self._record(t, bar, bar_ms))
                self._open = t = None
        if left > 0:
            if t is None:
                t = self._open = _Open(1 if side is Side.BUY else -1, bar, bar_ms)
            t.entry_qty += left
            t.entry_notional += left * price
            t.fees += left_fee
            self.position += left if side is Side.BUY else -left
            t.peak = max(t.peak, abs(self.position))

    @staticmethod
    def _record(t: _Open, bar: int | None, bar_ms: int | None, mark: Decimal | None = None) -> TradeRecord:
        entry_px = t.entry_notional / t.entry_qty
        if mark is None:
            exit_px = t.exit_notional / t.exit_qty
            gross = (t.exit_notional - t.entry_notional) * t.direction  # all of it bought back or sold
        else:  # still open: what is left is marked at ``mark``
            exit_px = mark
            held = t.entry_qty - t.exit_qty
            gross = (t.exit_notional + held * mark - t.entry_notional) * t.direction
        return TradeRecord(t.direction, t.peak, t.bar, t.ms, entry_px, bar, bar_ms, exit_px, t.fees, gross - t.fees)

    def open_trade(self, mark: Decimal) -> TradeRecord | None:
        """The trade still open, marked at ``mark`` (no exit fee)."""
        return self._record(self._open, None, None, mark) if self._open is not None else None
