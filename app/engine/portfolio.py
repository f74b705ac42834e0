"""Balances, FIFO positions, realized/unrealized P&L and equity, in exact decimals.

Fees are part of the cost basis: a buy's fee raises its lot's cost per unit, a sell's fee lowers
its proceeds, so realized P&L is net of fees. A fee paid in the base asset changes the quantity
received; a fee paid in a third asset (BNB) is valued at that asset's last price in the quote
currency when one is known, and otherwise kept aside in ``unpriced_fees``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal

from app.domain.execution import Balance
from app.domain.instrument import Instrument
from app.domain.money import ZERO
from app.domain.order import Fill
from app.domain.portfolio import Lot, Position

STABLE = frozenset({"USDT", "USD", "USDC", "BUSD", "FDUSD", "EUR"})


@dataclass(slots=True)
class _Book:
    """One position's accounting."""

    venue: str
    symbol: str
    lots: deque[Lot] = field(default_factory=deque)
    realized: Decimal = ZERO
    fees: Decimal = ZERO

    @property
    def quantity(self) -> Decimal:
        return sum((lot.quantity for lot in self.lots), ZERO)

    @property
    def cost(self) -> Decimal:
        return sum((lot.quantity * lot.price for lot in self.lots), ZERO)


class Portfolio:
    def __init__(self, valuation_currency: str = "USDT") -> None:
        self.ccy = valuation_currency
        self.balances: dict[str, dict[str, Decimal]] = {}  # venue -> asset -> total
        self._books: dict[tuple[str, str], _Book] = {}
        self.marks: dict[str, Decimal] = {}  # symbol -> last price
        self.unpriced_fees: dict[str, Decimal] = {}
        self.instruments: dict[tuple[str, str], Instrument] = {}

    # -- set-up -----------------------------------------------------------------------------------
    def add_instruments(self, instruments: dict[str, Instrument]) -> None:
        for inst in instruments.values():
            self.instruments[inst.key] = inst

    def set_balances(self, venue: str, balances: dict[str, Balance]) -> None:
        self.balances[venue] = {a: b.total for a, b in balances.items()}

    def restore(self, fills: list[Fill]) -> None:
        """Rebuild positions from the fills history (oldest first): the fills are the truth."""
        self._books.clear()
        for f in fills:
            self._apply_position(f)

    # -- updates ----------------------------------------------------------------------------------
    def mark(self, symbol: str, price: Decimal) -> None:
        self.marks[symbol] = price

    def on_fill(self, fill: Fill) -> None:
        inst = self.instruments.get((fill.venue, fill.symbol))
        base, quote = (inst.base, inst.quote) if inst else fill.symbol.split("/", 1)
        bal = self.balances.setdefault(fill.venue, {})
        sign = fill.side.sign
        bal[base] = bal.get(base, ZERO) + sign * fill.quantity
        bal[quote] = bal.get(quote, ZERO) - sign * fill.notional
        if fill.fee:
            bal[fill.fee_asset] = bal.get(fill.fee_asset, ZERO) - fill.fee
        self._apply_position(fill)

    def _fee_in_quote(self, fill: Fill, base: str, quote: str) -> Decimal | None:
        if not fill.fee or fill.fee_asset == quote:
            return fill.fee
        if fill.fee_asset == base:
            return fill.fee * fill.price
        px = self.marks.get(f"{fill.fee_asset}/{quote}")
        return fill.fee * px if px is not None else None

    def _apply_position(self, fill: Fill) -> None:
        inst = self.instruments.get((fill.venue, fill.symbol))
        base, quote = (inst.base, inst.quote) if inst else fill.symbol.split("/", 1)
        book = self._books.get((fill.venue, fill.symbol))
        if book is None:
            book = self._books[(fill.venue, fill.symbol)] = _Book(fill.venue, fill.symbol)
        fee_q = self._fee_in_quote(fill, base, quote)
        if fee_q is None:
            self.unpriced_fees[fill.fee_asset] = self.unpriced_fees.get(fill.fee_asset, ZERO) + fill.fee
            fee_q = ZERO
        book.fees += fee_q
        # Signed base quantity this trade moves, net of a fee taken in the base asset.
        qty = fill.quantity * fill.side.sign
        if fill.fee and fill.fee_asset == base:
            qty -= fill.fee
            fee_q = ZERO  # already paid in quantity
        # Effective price per unit of the moved quantity, fees included.
        cash = fill.notional * fill.side.sign + fee_q  # quote paid (buy) or -received (sell)
        price = cash / qty if qty else fill.price
        remaining = qty
        while remaining and book.lots and (book.lots[0].quantity > 0) != (remaining > 0):
            lot = book.lots[0]
            close = min(abs(remaining), abs(lot.quantity))
            closing_sign = 1 if lot.quantity > 0 else -1
            book.realized += (price - lot.price) * close * closing_sign
            left = lot.quantity - close * closing_sign
            if left == 0:
                book.lots.popleft()
            else:
                book.lots[0] = Lot(lot.venue, lot.symbol, left, lot.price, lot.ts_ms, lot.trade_id)
            remaining += close * closing_sign
        if remaining:
            book.lots.append(Lot(fill.venue, fill.symbol, remaining, price, fill.ts_ms, fill.trade_id))

    # -- queries ----------------------------------------------------------------------------------
    def lots(self, venue: str, symbol: str) -> list[Lot]:
        book = self._books.get((venue, symbol))
        return list(book.lots) if book else []

    def position(self, venue: str, symbol: str) -> Position:
        book = self._books.get((venue, symbol)) or _Book(venue, symbol)
        qty = book.quantity
        mark = self.marks.get(symbol)
        cost = book.cost
        unreal = (qty * mark - cost) if (mark is not None and qty) else ZERO
        return Position(
            venue=venue,
            symbol=symbol,
            quantity=qty,
            avg_cost=(cost / qty) if qty else ZERO,
            realized_pnl=book.realized,
            unrealized_pnl=unreal,
            mark=mark,
            fees=book.fees,
        )

    def positions(self, venue: str | None = None) -> list[Position]:
        return [self.position(v, s) for (v, s) in self._books if venue is None or v == venue]

    def balance(self, venue: str, asset: str) -> Decimal:
        return self.balances.get(venue, {}).get(asset, ZERO)

    def price_of(self, asset: str) -> Decimal | None:
        """An asset's value in the valuation currency, from the last trade price."""
        if asset == self.ccy or (asset in STABLE and self.ccy in STABLE):
            return Decimal(1)
        return self.marks.get(f"{asset}/{self.ccy}")

    def equity(self, venue: str) -> Decimal:
        total = ZERO
        for asset, amount in self.balances.get(venue, {}).items():
            px = self.price_of(asset)
            if px is not None:
                total += amount * px
        return total

    def equity_known(self, venue: str) -> bool:
        """True once every asset held has a price: before that, equity would be understated."""
        return all(self.price_of(a) is not None for a, amt in self.balances.get(venue, {}).items() if amt)

    def realized_pnl(self, venue: str | None = None) -> Decimal:
        return sum((b.realized for (v, _), b in self._books.items() if venue is None or v == venue), ZERO)

    def unrealized_pnl(self, venue: str | None = None) -> Decimal:
        return sum((p.unrealized_pnl for p in self.positions(venue)), ZERO)

    def exposure(self, venue: str, asset: str) -> Decimal:
        """Value of the holdings of ``asset`` in the valuation currency."""
        px = self.price_of(asset)
        return abs(self.balance(venue, asset)) * px if px is not None else ZERO

