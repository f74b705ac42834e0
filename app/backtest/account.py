"""The money side of a backtest: the paper ``Ledger`` (spot: what the paper venue uses) or a 1x
margin account that may hold a short position (what backtesting.py's broker models), both behind
one small interface the backtester reads."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from app.domain.enums import OrderType, Side
from app.domain.instrument import Instrument
from app.domain.money import ZERO
from app.venues.paper import FeeModel, Ledger, PaperOrder, reservation


class SpotAccount:
    """The paper venue's ledger: an order is funded (its reservation locked) before it reaches the
    matching core and refused when the free balance cannot pay for it; no shorts."""

    can_short = False

    def __init__(self, inst: Instrument, cash: Decimal, fees: FeeModel) -> None:
        self.inst, self.fees = inst, fees
        self.ledger = Ledger()
        self.ledger.deposit(inst.quote, cash)
        self.ledger.deposit(inst.base, ZERO)

    @property
    def core_account(self) -> Ledger:
        return self.ledger

    def _total(self, asset: str) -> Decimal:
        b = self.ledger.balances()[asset]
        return b.free + b.locked

    @property
    def cash(self) -> Decimal:
        return self._total(self.inst.quote)

    @property
    def position(self) -> Decimal:
        return self._total(self.inst.base)

    def fund(
        self, o: PaperOrder, market_price: Callable[[], Decimal | None], best_price: Callable[[], Decimal | None]
    ) -> str | None:
        """Lock what ``o`` needs; the reason when it cannot be paid for. ``market_price``: what a
        market order would pay on average, walking the book now."""
        try:
            mp = market_price() if o.side is Side.BUY and o.type is OrderType.MARKET else None
            asset, need = reservation(o, self.inst, self.fees, mp)
        except ValueError as exc:
            return str(exc)
        if not self.ledger.reserve(o, asset, need):
            return f"insufficient balance: {need} {asset} needed, {self.ledger.free(asset)} free"
        return None


class MarginAccount:
    """Cash and a signed position in one instrument at 1x: a buy pays its notional and fee, a sell
    receives its notional less the fee, a short is a negative position. An order that would take
    the position's value beyond the equity is refused."""

    can_short = True

    def __init__(self, inst: Instrument, cash: Decimal, fees: FeeModel) -> None:
        self.inst, self.fees = inst, fees
        self.cash = cash
        self.position = ZERO

    @property
    def core_account(self) -> MarginAccount:
        return self

    # -- the matching core's Account protocol --------------------------------------------------------
    def settle(self, order: PaperOrder, inst: Instrument, quantity: Decimal, price: Decimal, fee: Decimal) -> bool:
        if order.side is Side.BUY:
            self.cash -= quantity * price + fee
            self.position += quantity
        else:
            self.cash += quantity * price - fee
            self.position -= quantity
        return True

    def release(self, order: PaperOrder) -> None:
        order.reserved = ZERO

    def fund(
        self, o: PaperOrder, market_price: Callable[[], Decimal | None], best_price: Callable[[], Decimal | None]
    ) -> str | None:
        after = self.position + (o.quantity if o.side is Side.BUY else -o.quantity)
        if abs(after) <= abs(self.position):
            return None  # reduces (or closes) the position
        px = o.price if o.type.has_limit_price else (best_price() if o.type is OrderType.MARKET else o.stop_price)
        if px is None:
            return f"no price to check {o.type.value} order {o.client_order_id} against"
        equity = self.cash + self.position * px
        if abs(after) * px > equity:
            return f"insufficient margin: {abs(after) * px} needed, equity {equity}"
        return None


Account = SpotAccount | MarginAccount
