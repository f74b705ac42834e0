"""Trading on a ccxt exchange: the ``Venue`` protocol over ccxt's async REST client, native OCO
where the exchange has it, and the account stream (ccxt.pro ``watch_orders`` / ``watch_balance``)
turned into execution reports and balances.

- ``place`` answers ACCEPTED (or the order's end when it ended at once unfilled); fills and later
  changes come on the account stream, each trade once. A send the exchange answers with "duplicate
  client order id" had landed before: it is looked up and acknowledged, never sent again.
- ``fetch_order`` finds an order by its client order id (what a timed-out send is resolved by).
- ``cancel`` of an order that is no longer open says how it ended: a filled one is CANCEL_REJECTED.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import replace
from decimal import Decimal
from typing import Any

from app.domain.enums import OrderEvent, OrderStatus, OrderType, Side
from app.domain.errors import InsufficientBalance, OrderNotFound, OrderRejected, VenueError
from app.domain.execution import Balance, ExecutionReport, VenueOrderState
from app.domain.money import ZERO, fmt
from app.domain.order import Fill, Order

from ..base import Capabilities, ReportHandler
from . import convert
from .account_stream import _FINAL_EVENTS, AccountStream, _reason
from .client import make_exchange
from .errors import BadAnswer, DuplicateClientOrderId
from .market_data import CcxtMarketData
from .profile import ExchangeProfile

TRADES_PAGE = 500  # Binance's default and ccxt's: more than this since a time comes in further pages
_STATE_EVENT = {
    OrderStatus.CANCELLED: OrderEvent.CANCELLED,
    OrderStatus.EXPIRED: OrderEvent.EXPIRED,
    OrderStatus.REJECTED: OrderEvent.REJECTED,
}


class CcxtVenue(AccountStream, CcxtMarketData):
    """A ``Venue`` (and ``AccountStream``, ``NativeOco`` where the profile says so) on one
    exchange account. ``symbols``: markets the account trades, asked for fills after a restart on
    exchanges whose trade history needs a symbol (each market traded here is added as it goes)."""

    def __init__(
        self,
        profile: ExchangeProfile,
        *,
        api_key: str | None = None,
        secret: str | None = None,
        exchange: Any = None,
        base_url: str | None = None,
        name: str | None = None,
        symbols: tuple[str, ...] | list[str] = (),
        config: dict[str, Any] | None = None,
    ) -> None:
        if exchange is None:
            exchange = make_exchange(profile, api_key=api_key, secret=secret, base_url=base_url, config=config)
        super().__init__(profile, exchange=exchange, name=name)
        self.capabilities: Capabilities = profile.capabilities
        self._handler: ReportHandler | None = None
        self._symbols: set[str] = set(symbols)
        self._client_ids: dict[tuple[str, str], str] = {}  # (symbol, venue order id) -> client order id
        self._by_vid: dict[str, tuple[str, str]] = {}  # venue order id -> (symbol, client order id)
        self._filled: dict[str, Decimal] = {}  # venue order id -> quantity whose fills were read (fills_by_rest)
        self._short: dict[str, tuple[dict[str, Any], int]] = {}  # orders with fills not listed yet: (update, looks)
        self._seen_trades: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._acked: set[str] = set()
        self._ended: set[str] = set()
        self._balances: dict[str, Balance] | None = None
        self._subscribed_once = False

    @property
    def data_venue(self) -> str:
        return self.name

    def set_report_handler(self, handler: ReportHandler) -> None:
        self._handler = handler

    def _emit(self, report: ExecutionReport) -> None:
        if self._handler is not None:
            self._handler(report)

    def _now(self) -> int:
        return int(time.time() * 1000)

    def _report(
        self, order: Order, event: OrderEvent, venue_order_id: str | None = None, reason: str = ""
    ) -> ExecutionReport:
        return ExecutionReport(
            self.name, order.client_order_id, event, self._now(), venue_order_id=venue_order_id, reason=reason
        )

    def _learn(self, symbol: str, venue_order_id: str | None, client_order_id: str | None) -> None:
        self._symbols.add(symbol)
        if venue_order_id and client_order_id:
            self._client_ids[(symbol, str(venue_order_id))] = client_order_id
            self._by_vid[str(venue_order_id)] = (symbol, client_order_id)

    # -- orders --------------------------------------------------------------------------------------
    async def place(self, order: Order) -> ExecutionReport:
        ex = self.exchange
        try:
            if order.type is OrderType.MARKET and order.side is Side.BUY and self.profile.market_buy_cap is not None:
                args = self.profile.capped_market_buy(order, await self._best_ask(order.symbol))
            else:
                args = self.profile.order_args(order)
        except OrderRejected as exc:
            return self._report(order, OrderEvent.REJECTED, reason=exc.message)
        self._symbols.add(order.symbol)
        try:
            o = await self.client.call(
                lambda: ex.create_order(order.symbol, args.type, args.side, args.amount, args.price, dict(args.params))
            )
        except DuplicateClientOrderId:
            return await self._landed(order)
        except (OrderRejected, InsufficientBalance) as exc:
            return self._report(order, OrderEvent.REJECTED, reason=exc.message)
        if not isinstance(o, dict) or not o.get("id"):
            raise BadAnswer(detail="the order's answer has no order id")
        vid = str(o["id"])
        self._learn(order.symbol, vid, order.client_order_id)
        status = o.get("status")
        if status in _FINAL_EVENTS and not convert.dec(o.get("filled") or 0):
            self._ended.add(order.client_order_id)
            return self._report(order, _FINAL_EVENTS[status], vid, _reason(o))
        self._acked.add(order.client_order_id)
        return self._report(order, OrderEvent.ACCEPTED, vid)

    async def _best_ask(self, symbol: str) -> Decimal:
        ex = self.exchange
        ob = await self.client.call(lambda: ex.fetch_order_book(symbol))
        asks = ob.get("asks") or []
        if not asks:
            raise OrderRejected(detail=f"no asks in the {symbol} book to price a market buy")
        return convert.level(asks[0][0])

    async def _landed(self, order: Order) -> ExecutionReport:
        st = await self.fetch_order(order)
        if st is None:
            raise VenueError(detail=f"the exchange calls {order.client_order_id} a duplicate but does not show it")
        self._acked.add(order.client_order_id)
        return self._report(
            order, OrderEvent.ACCEPTED, st.venue_order_id, "duplicate client order id: the first send had landed"
        )

    async def place_oco(self, limit: Order, stop: Order) -> tuple[ExecutionReport, ExecutionReport]:
        """Both legs as one exchange order list; each leg's later changes come on the account stream."""
        if not self.capabilities.native_oco:
            raise OrderRejected(detail=f"{self.name} has no native OCO")
        ex, symbol = self.exchange, limit.symbol
        await self._ensure_markets()
        market = ex.market(symbol)
        method, params = self.profile.oco_call(
            limit,
            stop,
            market,
            fmt_price=lambda d: ex.price_to_precision(symbol, fmt(d)),
            fmt_amount=lambda d: ex.amount_to_precision(symbol, fmt(d)),
        )
        self._symbols.add(symbol)
        try:
            response = await self.client.call(lambda: getattr(ex, method)(params))
        except DuplicateClientOrderId:
            return await self._landed(limit), await self._landed(stop)
        except (OrderRejected, InsufficientBalance) as exc:
            return (
                self._report(limit, OrderEvent.REJECTED, reason=exc.message),
                self._report(stop, OrderEvent.REJECTED, reason=exc.message),
            )
        legs = self.profile.oco_reports(response)
        out = []
        for leg in (limit, stop):
            found = legs.get(leg.client_order_id)
            if found is None:
                raise BadAnswer(detail=f"the OCO answer does not list leg {leg.client_order_id}")
            self._learn(symbol, found[0], leg.client_order_id)
            self._acked.add(leg.client_order_id)
            out.append(self._report(leg, OrderEvent.ACCEPTED, found[0]))
        return out[0], out[1]

    async def cancel(self, order: Order) -> ExecutionReport:
        ex, p = self.exchange, self.profile
        try:
            o = await self.client.call(
                lambda: p.cancel_call(ex, order.venue_order_id, order.symbol, order.client_order_id)
            )
        except OrderNotFound:
            return await self._cancel_refused(order)
        vid = str(o.get("id") or order.venue_order_id or "") or None
        status = o.get("status") if isinstance(o, dict) else None
        if status == "open" and self.profile.cancel_answers_before:
            status = "canceled"
        if status in ("open", "closed"):  # the exchange kept it (filled meanwhile, or cancel not possible)
            return self._report(order, OrderEvent.CANCEL_REJECTED, vid, f"order is {status} at the exchange")
        self._ended.add(order.client_order_id)
        return self._report(order, OrderEvent.CANCELLED, vid, "cancelled")

    async def _cancel_refused(self, order: Order) -> ExecutionReport:
        """The exchange knows no open order to cancel: say how it ended."""
        st = await self.fetch_order(order)
        if st is None:
            raise OrderNotFound(order_id=order.client_order_id)
        if st.status in _STATE_EVENT:
            return self._report(order, _STATE_EVENT[st.status], st.venue_order_id, "already ended at the exchange")
        return self._report(order, OrderEvent.CANCEL_REJECTED, st.venue_order_id, f"order is already {st.status.value}")

    async def cancel_all(self, symbol: str) -> list[ExecutionReport]:
        """Every open order of ``symbol`` in one request (each one's end also comes on the stream)."""
        ex = self.exchange
        if not ex.has.get("cancelAllOrders"):  # one by one (each one's end also comes on the stream)
            return await self._cancel_each(symbol)
        orders = await self.client.call(lambda: ex.cancel_all_orders(symbol))
        out = []
        for o in orders or []:
            cid = o.get("clientOrderId") if isinstance(o, dict) else None
            if cid:
                out.append(
                    ExecutionReport(
                        self.name,
                        str(cid),
                        OrderEvent.CANCELLED,
                        self._now(),
                        venue_order_id=str(o.get("id") or "") or None,
                        reason="cancel all",
                    )
                )
        return out

    async def _cancel_each(self, symbol: str) -> list[ExecutionReport]:
        out = []
        ex, p = self.exchange, self.profile
        for st in await self.fetch_open_orders(symbol):
            if not st.client_order_id:
                continue
            try:
                await self.client.call(lambda s=st: p.cancel_call(ex, s.venue_order_id, symbol, s.client_order_id))  # type: ignore[misc]
            except OrderNotFound:
                continue
            out.append(
                ExecutionReport(
                    self.name,
                    st.client_order_id,
                    OrderEvent.CANCELLED,
                    self._now(),
                    venue_order_id=st.venue_order_id,
                    reason="cancel all",
                )
            )
        return out

    async def fetch_order(self, order: Order) -> VenueOrderState | None:
        ex, p = self.exchange, self.profile
        try:
            o = await self.client.call(lambda: p.lookup(ex, order.venue_order_id, order.symbol, order.client_order_id))
        except OrderNotFound:
            return None
        st = convert.order_state(o, order.symbol)
        if not st.client_order_id:
            st = VenueOrderState(order.client_order_id, st.venue_order_id, st.symbol, st.status, st.filled_qty)
        self._learn(order.symbol, st.venue_order_id, st.client_order_id)
        return st

    async def fetch_open_orders(self, symbol: str | None = None) -> list[VenueOrderState]:
        ex = self.exchange
        orders = await self.client.call(lambda: ex.fetch_open_orders(symbol))
        out = []
        for o in orders:
            st = convert.order_state(o)
            self._learn(st.symbol, st.venue_order_id, st.client_order_id)
            out.append(st)
        return out

    async def fetch_my_trades(self, symbol: str | None, since_ms: int | None) -> list[Fill]:
        ex = self.exchange
        symbols: list[str | None]
        if symbol is not None:
            symbols = [symbol]
        elif self.profile.trades_need_symbol:
            symbols = [*sorted(self._symbols)]
        else:
            symbols = [None]
        fills: dict[tuple[str, str], Fill] = {}
        if not ex.has.get("fetchMyTrades"):
            return await self._fills_from_orders(symbol, since_ms)
        for sym in symbols:
            since, until = since_ms, None
            while True:  # page by time: an answer holds at most TRADES_PAGE trades
                trades = await self._trades_page(sym, since, until)
                for t in trades:
                    f = await self._fill_of(t)
                    if f is not None:
                        fills[(f.symbol, f.trade_id)] = f
                if len(trades) < TRADES_PAGE or since_ms is None:
                    break
                stamps = [int(t.get("timestamp") or 0) for t in trades]
                if self.profile.trades_newest_first:  # (Coinbase) the next page ends where this one began
                    oldest = min(stamps)
                    if until is not None and oldest >= until:
                        break
                    until = oldest
                else:  # oldest first (Binance, Kraken): the next page starts where this one ended
                    last = max(stamps)
                    if since is not None and last <= since:
                        break
                    since = last
        return sorted(fills.values(), key=lambda f: f.ts_ms)

    async def _trades_page(self, symbol: str | None, since: int | None, until: int | None) -> list[dict[str, Any]]:
        ex = self.exchange
        params: dict[str, Any] = {} if until is None else {"until": until}
        return list(await self.client.call(lambda: ex.fetch_my_trades(symbol, since, TRADES_PAGE, params)))

    async def _fills_from_orders(self, symbol: str | None, since_ms: int | None) -> list[Fill]:
        """Exchanges without a trade history (Upbit): the trades inside each order that filled
        (ended since ``since_ms``, or still open), read one order at a time."""
        ex = self.exchange
        found: dict[str, dict[str, Any]] = {}
        calls = [lambda: ex.fetch_open_orders(symbol)]
        if ex.has.get("fetchClosedOrders"):
            calls.append(lambda: ex.fetch_closed_orders(symbol, since_ms))
        if ex.has.get("fetchCanceledOrders"):
            calls.append(lambda: ex.fetch_canceled_orders(symbol, since_ms))
        for fetch in calls:
            for o in await self.client.call(fetch):
                if convert.dec(o.get("filled") or 0) > 0:
                    found[str(o["id"])] = o
        fills: dict[tuple[str, str], Fill] = {}
        for vid, o in found.items():
            sym = str(o.get("symbol"))
            full = await self.client.call(lambda v=vid, s=sym: ex.fetch_order(v, s))  # type: ignore[misc]
            cid = str(full.get("clientOrderId") or "") or self._client_ids.get((sym, vid), "")
            if not cid:
                continue
            self._learn(sym, vid, cid)
            side = Side.SELL if full.get("side") == "sell" else Side.BUY
            made = _with_order_fee([self._make_fill(t, sym, side, cid, vid) for t in full.get("trades") or []], full)
            for f in made:
                if since_ms is None or f.ts_ms >= since_ms:
                    fills[(sym, f.trade_id)] = f
        return sorted(fills.values(), key=lambda f: f.ts_ms)

    async def _fill_of(self, t: dict[str, Any]) -> Fill | None:
        symbol, vid = str(t.get("symbol")), str(t.get("order") or "")
        cid = self._client_ids.get((symbol, vid))
        if cid is None and vid:
            ex = self.exchange
            try:
                o = await self.client.call(lambda: ex.fetch_order(vid, symbol))
                cid = str(o.get("clientOrderId") or "") or None
            except OrderNotFound:
                cid = None
            self._learn(symbol, vid, cid)
        if not cid:
            return None
        side = Side.SELL if t.get("side") == "sell" else Side.BUY
        return self._make_fill(t, symbol, side, cid, vid)

    def _make_fill(self, t: dict[str, Any], symbol: str, side: Side, cid: str, vid: str) -> Fill:
        exact = self.profile.fill_numbers(t)
        if exact is not None:
            tid, q, p, fee, asset, maker, ts = exact
            return convert.fill(
                self.name,
                symbol,
                side,
                cid,
                vid,
                tid,
                convert.dec(q),
                convert.dec(p),
                convert.dec(fee),
                asset,
                maker,
                ts or self._now(),
            )
        tid, qd, pd, feed, asset, maker, ts = convert.unified_fill_numbers(t)
        return convert.fill(self.name, symbol, side, cid, vid, tid, qd, pd, feed, asset, maker, ts or self._now())

    async def fetch_balances(self) -> dict[str, Balance]:
        ex = self.exchange
        b = await self.client.call(lambda: ex.fetch_balance())
        exact = self.profile.balance_numbers(b.get("info"))
        if exact is not None:
            out = {a: Balance(a, convert.dec(f), convert.dec(lk)) for a, (f, lk) in exact.items()}
        else:
            out = convert.balances(b)
        self._balances = {a: x for a, x in out.items() if x.total != ZERO}
        return dict(self._balances)

    async def _ensure_markets(self) -> None:
        if not self.exchange.markets:
            await self.client.call(lambda: self.exchange.load_markets())


FEE_PLACES = Decimal("1e-12")


def _with_order_fee(fills: list[Fill], order: dict[str, Any]) -> list[Fill]:
    """Trades read from inside an order that carry no fee of their own, while the order says what
    it paid (Upbit's ``paid_fee``): the order's fee shared by quantity, exactly (the last trade
    takes what rounding left), so the fills' fees add up to what the exchange charged."""
    fee = order.get("fee") or {}
    try:
        total = convert.dec(fee.get("cost") or 0)
    except VenueError:
        return fills
    qty = sum((f.quantity for f in fills), Decimal(0))
    if not fills or total <= 0 or qty <= 0 or any(f.fee for f in fills):
        return fills
    asset = str(fee.get("currency") or fills[0].fee_asset)
    out, given = [], Decimal(0)
    for i, f in enumerate(fills):
        share = total - given if i == len(fills) - 1 else (total * f.quantity / qty).quantize(FEE_PLACES)
        given += share
        out.append(replace(f, fee=share, fee_asset=asset))
    return out
