"""Paper exchange: a ``Venue`` that simulates an exchange account on the market data it is fed.

Rules (what a user can rely on):
- It trades on the trades and books of its source (``data_venue``, the source's name, is the
  venue those events carry), one symbol independently of another.
- Market orders walk the order book level by level (partial fills, real slippage); liquidity a
  paper order took stays taken until the next book snapshot. What the book cannot fill expires.
- Limit orders that cross the book on arrival take liquidity (taker fee) unless post-only, which
  is then rejected. The rest rests with a queue position equal to the book quantity already at its
  price. A resting order fills when the market trades *through* its price, or at its price once
  the queue ahead of it has traded; never more than the traded volume (partial fills). A book
  snapshot that shows the other side at or through its price fills it too (the market moved
  through it between trades), up to the quantity shown there. Maker fee. IOC remainders expire;
  a FOK order the book cannot fill whole at once expires untouched.
- Stop and take-profit orders trigger on the last trade price, then behave as market or limit.
- Balances are checked and reserved on placement; an order the account cannot pay for (fees
  included) is rejected. Fees are the instrument's maker or taker rate, charged in the quote
  currency and rounded half-up to 1e-8.
- On bars (backtests), each bar is replayed as four trades along the path
  open → low → high → close for a rising bar (close ≥ open) and open → high → low → close for a
  falling one, each with a quarter of the bar's volume, with a one-tick book around each price.
- Its state (balances, orders, fills) survives a crash of the app through its journal.

Matching is ``MatchingCore`` (one per symbol, synchronous), money is the ``Ledger``; this module
is the async front: validation, ids, reports, the journal.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from app.domain.enums import OrderEvent, OrderStatus, OrderType, Side, TimeInForce
from app.domain.execution import Balance, ExecutionReport, VenueOrderState
from app.domain.instrument import Instrument
from app.domain.market import Bar, BookSnapshot, Trade
from app.domain.money import fmt
from app.domain.order import Fill, Order, trigger_problems, validate_request

from ..base import Capabilities, MarketData, ReportHandler
from .events import Expired, FillEvent, MatchEvent, Rejected, Triggered
from .fees import DEFAULT_TICK, FeeModel, bar_path
from .journal import PaperJournal, fill_from_json, fill_to_json, order_from_json, order_to_json
from .ledger import Ledger, reservation
from .matching import MatchingCore
from .order import PaperOrder

KEEP_CLOSED = 20_000


class _Step:
    """The changes of one matching step, written to the journal as one line."""

    __slots__ = ("fills", "orders", "reports")

    def __init__(self) -> None:
        self.orders: dict[str, PaperOrder] = {}
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
        self._fees = FeeModel()
        self._ledger = Ledger()
        self._cores: dict[str, MatchingCore] = {}
        self._open: dict[str, PaperOrder] = {}  # client id -> order
        self._closed: dict[str, PaperOrder] = {}
        self._fills: list[Fill] = []
        self._seq = 0
        self._now_ms = 0
        self._journal = PaperJournal(journal_path, fsync=fsync) if journal_path is not None else None
        if self._journal is not None:
            self._restore(self._journal)
        if self._ledger.empty and initial_balances:
            for asset, amount in initial_balances.items():
                self._ledger.deposit(asset, amount)
            self._commit(_Step())

    @property
    def data_venue(self) -> str:
        """The name of the market-data source whose trades and books this venue matches on."""
        return self.source.name

    def _core(self, symbol: str) -> MatchingCore:
        core = self._cores.get(symbol)
        if core is None:
            core = self._cores[symbol] = MatchingCore(
                symbol, self.instruments.get(symbol), account=self._ledger, fees=self._fees
            )
        return core

    # -- persistence ---------------------------------------------------------------------------
    def _restore(self, journal: PaperJournal) -> None:
        for rec in journal.replay():
            self._seq = max(self._seq, rec.get("seq", 0))
            for asset, (free, locked) in rec.get("b", {}).items():
                self._ledger.load(asset, Decimal(free), Decimal(locked))
            for d in rec.get("o", []):
                self._place_in_maps(order_from_json(d))
            for d in rec.get("f", []):
                self._fills.append(fill_from_json(self.name, d))
        journal.rewrite(self._snapshot())

    def _snapshot(self) -> dict[str, Any]:
        closed = list(self._closed.values())[-KEEP_CLOSED:]
        return {
            "seq": self._seq,
            "b": self._ledger.to_json(),
            "o": [order_to_json(o) for o in closed] + [order_to_json(o) for o in self._open.values()],
            "f": [fill_to_json(f) for f in self._fills[-KEEP_CLOSED:]],
        }

    def _place_in_maps(self, o: PaperOrder) -> None:
        old = self._open.pop(o.client_order_id, None)
        if old is not None:
            self._core(old.symbol).remove(old)
        if o.status.is_final:
            self._closed[o.client_order_id] = o
            if len(self._closed) > 2 * KEEP_CLOSED:
                for key in list(self._closed)[:KEEP_CLOSED]:
                    del self._closed[key]
        else:
            self._open[o.client_order_id] = o
            self._core(o.symbol).add(o)

    def _absorb(self, events: list[MatchEvent], step: _Step) -> None:
        """Turn what the matching core did into fills and reports of this venue."""
        for e in events:
            o = e.order
            step.orders[o.client_order_id] = o
            if isinstance(e, FillEvent):
                self._seq += 1
                fill = Fill(
                    trade_id=f"{self.name}-{self._seq}",
                    client_order_id=o.client_order_id,
                    venue_order_id=o.venue_order_id,
                    venue=self.name,
                    symbol=o.symbol,
                    side=o.side,
                    quantity=e.quantity,
                    price=e.price,
                    fee=e.fee,
                    fee_asset=e.fee_asset,
                    liquidity=e.liquidity,
                    ts_ms=self._now(),
                )
                step.fills.append(fill)
                step.reports.append(self._report(o, OrderEvent.FILL if e.done else OrderEvent.PARTIAL_FILL, fill))
            elif isinstance(e, Triggered):
                step.reports.append(self._report(o, OrderEvent.TRIGGERED))
            elif isinstance(e, Expired):
                step.reports.append(self._report(o, OrderEvent.EXPIRED, reason=e.reason))
            elif isinstance(e, Rejected):
                step.reports.append(self._report(o, OrderEvent.REJECTED, reason=e.reason))

    def _commit(self, step: _Step) -> None:
        """Persist a step (one journal line), then tell the order manager."""
        assets = self._ledger.take_changed()
        if self._journal is not None and (step.orders or assets or step.fills):
            rec: dict[str, Any] = {"seq": self._seq}
            if step.orders:
                rec["o"] = [order_to_json(o) for o in step.orders.values()]
            if assets:
                rec["b"] = self._ledger.to_json(assets)
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

    def _matched(self, events: list[MatchEvent]) -> None:
        step = _Step()
        self._absorb(events, step)
        self._commit(step)

    # -- market data (pass-through, matching on the way) -----------------------------------------
    async def load_markets(self) -> dict[str, Instrument]:
        markets = await self.source.load_markets()
        # The source's instruments under this venue's name: an order here is not an order there.
        self.instruments = {sym: replace(inst, venue=self.name) for sym, inst in markets.items()}
        for sym, core in self._cores.items():
            core.instrument = self.instruments.get(sym)
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
        core = self._cores.get(symbol)
        return core.last if core is not None else None

    def book(self, symbol: str) -> BookSnapshot | None:
        core = self._cores.get(symbol)
        return core.book if core is not None else None

    def _now(self) -> int:
        return self._now_ms or int(time.time() * 1000)

    def on_book(self, book: BookSnapshot) -> None:
        if book.ts_ms > self._now_ms:
            self._now_ms = book.ts_ms
        core = self._cores.get(book.symbol) or self._core(book.symbol)
        events = core.on_book(book)
        if events:
            self._matched(events)

    def on_trade(self, trade: Trade) -> None:
        if trade.ts_ms > self._now_ms:
            self._now_ms = trade.ts_ms
        core = self._cores.get(trade.symbol) or self._core(trade.symbol)
        events = core.on_trade(trade)
        if events:
            self._matched(events)

    def on_bar(self, bar: Bar) -> None:
        """Replay a bar as books and trades along the intra-bar path (see the module docstring)."""
        inst = self.instruments.get(bar.symbol)
        for ev in bar_path(bar, inst.tick_size if inst is not None else DEFAULT_TICK):
            if isinstance(ev, BookSnapshot):
                self.on_book(ev)
            else:
                self.on_trade(ev)

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
        core = self._core(order.symbol)
        req = order.to_request()
        problems = validate_request(req, inst, None) + trigger_problems(req, core.last)
        if problems:
            return self._reject(order, problems[0].message)
        book = core.book
        if order.type is OrderType.MARKET and (
            book is None or not (book.asks if order.side is Side.BUY else book.bids)
        ):
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
        # Post-only and fill-or-kill are settled before any money is reserved, as an exchange
        # would: a refused order takes no id (``core.submit`` would refuse them the same way).
        if o.post_only and core.crosses(o):
            return self._reject(order, "post-only order would take liquidity")
        step = _Step()
        if o.tif is TimeInForce.FOK and core.available(o) < o.quantity:
            self._seq += 1
            o.venue_order_id = str(self._seq)
            o.status = OrderStatus.EXPIRED
            step.orders[o.client_order_id] = o
            self._closed[o.client_order_id] = o
            self._commit(step)
            return self._report(o, OrderEvent.EXPIRED, reason="fill-or-kill: not enough liquidity")
        market_price = None
        if o.type is OrderType.MARKET and o.side is Side.BUY and book is not None:
            market_price = core.walk_cost(o) / o.quantity
        need_asset, need = reservation(o, inst, self._fees, market_price)
        free = self._ledger.free(need_asset)
        if free < need:
            return self._reject(
                order, f"insufficient balance: {fmt(need)} {need_asset} needed, {fmt(free)} {need_asset} free"
            )
        self._seq += 1
        o.venue_order_id = str(self._seq)
        self._ledger.reserve(o, need_asset, need)
        step.orders[o.client_order_id] = o
        ack = self._report(o, OrderEvent.ACCEPTED)
        step.reports.append(ack)
        self._open[o.client_order_id] = o
        self._absorb(core.submit(o), step)
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
        self._core(o.symbol).cancel(o)
        step = _Step()
        step.orders[o.client_order_id] = o
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
        return self._ledger.balances()

    @staticmethod
    def _state(o: PaperOrder) -> VenueOrderState:
        status = o.status
        if status is OrderStatus.NEW and o.filled > 0:
            status = OrderStatus.PARTIALLY_FILLED
        return VenueOrderState(o.client_order_id, o.venue_order_id, o.symbol, status, o.filled)
