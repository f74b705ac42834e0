"""Synchronous matching of one instrument's paper orders against the market data it is fed.

No asyncio, no journal and no balances of its own: money moves through the ``Account`` it is
handed (the paper ``Ledger``, or ``UnlimitedAccount``) and every call returns what happened as
plain values, in order. The paper venue drives one core per symbol; a backtester drives one
directly. The same calls in the same order give the same events.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from decimal import Decimal

from app.domain.enums import LiquiditySide, OrderStatus, OrderType, Side, TimeInForce
from app.domain.instrument import Instrument
from app.domain.market import Bar, BookSnapshot, Trade
from app.domain.money import ZERO

from .events import Expired, FillEvent, MatchEvent, QueueMoved, Rejected, Triggered
from .fees import DEFAULT_TICK, FeeModel, bar_path
from .ledger import Account, UnlimitedAccount
from .order import PaperOrder


# Sort keys: resting bids highest first, asks lowest first; triggers by how soon the market reaches them.
def _bid_key(o: PaperOrder) -> Decimal:
    return -o.price  # type: ignore[operator]


def _ask_key(o: PaperOrder) -> Decimal:
    return o.price  # type: ignore[return-value]


def _rising_key(o: PaperOrder) -> Decimal:
    return o.stop_price  # type: ignore[return-value]


def _falling_key(o: PaperOrder) -> Decimal:
    return -o.stop_price  # type: ignore[operator]


class MatchingCore:
    """The paper orders of one instrument: resting limit orders best-first per side, untriggered
    stop/take-profit orders by trigger, the last book and trade, and the book liquidity paper
    orders already took since that book. Orders must be funded by the caller (see
    ``ledger.reservation``) before ``submit``; fills are paid through ``account``."""

    def __init__(
        self,
        symbol: str,
        instrument: Instrument | None = None,
        *,
        account: Account | None = None,
        fees: FeeModel | None = None,
    ) -> None:
        self.symbol = symbol
        self.instrument = instrument  # nothing matches until it is known
        self.account: Account = account if account is not None else UnlimitedAccount()
        self.fees = fees if fees is not None else FeeModel()
        self.book: BookSnapshot | None = None
        self.last: Decimal | None = None
        self.now_ms = 0
        self._bids: list[PaperOrder] = []
        self._asks: list[PaperOrder] = []
        self._rising: list[PaperOrder] = []  # trigger when last >= stop (ascending)
        self._falling: list[PaperOrder] = []  # trigger when last <= stop (descending)
        self._taken: dict[tuple[Side, Decimal], Decimal] = {}  # (book side, price) -> quantity

    # -- orders ----------------------------------------------------------------------------------
    def submit(self, o: PaperOrder) -> list[MatchEvent]:
        """A new, funded order: take liquidity now (market orders, marketable limits), then rest,
        expire or wait for its trigger."""
        events: list[MatchEvent] = []
        if o.post_only and self.crosses(o):
            self._finish(o, OrderStatus.REJECTED)
            events.append(Rejected(o, "post-only order would take liquidity"))
        elif o.tif is TimeInForce.FOK and self.available(o) < o.quantity:
            self._finish(o, OrderStatus.EXPIRED)
            events.append(Expired(o, "fill-or-kill: not enough liquidity"))
        elif o.type is OrderType.MARKET or o.type is OrderType.LIMIT:
            self._execute(o, events)
        else:
            self._index(o)
        return events

    def add(self, o: PaperOrder) -> None:
        """File an open order as it stands (restored from a journal): no matching now."""
        self._index(o)

    def remove(self, o: PaperOrder) -> None:
        """Forget an order without touching its money."""
        self._unindex(o)

    def cancel(self, o: PaperOrder) -> None:
        """Cancel an open order and release what it reserves."""
        self._finish(o, OrderStatus.CANCELLED)

    def orders(self) -> list[PaperOrder]:
        """Open orders: resting bids and asks best first, then those waiting for a trigger."""
        return [*self._bids, *self._asks, *self._rising, *self._falling]

    # -- market data -----------------------------------------------------------------------------
    def on_book(self, book: BookSnapshot) -> list[MatchEvent]:
        """A new book: liquidity taken from the last one is back; resting orders the other side
        now reaches fill (the market moved through them between trades)."""
        if book.symbol != self.symbol:
            raise ValueError(f"book of {book.symbol} fed to the matching core of {self.symbol}")
        self.book = book
        if self._taken:
            self._taken = {}
        if book.ts_ms > self.now_ms:
            self.now_ms = book.ts_ms
        events: list[MatchEvent] = []
        bids, asks = self._bids, self._asks
        # Only the best resting price on each side needs a look to know whether anything crossed.
        if self.instrument is not None and (
            (bids and book.asks and bids[0].price >= book.asks[0].price)  # type: ignore[operator]
            or (asks and book.bids and asks[0].price <= book.bids[0].price)  # type: ignore[operator]
        ):
            self._fill_crossed(book, events)
        return events

    def on_trade(self, trade: Trade) -> list[MatchEvent]:
        """A trade: triggers it reaches fire, then resting orders it trades through (or at, once
        the queue ahead of them is gone) fill as makers, up to its volume."""
        if trade.symbol != self.symbol:
            raise ValueError(f"trade of {trade.symbol} fed to the matching core of {self.symbol}")
        if trade.ts_ms > self.now_ms:
            self.now_ms = trade.ts_ms
        price = self.last = trade.price
        events: list[MatchEvent] = []
        if self.instrument is None:
            return events
        rising, falling = self._rising, self._falling
        if (rising and rising[0].stop_price <= price) or (falling and falling[0].stop_price >= price):  # type: ignore[operator]
            self._check_triggers(price, events)
        bids, asks = self._bids, self._asks
        if (bids and bids[0].price >= price) or (asks and asks[0].price <= price):  # type: ignore[operator]
            self._fill_resting(trade, events)
        return events

    def on_bar(self, bar: Bar) -> list[MatchEvent]:
        """A bar replayed as books and trades along its path (``fees.bar_path``)."""
        tick = self.instrument.tick_size if self.instrument is not None else DEFAULT_TICK
        events: list[MatchEvent] = []
        for ev in bar_path(bar, tick):
            events += self.on_book(ev) if isinstance(ev, BookSnapshot) else self.on_trade(ev)
        return events

    # -- what the book offers ----------------------------------------------------------------------
    def levels(self, o: PaperOrder) -> list[tuple[Decimal, Decimal]]:
        """Opposite-side levels ``o`` may trade with: (price, quantity left after earlier paper fills)."""
        book = self.book
        if book is None:
            return []
        buy = o.side is Side.BUY
        levels = book.asks if buy else book.bids
        taken = self._taken
        opp = o.side.opposite
        limit = o.price if o.acts_as_limit else None
        out = []
        for lvl in levels:
            if limit is not None and (lvl.price > limit if buy else lvl.price < limit):
                break
            q = lvl.quantity - taken.get((opp, lvl.price), ZERO)
            if q > 0:
                out.append((lvl.price, q))
        return out

    def walk_cost(self, o: PaperOrder) -> Decimal:
        """What taking ``o``'s remaining quantity from the book would cost (the rest at the last price)."""
        left, cost, last_px = o.remaining, ZERO, ZERO
        for px, q in self.levels(o):
            take = min(left, q)
            cost += take * px
            left -= take
            last_px = px
            if left == 0:
                break
        return cost + left * last_px

    def available(self, o: PaperOrder) -> Decimal:
        return sum((q for _, q in self.levels(o)), ZERO)

    def crosses(self, o: PaperOrder) -> bool:
        """Would ``o``'s limit price take liquidity from the book as it stands?"""
        book = self.book
        if book is None or o.price is None:
            return False
        if o.side is Side.BUY:
            return book.best_ask is not None and o.price >= book.best_ask
        return book.best_bid is not None and o.price <= book.best_bid

    # -- matching --------------------------------------------------------------------------------
    def _execute(self, o: PaperOrder, events: list[MatchEvent]) -> None:
        """Take liquidity from the book now (market orders, marketable limits); rest or expire."""
        taken = self._taken
        opp = o.side.opposite
        for px, q in self.levels(o):
            qty = min(o.remaining, q)
            if not self._fill(o, qty, px, LiquiditySide.TAKER, events):
                break
            taken[(opp, px)] = taken.get((opp, px), ZERO) + qty
            if o.remaining == 0:
                return
        if o.status.is_final:
            return
        if not o.acts_as_limit or o.tif is not TimeInForce.GTC:
            self._finish(o, OrderStatus.EXPIRED)
            why = "not enough liquidity in the book" if not o.acts_as_limit else "immediate-or-cancel remainder"
            events.append(Expired(o, why))
            return
        # Rests: the queue ahead is what the book already shows at our price.
        o.queue_ahead = ZERO
        book = self.book
        if book is not None and o.price is not None:
            for lvl in book.bids if o.side is Side.BUY else book.asks:
                if lvl.price == o.price:
                    o.queue_ahead = lvl.quantity
                    break
        self._index(o)

    def _fill(self, o: PaperOrder, qty: Decimal, px: Decimal, liq: LiquiditySide, events: list[MatchEvent]) -> bool:
        """Book one fill; False (nothing booked) when the lot rounds it away or the account cannot pay."""
        inst = self.instrument
        assert inst is not None
        qty = inst.round_qty(qty)
        if qty <= 0:
            return False
        fees = self.fees
        fee = fees.fee(inst, qty * px, liq)
        if not self.account.settle(o, inst, qty, px, fee):
            return False
        o.filled += qty
        done = o.remaining == 0
        events.append(FillEvent(o, qty, px, fee, fees.asset(inst), liq, self.now_ms, done))
        if done:
            self._finish(o, OrderStatus.FILLED)
        return True

    def _finish(self, o: PaperOrder, status: OrderStatus) -> None:
        """Close an order and release what it still reserves."""
        self.account.release(o)
        o.status = status
        self._unindex(o)

    def _check_triggers(self, last: Decimal, events: list[MatchEvent]) -> None:
        fired: list[PaperOrder] = []
        rising = self._rising
        while rising and rising[0].stop_price <= last:  # type: ignore[operator]
            fired.append(rising.pop(0))
        falling = self._falling
        while falling and falling[0].stop_price >= last:  # type: ignore[operator]
            fired.append(falling.pop(0))
        for o in fired:
            o.indexed = ""
            if o.status.is_final:
                continue
            o.triggered = True
            events.append(Triggered(o))
            self._execute(o, events)

    def _fill_resting(self, trade: Trade, events: list[MatchEvent]) -> None:
        volume, price = trade.quantity, trade.price
        # Buys priced at or above the trade, sells at or below it, best price (then oldest) first.
        candidates: list[PaperOrder] = []
        for o in self._bids:
            if o.price < price:  # type: ignore[operator]
                break
            candidates.append(o)
        for o in self._asks:
            if o.price > price:  # type: ignore[operator]
                break
            candidates.append(o)
        for o in candidates:
            if volume <= 0:
                break
            px = o.price
            assert px is not None
            if o.side is Side.BUY:
                through, at = price < px, price == px and trade.taker_side is Side.SELL
            else:
                through, at = price > px, price == px and trade.taker_side is Side.BUY
            if not (through or at):
                continue
            avail = volume
            if at and not through:
                ahead = min(o.queue_ahead, avail)
                if ahead:
                    o.queue_ahead -= ahead
                    avail -= ahead
                    events.append(QueueMoved(o, o.queue_ahead))
            qty = min(o.remaining, avail)
            if qty > 0 and self._fill(o, qty, px, LiquiditySide.MAKER, events):
                volume -= qty

    def _fill_crossed(self, book: BookSnapshot, events: list[MatchEvent]) -> None:
        """A book that now shows sellers at or below a resting bid (or buyers at or above a resting
        ask) has traded through it: fill it at its own price, as a maker, up to the quantity the
        book shows on the other side within its price."""
        taken = self._taken
        for side, resting, levels in ((Side.BUY, self._bids, book.asks), (Side.SELL, self._asks, book.bids)):
            opp = side.opposite
            for o in list(resting):
                px = o.price
                assert px is not None
                crossed = [lvl for lvl in levels if (lvl.price <= px if side is Side.BUY else lvl.price >= px)]
                if not crossed:
                    break  # best-priced first: no later order is crossed either
                for lvl in crossed:
                    qty = min(o.remaining, lvl.quantity - taken.get((opp, lvl.price), ZERO))
                    if qty <= 0:
                        continue
                    if not self._fill(o, qty, px, LiquiditySide.MAKER, events):
                        break
                    taken[(opp, lvl.price)] = taken.get((opp, lvl.price), ZERO) + qty
                    if o.remaining == 0:
                        break

    # -- filing ----------------------------------------------------------------------------------
    def _slot(self, o: PaperOrder, trigger: bool) -> tuple[list[PaperOrder], Callable[[PaperOrder], Decimal]]:
        if trigger:
            rising = (o.side is Side.BUY) == o.type.is_stop
            return (self._rising, _rising_key) if rising else (self._falling, _falling_key)
        return (self._bids, _bid_key) if o.side is Side.BUY else (self._asks, _ask_key)

    def _index(self, o: PaperOrder) -> None:
        """File an open order where matching looks for it (no-op for one filed there already)."""
        if o.type.has_trigger and not o.triggered:
            if o.stop_price is None:
                raise ValueError(f"{o.type.value} order {o.client_order_id} has no trigger price")
            if o.indexed == "trigger":
                return
            where = "trigger"
        elif o.acts_as_limit and o.price is not None and o.indexed != "resting":
            where = "resting"
        else:
            return
        self._unindex(o)
        lst, key = self._slot(o, where == "trigger")
        bisect.insort(lst, o, key=key)  # after equal keys: time priority
        o.indexed = where

    def _unindex(self, o: PaperOrder) -> None:
        if not o.indexed:
            return
        lst, key = self._slot(o, o.indexed == "trigger")
        i = bisect.bisect_left(lst, key(o), key=key)
        while i < len(lst) and lst[i] is not o:
            i += 1
        if i < len(lst):
            del lst[i]
        else:  # not where its key says: look everywhere rather than leave it filed
            for other in (self._bids, self._asks, self._rising, self._falling):
                for j, x in enumerate(other):
                    if x is o:
                        del other[j]
                        break
        o.indexed = ""
