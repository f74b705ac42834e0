"""What every loopback exchange but Binance keeps behind its wire format: an account (the paper
``Ledger``, fees in the quote currency), one market per symbol (the book other traders make,
trades, candles) and the paper ``MatchingCore`` working the orders. Each exchange's server turns
requests into ``place`` / ``cancel`` and the core's ``events`` into its own messages."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from app.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from app.domain.instrument import Instrument
from app.domain.money import ZERO, is_multiple
from app.venues.paper import Expired, FeeModel, FillEvent, Ledger, MatchingCore, PaperOrder, Rejected, reservation

from .binance.book import SymbolMarket, s8

D = Decimal

__all__ = ["CoreError", "CoreFill", "CoreOrder", "ExchangeCore", "s8"]


class CoreError(Exception):
    """``kind``: insufficient, invalid, tick, min_total, duplicate, would_take, not_found, not_open."""

    def __init__(self, kind: str, msg: str) -> None:
        super().__init__(msg)
        self.kind, self.msg = kind, msg


@dataclass(eq=False)
class CoreFill:
    trade_id: str
    qty: Decimal
    price: Decimal
    fee: Decimal
    fee_asset: str
    maker: bool
    ts: int
    seq: int = 0  # the trade's number at this exchange: the order of fills within one millisecond


@dataclass(eq=False)
class CoreOrder:
    po: PaperOrder
    id: str  # the exchange's order id
    symbol: str  # unified
    kind: str  # the exchange's own type name
    created: int
    updated: int = 0
    fills: list[CoreFill] = field(default_factory=list)
    quote_filled: Decimal = ZERO
    fees: Decimal = ZERO
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def client_id(self) -> str:
        return self.po.client_order_id

    @property
    def is_open(self) -> bool:
        return self.po.status.is_open

    @property
    def status(self) -> OrderStatus:
        return self.po.status

    @property
    def avg_price(self) -> Decimal:
        return self.quote_filled / self.po.filled if self.po.filled else D(0)


# The listener of order changes: (order, what happened, the fill when it is a fill).
# What: "new", "fill", "cancel", "expire", "reject".
OrderListener = Callable[[CoreOrder, str, CoreFill | None], None]


class ExchangeCore:
    def __init__(
        self,
        instruments: dict[str, Instrument],
        *,
        balances: dict[str, str],
        new_id: Callable[[], str],
        trade_id: Callable[[str, int], str] | None = None,
        min_total: Callable[[Instrument], Decimal] | None = None,
        tick: Callable[[Instrument, Decimal], Decimal] | None = None,
        clock: Callable[[], int] | None = None,
    ) -> None:
        self.instruments = instruments
        self._new_id = new_id
        self._trade_id = trade_id or (lambda symbol, n: str(n))
        self._min_total = min_total or (lambda inst: inst.min_notional)
        self._tick = tick or (lambda inst, price: inst.tick_size)
        self._clock = clock or (lambda: int(time.time() * 1000))
        self.on_order: list[OrderListener] = []
        self.on_balances: list[Callable[[set[str]], None]] = []
        self.on_trade: list[Callable[[str, dict[str, Any]], None]] = []
        self.on_book: list[Callable[[str], None]] = []
        self.reset(balances)

    def reset(self, balances: dict[str, str]) -> None:
        self.ledger = Ledger()
        for asset, amount in balances.items():
            self.ledger.deposit(asset, D(amount))
        self.ledger.take_changed()
        self.markets = {s: SymbolMarket(s, s) for s in self.instruments}
        self.cores = {s: MatchingCore(s, i, account=self.ledger, fees=FeeModel()) for s, i in self.instruments.items()}
        self.orders: dict[str, CoreOrder] = {}
        self.by_po: dict[int, CoreOrder] = {}
        self.by_client: dict[str, CoreOrder] = {}
        self.placed = 0
        self._trades = itertools.count(1)

    def now_ms(self) -> int:
        return self._clock()

    # -- orders --------------------------------------------------------------------------------------
    def tick_at(self, symbol: str, price: Decimal) -> Decimal:
        return self._tick(self.instruments[symbol], price)

    def place(
        self,
        symbol: str,
        side: Side,
        type_: OrderType,
        qty: Decimal,
        *,
        price: Decimal | None = None,
        stop: Decimal | None = None,
        tif: TimeInForce = TimeInForce.GTC,
        post_only: bool = False,
        client_id: str | None = None,
        kind: str = "",
        extra: dict[str, Any] | None = None,
        reject_crossing: bool = True,
    ) -> CoreOrder:
        """A new order (``reject_crossing=False``: a post-only order that would take is accepted,
        then ended by the matching core, as exchanges that cancel it do)."""
        inst, market, core = self.instruments[symbol], self.markets[symbol], self.cores[symbol]
        if client_id and client_id in self.by_client:
            raise CoreError("duplicate", f"an order with client id {client_id} exists")
        for p in (price, stop):
            if p is not None and (p <= 0 or not is_multiple(p, self.tick_at(symbol, p))):
                raise CoreError("tick", f"price {p} is not a multiple of {self.tick_at(symbol, p)}")
        if qty <= 0 or not is_multiple(qty, inst.lot_step) or qty < inst.min_qty:
            raise CoreError("invalid", f"volume {qty} does not fit the lot step {inst.lot_step}")
        ref = price if price is not None else (stop if stop is not None else market.last)
        if ref is None:
            best = market.best()[1 if side is Side.BUY else 0]
            ref = best[0] if best else None
        if ref is not None and qty * ref < self._min_total(inst):
            raise CoreError("min_total", f"order total {qty * ref} is below the minimum {self._min_total(inst)}")
        now = self.now_ms()
        oid = self._new_id()
        po = PaperOrder(
            client_id or oid,
            oid,
            symbol,
            side,
            type_,
            qty,
            price if type_.has_limit_price else None,
            stop,
            tif,
            post_only,
            now,
        )
        if post_only and reject_crossing and core.crosses(po):
            raise CoreError("would_take", "post-only order would take liquidity")
        market_price = None
        if type_ is OrderType.MARKET and side is Side.BUY:
            book = core.book
            market_price = core.walk_cost(po) / qty if book is not None and book.asks else (market.last or D(0))
        asset, amount = reservation(po, inst, core.fees, market_price)
        if not self.ledger.reserve(po, asset, amount):
            raise CoreError("insufficient", f"insufficient {asset}: {amount} needed")
        o = CoreOrder(po, oid, symbol, kind or type_.value, now, now, extra=dict(extra or {}))
        self.orders[oid] = o
        self.by_po[id(po)] = o
        if client_id:
            self.by_client[client_id] = o
        self.placed += 1
        self._tell(o, "new", None)
        self._absorb(symbol, core.submit(po), now)
        self._balances()
        return o

    def cancel(self, o: CoreOrder) -> None:
        if not o.is_open:
            raise CoreError("not_open", f"order {o.id} is {o.status.value}")
        self.cores[o.symbol].cancel(o.po)
        o.updated = self.now_ms()
        self._tell(o, "cancel", None)
        self._balances()

    def find(self, order_id: str | None = None, client_id: str | None = None) -> CoreOrder:
        o = self.orders.get(order_id or "") if order_id else self.by_client.get(client_id or "")
        if o is None:
            raise CoreError("not_found", "order not found")
        return o

    def _tell(self, o: CoreOrder, what: str, fill: CoreFill | None) -> None:
        for listener in self.on_order:
            listener(o, what, fill)

    def _balances(self) -> None:
        changed = self.ledger.take_changed()
        if changed:
            for listener in self.on_balances:
                listener(changed)

    def _absorb(self, symbol: str, events: list[Any], now: int) -> None:
        for e in events:
            o = self.by_po.get(id(e.order))
            if o is None:
                continue
            o.updated = now
            if isinstance(e, FillEvent):
                n = next(self._trades)
                f = CoreFill(
                    self._trade_id(symbol, n),
                    e.quantity,
                    e.price,
                    e.fee,
                    e.fee_asset,
                    e.liquidity.value == "maker",
                    now,
                    n,
                )
                o.fills.append(f)
                o.quote_filled += e.quantity * e.price
                o.fees += e.fee
                self._tell(o, "fill", f)
            elif isinstance(e, Expired):
                self._tell(o, "expire", None)
            elif isinstance(e, Rejected):
                self._tell(o, "reject", None)

    # -- the market ------------------------------------------------------------------------------------
    def set_book(self, symbol: str, bids: list[tuple[Any, Any]], asks: list[tuple[Any, Any]]) -> None:
        m = self.markets[symbol]
        m.bids = {D(str(p)): D(str(q)) for p, q in bids if D(str(q)) > 0}
        m.asks = {D(str(p)): D(str(q)) for p, q in asks if D(str(q)) > 0}
        m.update_id += 1
        now = self.now_ms()
        for listener in self.on_book:
            listener(symbol)
        self._absorb(symbol, self.cores[symbol].on_book(m.domain_book("loopback", now)), now)
        self._balances()

    def book_around(
        self, symbol: str, mid: Any, *, spread: Any = "1", levels: int = 10, qty: Any = "1", step: Any = "1"
    ) -> None:
        m, s, st, q = D(str(mid)), D(str(spread)), D(str(step)), D(str(qty))
        self.set_book(
            symbol, [(m - s / 2 - i * st, q) for i in range(levels)], [(m + s / 2 + i * st, q) for i in range(levels)]
        )

    def trade(self, symbol: str, price: Any, qty: Any = "1", taker: str = "buy") -> None:
        m = self.markets[symbol]
        now = self.now_ms()
        _event, domain_trade = m.trade(D(str(price)), D(str(qty)), Side(taker), now)
        rec = m.trades[-1]
        for listener in self.on_trade:
            listener(symbol, rec)
        self._absorb(symbol, self.cores[symbol].on_trade(domain_trade), now)
        self._balances()

    def seed_klines(self, symbol: str, interval: str, rows: list[tuple[int, Any, Any, Any, Any, Any]]) -> None:
        from .binance.book import Kline

        self.markets[symbol].klines[interval] = [
            Kline(t, D(str(o)), D(str(h)), D(str(lo)), D(str(c)), D(str(v))) for t, o, h, lo, c, v in rows
        ]
