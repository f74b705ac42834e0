"""Funds our open orders hold, per venue and asset: a sell holds its coins, a buy its quote with
the fee. ``available`` is the balance minus what is held, as the exchange would count it; after a
restart the reservations are rebuilt from the open orders before anything is checked. Also kept
here, for the position limit: how much base the open buy orders would still add."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

from app.domain.enums import Side
from app.domain.instrument import Instrument
from app.domain.money import ZERO
from app.domain.order import Order

Key = tuple[str, str]  # venue, asset


class Reservations:
    def __init__(
        self,
        instrument: Callable[[str, str], Instrument | None],
        last_price: Callable[[str, str], Decimal | None],
        pair_price: Callable[[Order], Decimal | None] = lambda _o: None,
    ) -> None:
        self._instrument = instrument
        self._last = last_price
        self._pair_price = pair_price  # a buy pair's limit leg: its stop leg's price (it buys higher)
        self._total: dict[Key, Decimal] = {}
        self._of: dict[str, tuple[Key, Decimal]] = {}
        self._buys: dict[Key, Decimal] = {}  # venue, base -> quantity open buys would add
        self._buy_of: dict[str, tuple[Key, Decimal]] = {}
        self._left: dict[str, tuple[Decimal, Decimal | None, Decimal | None, Decimal | None]] = {}  # made for

    def update(self, o: Order, *, shares_funds: bool = False) -> None:
        """Bring ``o``'s reservation up to date (nothing once it is final). ``shares_funds``: an
        OCO's stop leg, whose funds the limit leg already holds."""
        cid = o.client_order_id
        live = not (o.status.is_final or o.remaining <= 0 or shares_funds)
        cover = self._pair_price(o) if live and o.side is Side.BUY and o.list_id else None
        memo = (o.remaining, o.price, o.stop_price, cover)
        if live and self._left.get(cid) == memo:
            return  # a status change that moves no funds (acknowledged, triggered)
        self._left.pop(cid, None)
        old = self._of.pop(cid, None)
        if old is not None:
            self._total[old[0]] = self._total.get(old[0], ZERO) - old[1]
        old = self._buy_of.pop(cid, None)
        if old is not None:
            self._buys[old[0]] = self._buys.get(old[0], ZERO) - old[1]
        if not live:
            return
        inst = self._instrument(o.venue, o.symbol)
        if inst is None:
            return
        if o.side is Side.SELL:
            key, amount = (o.venue, inst.base), o.remaining
        else:
            px = o.price or o.stop_price or self._last(o.venue, o.symbol) or ZERO
            if cover is not None and cover > px:
                px = cover  # one of the pair fills: the funds for the dearer one are held
            key, amount = (o.venue, inst.quote), o.remaining * px * (1 + inst.taker_fee)
            buy_key = (o.venue, inst.base)
            self._buy_of[cid] = (buy_key, o.remaining)
            self._buys[buy_key] = self._buys.get(buy_key, ZERO) + o.remaining
        self._of[cid] = (key, amount)
        self._left[cid] = memo
        self._total[key] = self._total.get(key, ZERO) + amount

    def rebuild(self, orders: Iterable[tuple[Order, bool]]) -> None:
        self._total.clear()
        self._of.clear()
        self._buys.clear()
        self._buy_of.clear()
        self._left.clear()
        for o, shares in orders:
            self.update(o, shares_funds=shares)

    def held(self, venue: str, asset: str, *, excluding: str | None = None) -> Decimal:
        total = self._total.get((venue, asset), ZERO)
        if excluding is not None:
            own = self._of.get(excluding)
            if own is not None and own[0] == (venue, asset):
                total -= own[1]
        return total

    def open_buys(self, venue: str, base: str, *, excluding: str | None = None) -> Decimal:
        total = self._buys.get((venue, base), ZERO)
        if excluding is not None:
            own = self._buy_of.get(excluding)
            if own is not None and own[0] == (venue, base):
                total -= own[1]
        return total
