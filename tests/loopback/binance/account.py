"""The loopback account: the paper ``Ledger`` with Binance's fee rule (a buy pays its fee in the
coin bought, a sell in the quote asset) and an OCO's funds held once for both legs."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from app.domain.enums import Side
from app.domain.instrument import Instrument
from app.domain.money import ZERO
from app.venues.paper import Ledger, PaperOrder

COMMISSION_QUANT = Decimal("1e-8")


def commission(order: PaperOrder, inst: Instrument, price: Decimal, quote_fee: Decimal) -> tuple[Decimal, str]:
    """Binance's commission of one fill: in the base asset for a buy (the quote fee the matching
    core computed, converted at the fill price), in the quote asset for a sell."""
    if order.side is Side.BUY:
        return (quote_fee / price).quantize(COMMISSION_QUANT, ROUND_HALF_UP), inst.base
    return quote_fee, inst.quote


class BinanceLedger(Ledger):
    __slots__ = ("partners",)

    def __init__(self) -> None:
        super().__init__()
        self.partners: dict[int, PaperOrder] = {}  # id(leg) -> the other leg of its OCO

    def link(self, a: PaperOrder, b: PaperOrder) -> None:
        self.partners[id(a)] = b
        self.partners[id(b)] = a

    def unlink(self, o: PaperOrder) -> None:
        other = self.partners.pop(id(o), None)
        if other is not None:
            self.partners.pop(id(other), None)

    def take_over(self, o: PaperOrder) -> None:
        """``o`` works now (triggered, or filling): the funds its OCO partner held become its own."""
        other = self.partners.get(id(o))
        if other is not None and other.reserved and not o.reserved:
            o.reserve_asset, o.reserved = other.reserve_asset, other.reserved
            other.reserved = ZERO

    def settle(self, order: PaperOrder, inst: Instrument, quantity: Decimal, price: Decimal, fee: Decimal) -> bool:
        self.take_over(order)
        if order.side is Side.SELL:
            return super().settle(order, inst, quantity, price, fee)
        fee_base, _ = commission(order, inst, price, fee)
        bal = self._balances
        base = bal.setdefault(inst.base, [ZERO, ZERO])
        quote = bal.setdefault(inst.quote, [ZERO, ZERO])
        cost = quantity * price
        from_locked = min(cost, order.reserved)
        if cost - from_locked > quote[0]:
            return False
        order.reserved -= from_locked
        quote[1] -= from_locked
        quote[0] -= cost - from_locked
        base[0] += quantity - fee_base
        self._changed.add(inst.base)
        self._changed.add(inst.quote)
        return True
