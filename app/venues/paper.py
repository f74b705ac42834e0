"""Paper exchange: a matching engine that trades against the market data it is fed.

Rules (what a user can rely on):
- Market orders walk the order book level by level (partial fills, real slippage); liquidity a
  paper order took stays taken until the next book snapshot. What the book cannot fill expires.
- Limit orders that cross the book on arrival take liquidity (taker fee) unless post-only, which
  is then rejected. The rest rests with a queue position equal to the book quantity already at its
  price. A resting order fills when the market trades *through* its price, or at its price once
  the queue ahead of it has traded; never more than the traded volume (partial fills). A book
  snapshot that shows the other side at or through its price fills it too (the market moved
  through it between trades), up to the quantity shown there. Maker fee.
- Stop and take-profit orders trigger on the last trade price, then behave as market or limit.
- Balances are checked and reserved on placement; an order the account cannot pay for (fees
  included) is rejected. Fees are charged in the quote currency.
- On bars (backtests), each bar is replayed as four trades along the path
  open → low → high → close for a rising bar (close ≥ open) and open → high → low → close for a
  falling one, each with a quarter of the bar's volume, with a one-tick book around each price.
The state survives a crash of the app through ``PaperJournal``.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from app.domain.enums import LiquiditySide, OrderEvent, OrderStatus, OrderType, Side, TimeInForce
from app.domain.execution import Balance, ExecutionReport, VenueOrderState
from app.domain.instrument import Instrument
from app.domain.market import Bar, BookLevel, BookSnapshot, Trade
from app.domain.money import ZERO, fmt
from app.domain.order import Fill, Order, trigger_problems, validate_request

from .base import Capabilities, MarketData, ReportHandler
from .paper_journal import PaperJournal

FEE_QUANT = Decimal("1e-8")
# A stop-market buy reserves this much above its trigger, since it will pay the ask after it.
STOP_BUY_RESERVE = Decimal("1.05")
KEEP_CLOSED = 20_000


@dataclass(slots=True, eq=False)  # identity, not field-by-field: orders are looked up in lists
class PaperOrder:
    client_order_id: str
    venue_order_id: str
    symbol: str
    side: Side
    type: OrderType
    quantity: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    tif: TimeInForce
    post_only: bool
    created_ms: int
    filled: Decimal = ZERO
    status: OrderStatus = OrderStatus.NEW
    triggered: bool = False
    queue_ahead: Decimal = ZERO
    reserve_asset: str = ""
    reserved: Decimal = ZERO
    indexed: str = ""  # where the matcher files it: "", "trigger" or "resting" (not persisted)

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled

    @property
    def acts_as_limit(self) -> bool:
        return self.type is OrderType.LIMIT or (self.triggered and self.type.has_limit_price)

    def to_json(self) -> dict[str, Any]:
        return {
            "c": self.client_order_id,
            "v": self.venue_order_id,
            "s": self.symbol,
            "sd": self.side.value,
            "t": self.type.value,
            "q": str(self.quantity),
            "p": None if self.price is None else str(self.price),
            "sp": None if self.stop_price is None else str(self.stop_price),
            "tif": self.tif.value,
            "po": self.post_only,
            "ts": self.created_ms,
            "f": str(self.filled),
            "st": self.status.value,
            "tr": self.triggered,
            "qa": str(self.queue_ahead),
            "ra": self.reserve_asset,
            "r": str(self.reserved),
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> PaperOrder:
        return cls(
            client_order_id=d["c"],
            venue_order_id=d["v"],
            symbol=d["s"],
            side=Side(d["sd"]),
            type=OrderType(d["t"]),
            quantity=Decimal(d["q"]),
            price=None if d["p"] is None else Decimal(d["p"]),
            stop_price=None if d["sp"] is None else Decimal(d["sp"]),
            tif=TimeInForce(d["tif"]),
            post_only=d["po"],
            created_ms=d["ts"],
            filled=Decimal(d["f"]),
            status=OrderStatus(d["st"]),
            triggered=d["tr"],
            queue_ahead=Decimal(d["qa"]),
            reserve_asset=d["ra"],
            reserved=Decimal(d["r"]),
        )


def fill_to_json(f: Fill) -> dict[str, Any]:
    return {
        "id": f.trade_id,
        "c": f.client_order_id,
        "v": f.venue_order_id,
        "s": f.symbol,
        "sd": f.side.value,
        "q": str(f.quantity),
        "p": str(f.price),
        "fee": str(f.fee),
        "fa": f.fee_asset,
        "l": f.liquidity.value,
        "ts": f.ts_ms,
    }


def fill_from_json(venue: str, d: dict[str, Any]) -> Fill:
    return Fill(
        trade_id=d["id"],
        client_order_id=d["c"],
        venue_order_id=d["v"],
        venue=venue,
        symbol=d["s"],
        side=Side(d["sd"]),
        quantity=Decimal(d["q"]),
        price=Decimal(d["p"]),
        fee=Decimal(d["fee"]),
        fee_asset=d["fa"],
        liquidity=LiquiditySide(d["l"]),
        ts_ms=d["ts"],
    )


class _Step:
    """The changes of one matching step, written to the journal as one line."""

    __slots__ = ("assets", "fills", "orders", "reports")

    def __init__(self) -> None:
        self.orders: dict[str, PaperOrder] = {}
        self.assets: set[str] = set()
        self.fills: list[Fill] = []
        self.reports: list[ExecutionReport] = []


class PaperVenue:
    """A ``Venue`` that simulates an exchange account on top of a ``MarketData`` source."""

    def __init__(
        self,
        source: MarketData,
        *,
        name: str = "paper",
        journal_path: Path | str | None = None,
        initial_balances: dict[str, Decimal] | None = None,
        fsync: bool = False,
    ) -> None:
        self.source = source
        self.name = name
        self.capabilities = Capabilities(
            native_stop=True, native_take_profit=True, native_oco=False, native_trailing=False
        )
        self.instruments: dict[str, Instrument] = {}
        self._handler: ReportHandler | None = None
        self._balances: dict[str, list[Decimal]] = {}  # asset -> [free, locked]
        self._open: dict[str, PaperOrder] = {}  # client id -> order
        # Per symbol: resting limit orders best-first per side, and untriggered stop/take-profit
        # orders ordered by how soon the market reaches them, so a trade looks at few orders.
        self._resting: dict[str, dict[Side, list[PaperOrder]]] = {}
        self._rising: dict[str, list[PaperOrder]] = {}  # trigger when last >= stop (ascending)
        self._falling: dict[str, list[PaperOrder]] = {}  # trigger when last <= stop (descending)
        self._closed: dict[str, PaperOrder] = {}
        self._fills: list[Fill] = []
        self._seq = 0
        self._books: dict[str, BookSnapshot] = {}
        self._taken: dict[str, dict[tuple[Side, Decimal], Decimal]] = {}
        self._last: dict[str, Decimal] = {}
        self._now_ms = 0
        self._journal = PaperJournal(journal_path) if journal_path is not None else None
        if self._journal is not None:
            self._journal.fsync = fsync
            self._restore()
        if not self._balances and initial_balances:
            step = _Step()
            for asset, amount in initial_balances.items():
                self._balances[asset] = [Decimal(amount), ZERO]
                step.assets.add(asset)
            self._commit(step)

    # -- persistence ---------------------------------------------------------------------------
    def _restore(self) -> None:
        assert self._journal is not None
        for rec in self._journal.replay():
            self._seq = max(self._seq, rec.get("seq", 0))
            for asset, (free, locked) in rec.get("b", {}).items():
                self._balances[asset] = [Decimal(free), Decimal(locked)]
            for d in rec.get("o", []):
                o = PaperOrder.from_json(d)
                self._place_in_maps(o)
            for d in rec.get("f", []):
                self._fills.append(fill_from_json(self.name, d))
        self._journal.rewrite(self._snapshot())

    def _snapshot(self) -> dict[str, Any]:
        closed = list(self._closed.values())[-KEEP_CLOSED:]
        return {
            "seq": self._seq,
            "b": {a: [str(f), str(lk)] for a, (f, lk) in self._balances.items()},
            "o": [o.to_json() for o in closed] + [o.to_json() for o in self._open.values()],
            "f": [fill_to_json(f) for f in self._fills[-KEEP_CLOSED:]],
        }

    def _place_in_maps(self, o: PaperOrder) -> None:
        old = self._open.pop(o.client_order_id, None)
        if old is not None:
            self._unindex(old)
        if o.status.is_final:
            self._closed[o.client_order_id] = o
            if len(self._closed) > 2 * KEEP_CLOSED:
                for key in list(self._closed)[:KEEP_CLOSED]:
                    del self._closed[key]
        else:
            self._open[o.client_order_id] = o
            self._index(o)

    def _index(self, o: PaperOrder) -> None:
        """File an open order where the matcher looks for it (no-op for one filed already)."""
        if o.type.has_trigger and not o.triggered:
            assert o.stop_price is not None
            rising = (o.side is Side.BUY) == o.type.is_stop
            if o.indexed != "trigger":
                self._unindex(o)
                lst = (self._rising if rising else self._falling).setdefault(o.symbol, [])
                key = (lambda x: x.stop_price) if rising else (lambda x: -x.stop_price)  # type: ignore[operator]
                bisect.insort(lst, o, key=key)
                o.indexed = "trigger"
        elif o.acts_as_limit and o.price is not None and o.indexed != "resting":
            self._unindex(o)
            lst = self._resting.setdefault(o.symbol, {Side.BUY: [], Side.SELL: []})[o.side]
            key = (lambda x: -x.price) if o.side is Side.BUY else (lambda x: x.price)  # type: ignore[operator]
            bisect.insort(lst, o, key=key)
            o.indexed = "resting"


    def _unindex(self, o: PaperOrder) -> None:
        if not o.indexed:
            return
        lists = ((self._rising.get(o.symbol, []), self._falling.get(o.symbol, [])) if o.indexed == "trigger"
                 else tuple(self._resting.get(o.symbol, {}).values()))
        for lst in lists:
            for i, x in enumerate(lst):
                if x is o:
                    del lst[i]
                    break
        o.indexed = ""

    def _commit(self, step: _Step) -> None:
        """Persist a step (one journal line), then tell the order manager."""
        if self._journal is not None and (step.orders or step.assets or step.fills):
            rec: dict[str, Any] = {"seq": self._seq}
            if step.orders:
                rec["o"] = [o.to_json() for o in step.orders.values()]
            if step.assets:
                rec["b"] = {a: [str(self._balances[a][0]), str(self._balances[a][1])] for a in step.assets}
            if step.fills:
                rec["f"] = [fill_to_json(f) for f in step.fills]
            self._journal.append(rec)
        for o in step.orders.values():
            if o.status.is_final and o.client_order_id in self._open:
                self._place_in_maps(o)
        self._fills.extend(step.fills)
        if self._handler is not None:
            for r in step.reports:
                self._handler(r)

    # -- market data (pass-through, matching on the way) -----------------------------------------
    async def load_markets(self) -> dict[str, Instrument]:
        markets = await self.source.load_markets()
        self.instruments = {
            sym: Instrument(
                venue=self.name,
                symbol=inst.symbol,
                base=inst.base,
                quote=inst.quote,
                tick_size=inst.tick_size,
                lot_step=inst.lot_step,
                min_qty=inst.min_qty,
                max_qty=inst.max_qty,
                min_notional=inst.min_notional,
                max_notional=inst.max_notional,
                band_down=inst.band_down,
                band_up=inst.band_up,
                maker_fee=inst.maker_fee,
                taker_fee=inst.taker_fee,
            )
            for sym, inst in markets.items()
        }
        return self.instruments

    async def watch_trades(self, symbol: str) -> AsyncIterator[Trade]:
        async for t in self.source.watch_trades(symbol):
            self.on_trade(t)
            yield t

    async def watch_book(self, symbol: str) -> AsyncIterator[BookSnapshot]:
        async for b in self.source.watch_book(symbol):
            self.on_book(b)
            yield b

    def watch_bars(self, symbol: str, timeframe: str) -> AsyncIterator[Bar]:
        return self.source.watch_bars(symbol, timeframe)

    async def fetch_bars(self, symbol: str, timeframe: str, since_ms: int | None, limit: int) -> list[Bar]:
        return await self.source.fetch_bars(symbol, timeframe, since_ms, limit)

    async def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
        await self.source.close()

    def last_price(self, symbol: str) -> Decimal | None:
        return self._last.get(symbol)

    def book(self, symbol: str) -> BookSnapshot | None:
        return self._books.get(symbol)

    def _now(self) -> int:
        return self._now_ms or int(time.time() * 1000)

    def on_book(self, book: BookSnapshot) -> None:
        self._books[book.symbol] = book
        self._taken.pop(book.symbol, None)
        self._now_ms = max(self._now_ms, book.ts_ms)
        sides = self._resting.get(book.symbol)
        if not sides:
            return
        bids, asks = sides[Side.BUY], sides[Side.SELL]
        # Only the best resting price on each side needs a look to know whether anything crossed.
        if (bids and book.asks and bids[0].price >= book.asks[0].price) or (  # type: ignore[operator]
            asks and book.bids and asks[0].price <= book.bids[0].price  # type: ignore[operator]
        ):
            self._fill_crossed(book, sides)

    def _fill_crossed(self, book: BookSnapshot, sides: dict[Side, list[PaperOrder]]) -> None:
        """A book that now shows sellers at or below a resting bid (or buyers at or above a resting
        ask) has traded through it: fill it at its own price, as a maker, up to the quantity the
        book shows on the other side within its price."""
        inst = self.instruments.get(book.symbol)
        if inst is None:
            return
        step = _Step()
        taken = self._taken.setdefault(book.symbol, {})
        for side, levels in ((Side.BUY, book.asks), (Side.SELL, book.bids)):
            for o in list(sides[side]):
                assert o.price is not None
                crossed = [lvl for lvl in levels
                           if (lvl.price <= o.price if side is Side.BUY else lvl.price >= o.price)]
                if not crossed:
                    break  # best-priced first: no later order is crossed either
                for lvl in crossed:
                    left = lvl.quantity - taken.get((side.opposite, lvl.price), ZERO)
                    qty = min(o.remaining, left)
                    if qty <= 0:
                        continue
                    if not self._fill(o, inst, qty, o.price, LiquiditySide.MAKER, step):
                        break
                    taken[(side.opposite, lvl.price)] = taken.get((side.opposite, lvl.price), ZERO) + qty
                    if o.remaining == 0:
                        break
        if step.orders or step.reports:
            self._commit(step)

    def on_trade(self, trade: Trade) -> None:
        self._now_ms = max(self._now_ms, trade.ts_ms)
        self._last[trade.symbol] = trade.price
        step = _Step()
        self._check_triggers(trade.symbol, trade.price, step)
        self._fill_resting(trade, step)
        if step.orders or step.reports:
            self._commit(step)

    def on_bar(self, bar: Bar) -> None:
        """Replay a bar as trades along the intra-bar path (see the module docstring)."""
        inst = self.instruments.get(bar.symbol)
        tick = inst.tick_size if inst is not None else Decimal("0.01")
        path = (
            (bar.open, bar.low, bar.high, bar.close)
            if bar.close >= bar.open
            else (bar.open, bar.high, bar.low, bar.close)
        )
        qty = bar.volume / 4 if bar.volume > 0 else Decimal(1)
        prev = path[0]
        for i, px in enumerate(path):
            ts = bar.open_ms + i
            self.on_book(
                BookSnapshot(bar.venue, bar.symbol, (BookLevel(px - tick, qty),), (BookLevel(px + tick, qty),), ts)
            )
            side = Side.BUY if px >= prev else Side.SELL
            self.on_trade(Trade(bar.venue, bar.symbol, f"bar{bar.open_ms}-{i}", px, qty, side, ts))
            prev = px

    # -- trading -------------------------------------------------------------------------------
    def set_report_handler(self, handler: ReportHandler) -> None:
        self._handler = handler

    def _report(self, o: PaperOrder, event: OrderEvent, fill: Fill | None = None, reason: str = "") -> ExecutionReport:
        return ExecutionReport(
            venue=self.name,
            client_order_id=o.client_order_id,
            event=event,
            ts_ms=self._now(),
            venue_order_id=o.venue_order_id,
            fill=fill,
            reason=reason,
        )

    def _reject(self, order: Order, reason: str) -> ExecutionReport:
        return ExecutionReport(self.name, order.client_order_id, OrderEvent.REJECTED, self._now(), reason=reason)

    async def place(self, order: Order) -> ExecutionReport:
        known = self._open.get(order.client_order_id) or self._closed.get(order.client_order_id)
        if known is not None:  # idempotent: a retried submit never creates a second order
            return self._report(known, OrderEvent.ACCEPTED)
        inst = self.instruments.get(order.symbol)
        if inst is None:
            return self._reject(order, f"unknown symbol {order.symbol}")
        if order.type is OrderType.TRAILING_STOP:
            return self._reject(order, "trailing stops are not supported natively")
        last = self._last.get(order.symbol)
        req = order.to_request()
        problems = validate_request(req, inst, None) + trigger_problems(req, last)
        if problems:
            return self._reject(order, problems[0].message)
        book = self._books.get(order.symbol)
        if order.type is OrderType.MARKET and (book is None or not (book.asks if order.side is Side.BUY else book.bids)):
            return self._reject(order, "no order book yet: the market has no liquidity to trade against")
        o = PaperOrder(
            client_order_id=order.client_order_id,
            venue_order_id="",
            symbol=order.symbol,
            side=order.side,
            type=order.type,
            quantity=order.quantity,
            price=order.price,
            stop_price=order.stop_price,
            tif=order.tif,
            post_only=order.post_only,
            created_ms=self._now(),
        )
        if o.post_only and self._crosses(o, book):
            return self._reject(order, "post-only order would take liquidity")
        if o.tif is TimeInForce.FOK and self._available(o, book) < o.quantity:
            self._seq += 1
            o.venue_order_id = str(self._seq)
            o.status = OrderStatus.EXPIRED
            step = _Step()
            step.orders[o.client_order_id] = o
            self._closed[o.client_order_id] = o
            self._commit(step)
            return self._report(o, OrderEvent.EXPIRED, reason="fill-or-kill: not enough liquidity")
        # Reserve funds.
        need_asset, need = self._reservation(o, inst, book)
        bal = self._balances.setdefault(need_asset, [ZERO, ZERO])
        if bal[0] < need:
            return self._reject(
                order,
                f"insufficient balance: {fmt(need)} {need_asset} needed, {fmt(bal[0])} {need_asset} free",
            )
        self._seq += 1
        o.venue_order_id = str(self._seq)
        o.reserve_asset, o.reserved = need_asset, need
        bal[0] -= need
        bal[1] += need
        step = _Step()
        step.assets.add(need_asset)
        step.orders[o.client_order_id] = o
        ack = self._report(o, OrderEvent.ACCEPTED)
        step.reports.append(ack)
        self._place_in_maps(o)
        if o.type is OrderType.MARKET or (o.type is OrderType.LIMIT):
            self._execute(o, inst, step)
        self._commit(step)
        return ack

    async def cancel(self, order: Order) -> ExecutionReport:
        o = self._open.get(order.client_order_id)
        if o is None:
            closed = self._closed.get(order.client_order_id)
            reason = f"order is already {closed.status.value}" if closed else "unknown order"
            return ExecutionReport(
                self.name,
                order.client_order_id,
                OrderEvent.CANCEL_REJECTED,
                self._now(),
                venue_order_id=closed.venue_order_id if closed else None,
                reason=reason,
            )
        step = _Step()
        self._finish(o, OrderStatus.CANCELLED, step)
        self._commit(step)
        return self._report(o, OrderEvent.CANCELLED, reason="cancelled by user")

    async def fetch_open_orders(self, symbol: str | None = None) -> list[VenueOrderState]:
        return [self._state(o) for o in self._open.values() if symbol is None or o.symbol == symbol]

    async def fetch_order(self, order: Order) -> VenueOrderState | None:
        o = self._open.get(order.client_order_id) or self._closed.get(order.client_order_id)
        return self._state(o) if o is not None else None

    async def fetch_my_trades(self, symbol: str | None, since_ms: int | None) -> list[Fill]:
        return [
            f
            for f in self._fills
            if (symbol is None or f.symbol == symbol) and (since_ms is None or f.ts_ms >= since_ms)
        ]

    async def fetch_balances(self) -> dict[str, Balance]:
        return {a: Balance(a, f, lk) for a, (f, lk) in self._balances.items()}

    @staticmethod
    def _state(o: PaperOrder) -> VenueOrderState:
        status = o.status
        if status is OrderStatus.NEW and o.filled > 0:
            status = OrderStatus.PARTIALLY_FILLED
        return VenueOrderState(o.client_order_id, o.venue_order_id, o.symbol, status, o.filled)

    # -- matching internals --------------------------------------------------------------------
    def _reservation(self, o: PaperOrder, inst: Instrument, book: BookSnapshot | None) -> tuple[str, Decimal]:
        if o.side is Side.SELL:
            return inst.base, o.quantity
        if o.type.has_limit_price:
            px = o.price
        elif o.type is OrderType.MARKET:
            px = self._walk_cost(o, book) / o.quantity if book else None
        elif o.stop_price is not None:
            px = o.stop_price * STOP_BUY_RESERVE
        else:
            px = None
        assert px is not None
        rate = max(inst.taker_fee, inst.maker_fee)
        return inst.quote, (o.quantity * px * (1 + rate)).quantize(FEE_QUANT, ROUND_HALF_UP)

    def _levels(self, o: PaperOrder, book: BookSnapshot | None) -> list[tuple[Decimal, Decimal]]:
        """Opposite-side levels usable by ``o``: (price, quantity left after earlier paper fills)."""
        if book is None:
            return []
        levels = book.asks if o.side is Side.BUY else book.bids
        taken = self._taken.get(o.symbol, {})
        opp = o.side.opposite
        out = []
        for lvl in levels:
            if o.acts_as_limit and o.price is not None and (
                (o.side is Side.BUY and lvl.price > o.price) or (o.side is Side.SELL and lvl.price < o.price)
            ):
                break
            q = lvl.quantity - taken.get((opp, lvl.price), ZERO)
            if q > 0:
                out.append((lvl.price, q))
        return out

    def _walk_cost(self, o: PaperOrder, book: BookSnapshot | None) -> Decimal:
        left, cost, last_px = o.remaining, ZERO, ZERO
        for px, q in self._levels(o, book):
            take = min(left, q)
            cost += take * px
            left -= take
            last_px = px
            if left == 0:
                break
        return cost + left * last_px

    def _available(self, o: PaperOrder, book: BookSnapshot | None) -> Decimal:
        return sum((q for _, q in self._levels(o, book)), ZERO)

    def _crosses(self, o: PaperOrder, book: BookSnapshot | None) -> bool:
        if book is None or o.price is None:
            return False
        if o.side is Side.BUY:
            return book.best_ask is not None and o.price >= book.best_ask
        return book.best_bid is not None and o.price <= book.best_bid

    def _execute(self, o: PaperOrder, inst: Instrument, step: _Step) -> None:
        """Take liquidity from the book now (market orders, marketable limits); rest or expire."""
        book = self._books.get(o.symbol)
        taken = self._taken.setdefault(o.symbol, {})
        opp = o.side.opposite
        for px, q in self._levels(o, book):
            qty = min(o.remaining, q)
            if not self._fill(o, inst, qty, px, LiquiditySide.TAKER, step):
                break
            taken[(opp, px)] = taken.get((opp, px), ZERO) + qty
            if o.remaining == 0:
                return
        if o.status.is_final:
            return
        if not o.acts_as_limit or o.tif is not TimeInForce.GTC:
            why = "not enough liquidity in the book" if not o.acts_as_limit else "immediate-or-cancel remainder"
            self._finish(o, OrderStatus.EXPIRED, step, why)
            return
        # Rests: the queue ahead is what the book already shows at our price.
        o.queue_ahead = ZERO
        if book is not None and o.price is not None:
            same = book.bids if o.side is Side.BUY else book.asks
            for lvl in same:
                if lvl.price == o.price:
                    o.queue_ahead = lvl.quantity
                    break
        self._index(o)
        step.orders[o.client_order_id] = o

    def _fill(self, o: PaperOrder, inst: Instrument, qty: Decimal, px: Decimal, liq: LiquiditySide, step: _Step) -> bool:
        """Book one fill; False (nothing booked) when the account cannot pay for it."""
        qty = inst.round_qty(qty)
        if qty <= 0:
            return False
        rate = inst.maker_fee if liq is LiquiditySide.MAKER else inst.taker_fee
        notional = qty * px
        fee = (notional * rate).quantize(FEE_QUANT, ROUND_HALF_UP)
        base = self._balances.setdefault(inst.base, [ZERO, ZERO])
        quote = self._balances.setdefault(inst.quote, [ZERO, ZERO])
        if o.side is Side.BUY:
            cost = notional + fee
            from_locked = min(cost, o.reserved)
            if cost - from_locked > quote[0]:
                return False
            o.reserved -= from_locked
            quote[1] -= from_locked
            quote[0] -= cost - from_locked
            base[0] += qty
        else:
            o.reserved -= qty
            base[1] -= qty
            quote[0] += notional - fee
        o.filled += qty
        self._seq += 1
        fill = Fill(
            trade_id=f"{self.name}-{self._seq}",
            client_order_id=o.client_order_id,
            venue_order_id=o.venue_order_id,
            venue=self.name,
            symbol=o.symbol,
            side=o.side,
            quantity=qty,
            price=px,
            fee=fee,
            fee_asset=inst.quote,
            liquidity=liq,
            ts_ms=self._now(),
        )
        step.assets.update((inst.base, inst.quote))
        step.fills.append(fill)
        step.orders[o.client_order_id] = o
        full = o.remaining == 0
        step.reports.append(self._report(o, OrderEvent.FILL if full else OrderEvent.PARTIAL_FILL, fill))
        if full:
            self._finish(o, OrderStatus.FILLED, step, report=False)
        return True

    def _finish(self, o: PaperOrder, status: OrderStatus, step: _Step, reason: str = "", report: bool = True) -> None:
        """Close an order and release what it still reserves."""
        if o.reserved and o.reserve_asset:
            bal = self._balances[o.reserve_asset]
            bal[0] += o.reserved
            bal[1] -= o.reserved
            step.assets.add(o.reserve_asset)
            o.reserved = ZERO
        o.status = status
        step.orders[o.client_order_id] = o
        if report and status is OrderStatus.EXPIRED:
            step.reports.append(self._report(o, OrderEvent.EXPIRED, reason=reason))
        if status.is_final:
            self._unindex(o)

    def _check_triggers(self, symbol: str, last: Decimal, step: _Step) -> None:
        fired: list[PaperOrder] = []
        rising = self._rising.get(symbol)
        while rising and rising[0].stop_price <= last:  # type: ignore[operator]
            fired.append(rising.pop(0))
        falling = self._falling.get(symbol)
        while falling and falling[0].stop_price >= last:  # type: ignore[operator]
            fired.append(falling.pop(0))
        for o in fired:
            o.indexed = ""
            if o.status.is_final:
                continue
            o.triggered = True
            step.orders[o.client_order_id] = o
            step.reports.append(self._report(o, OrderEvent.TRIGGERED))
            self._execute(o, self.instruments[o.symbol], step)

    def _fill_resting(self, trade: Trade, step: _Step) -> None:
        sides = self._resting.get(trade.symbol)
        if not sides:
            return
        inst = self.instruments.get(trade.symbol)
        if inst is None:
            return
        volume = trade.quantity
        # Buys priced at or above the trade, sells at or below it, best price (then oldest) first.
        candidates: list[PaperOrder] = []
        for o in sides[Side.BUY]:
            if o.price < trade.price:  # type: ignore[operator]
                break
            candidates.append(o)
        for o in sides[Side.SELL]:
            if o.price > trade.price:  # type: ignore[operator]
                break
            candidates.append(o)
        for o in candidates:
            if volume <= 0:
                break
            assert o.price is not None
            if o.side is Side.BUY:
                through, at = trade.price < o.price, trade.price == o.price and trade.taker_side is Side.SELL
            else:
                through, at = trade.price > o.price, trade.price == o.price and trade.taker_side is Side.BUY
            if not (through or at):
                continue
            avail = volume
            if at and not through:
                ahead = min(o.queue_ahead, avail)
                o.queue_ahead -= ahead
                avail -= ahead
                step.orders[o.client_order_id] = o
            qty = min(o.remaining, avail)
            if qty > 0 and self._fill(o, inst, qty, o.price, LiquiditySide.MAKER, step):
                volume -= qty
