"""A loopback Binance spot exchange: REST (``/api/v3``), market streams (``/ws``), the user-data
stream (WebSocket API ``userDataStream.subscribe.signature`` as ccxt uses it, and the listenKey
stream ``/ws/<listenKey>``), with the paper ``MatchingCore`` filling orders against the book and
trades the test (or the standalone simulation) makes.

Requests are checked as Binance checks them: API key, HMAC-SHA256 signature over the exact query
string or body, timestamp against the server's clock and ``recvWindow`` (-1021, -1022, -2014,
-2015), filters (-1013), balances and duplicates (-2010), unknown orders (-2011, -2013).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

from app.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from app.domain.instrument import Instrument
from app.domain.money import is_multiple
from app.venues.paper import Expired, FeeModel, FillEvent, MatchingCore, PaperOrder, Rejected, Triggered, reservation

from ..faults import Faults
from .account import BinanceLedger, commission
from .book import INTERVAL_MS, SymbolMarket, s8
from .info import DEFAULT_SYMBOLS, exchange_info
from .orders import TYPES, Fill, LoopOrder, OrderList

API_KEY = "loopback-key"
SECRET = "loopback-secret"
DEFAULT_BALANCES = {"USDT": "100000", "BTC": "2", "ETH": "20", "BNB": "100", "SOL": "500"}
D = Decimal


class ApiError(Exception):
    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(msg)
        self.code, self.msg, self.status = code, msg, status


def _filters(sym: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["filterType"]: f for f in sym.get("filters", [])}


def instrument_of(sym: dict[str, Any]) -> Instrument:
    """The loopback's own reading of a symbol's filters (what it enforces)."""
    f = _filters(sym)
    price, lot = f["PRICE_FILTER"], f["LOT_SIZE"]
    notional = f.get("NOTIONAL") or f.get("MIN_NOTIONAL") or {}
    return Instrument(
        venue="loopback",
        symbol=f"{sym['baseAsset']}/{sym['quoteAsset']}",
        base=sym["baseAsset"],
        quote=sym["quoteAsset"],
        tick_size=D(price["tickSize"]).normalize(),
        lot_step=D(lot["stepSize"]).normalize(),
        min_qty=D(lot["minQty"]),
        max_qty=D(lot["maxQty"]),
        min_notional=D(notional.get("minNotional", "0")),
    )


@dataclass(eq=False)
class Conn:
    """One websocket: what it subscribed to and the queue its writer sends from."""

    ws: web.WebSocketResponse
    request: web.Request
    kind: str  # "market", "ws-api", "listen-key"
    streams: set[str] = field(default_factory=set)
    subscription_id: int | None = None
    silent: bool = False
    queue: asyncio.Queue[str] = field(default_factory=asyncio.Queue)

    def send(self, payload: dict[str, Any] | str) -> None:
        if not self.silent and not self.ws.closed:
            self.queue.put_nowait(payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":")))

    def drop(self) -> None:
        """Cut the connection without a closing handshake (what a network failure looks like)."""
        transport = self.request.transport
        if transport is not None:
            transport.close()


class BinanceLoopback:
    def __init__(
        self,
        *,
        symbols: tuple[str, ...] = DEFAULT_SYMBOLS,
        balances: dict[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        api_keys: dict[str, str] | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.api_keys = dict(api_keys or {API_KEY: SECRET})
        self.faults = Faults()
        self.info, self.recorded = exchange_info(symbols)
        self.symbols = {s["symbol"]: s for s in self.info["symbols"]}
        self.instruments = {k: instrument_of(s) for k, s in self.symbols.items()}
        self.by_unified = {i.symbol: k for k, i in self.instruments.items()}
        self.conns: set[Conn] = set()
        self.listen_keys: dict[str, str] = {}
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.reset(balances)

    # -- state ---------------------------------------------------------------------------------------
    def reset(self, balances: dict[str, str] | None = None) -> None:
        """A fresh account and market (sockets stay open, faults are cleared)."""
        self.faults.clear()
        self.ledger = BinanceLedger()
        for asset, amount in (balances or DEFAULT_BALANCES).items():
            self.ledger.deposit(asset, D(amount))
        self.ledger.take_changed()
        self.markets = {k: SymbolMarket(k, i.symbol) for k, i in self.instruments.items()}
        self.cores = {
            k: MatchingCore(i.symbol, i, account=self.ledger, fees=FeeModel()) for k, i in self.instruments.items()
        }
        self.orders: dict[int, LoopOrder] = {}
        self.by_po: dict[int, LoopOrder] = {}
        self.by_client: dict[tuple[str, str], LoopOrder] = {}
        self.lists: dict[int, OrderList] = {}
        self.list_of: dict[int, OrderList] = {}  # order id -> its list
        self.next_order_id = 1
        self.next_list_id = 1
        self.placed = 0  # orders accepted (tests count duplicates with it)

    def now_ms(self) -> int:
        return int(time.time() * 1000) + self.faults.clock_drift_ms

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- server ----------------------------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        r = app.router
        for path, handler in (
            ("/api/v3/ping", self.ping),
            ("/api/v3/time", self.time),
            ("/api/v3/exchangeInfo", self.exchange_info),
            ("/api/v3/depth", self.depth),
            ("/api/v3/trades", self.trades),
            ("/api/v3/aggTrades", self.agg_trades),
            ("/api/v3/klines", self.klines),
            ("/api/v3/ticker/24hr", self.ticker),
            ("/api/v3/ticker/bookTicker", self.book_ticker),
            ("/api/v3/ticker/price", self.ticker_price),
            ("/api/v3/account", self.account),
            ("/api/v3/myTrades", self.my_trades),
            ("/api/v3/allOrders", self.all_orders),
            ("/api/v3/openOrderList", self.open_order_lists),
        ):
            r.add_get(path, handler)
        r.add_post("/api/v3/order", self.new_order)
        r.add_get("/api/v3/order", self.query_order)
        r.add_delete("/api/v3/order", self.cancel_order)
        r.add_get("/api/v3/openOrders", self.open_orders)
        r.add_delete("/api/v3/openOrders", self.cancel_open_orders)
        r.add_post("/api/v3/orderList/oco", self.new_oco)
        r.add_post("/api/v3/order/oco", self.new_oco_legacy)
        r.add_delete("/api/v3/orderList", self.cancel_order_list)
        r.add_get("/api/v3/orderList", self.query_order_list)
        r.add_post("/api/v3/userDataStream", self.listen_key_new)
        r.add_put("/api/v3/userDataStream", self.listen_key_keep)
        r.add_delete("/api/v3/userDataStream", self.listen_key_close)
        r.add_get("/ws", self.ws_market)
        r.add_get("/ws/{tail}", self.ws_market)
        r.add_get("/ws-api/v3", self.ws_api)
        r.add_post("/_loopback/{action}", self.control)
        return app

    async def start(self) -> BinanceLoopback:
        self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        sockets = site._server.sockets if site._server is not None else []  # type: ignore[union-attr]
        self.port = sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        for t in list(self._tasks):
            t.cancel()
        for c in list(self.conns):
            with contextlib.suppress(Exception):
                await c.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        path, method = request.path, request.method
        if path.startswith("/ws") or path.startswith("/_loopback"):
            return await handler(request)
        self.faults.requests.append((time.monotonic(), method, path))
        fault = self.faults.take(method, path)
        try:
            if fault is not None:
                if fault.kind in ("429", "418"):
                    status = int(fault.kind)
                    msg = (
                        "Too much request weight used; current limit is 6000 request weight per 1 MINUTE."
                        if status == 429
                        else f"Way too much request weight used; IP banned until {self.now_ms() + int(fault.retry_after * 1000)}."
                    )
                    return web.json_response(
                        {"code": -1003, "msg": msg}, status=status, headers={"Retry-After": f"{fault.retry_after:g}"}
                    )
                if fault.kind == "5xx":
                    return web.Response(status=503, text="Service Unavailable", content_type="text/html")
                if fault.kind == "signature":
                    raise ApiError(-1022, "Signature for this request is not valid.")
            response = await handler(request)
            if fault is not None and fault.kind == "malformed":
                return web.Response(status=200, text='{"symbol":"BTCUSDT","orderId":', content_type="application/json")
            if fault is not None and fault.kind == "timeout":
                await asyncio.sleep(fault.delay)  # carried out; the answer comes too late
            return response
        except ApiError as e:
            return web.json_response({"code": e.code, "msg": e.msg}, status=e.status)

    # -- request parameters and signatures ---------------------------------------------------------------
    async def _params(self, request: web.Request) -> tuple[dict[str, str], str]:
        body = await request.text() if request.method in ("POST", "PUT") else ""
        raw = request.query_string
        total = raw + body
        params = dict(parse_qsl(raw, keep_blank_values=True))
        params.update(dict(parse_qsl(body, keep_blank_values=True)))
        return params, total

    def _api_key(self, request: web.Request) -> str:
        key = request.headers.get("X-MBX-APIKEY")
        if not key:
            raise ApiError(-2014, "API-key format invalid.", 401)
        if key not in self.api_keys:
            raise ApiError(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        return key

    def _check_time(self, params: dict[str, str]) -> None:
        try:
            ts = int(params["timestamp"])
        except (KeyError, ValueError):
            raise ApiError(
                -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed."
            ) from None
        window = int(params.get("recvWindow", "5000"))
        if window > 60_000:
            raise ApiError(-1131, "recvWindow must be less than 60000")
        server = self.now_ms()
        if ts > server + 1000:
            raise ApiError(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")
        if server - ts > window:
            raise ApiError(-1021, "Timestamp for this request is outside of the recvWindow.")

    async def _signed(self, request: web.Request) -> dict[str, str]:
        key = self._api_key(request)
        params, total = await self._params(request)
        sig = params.pop("signature", None)
        if sig is None:
            raise ApiError(-1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.")
        payload = (
            total.replace(f"&signature={sig}", "").replace(f"signature={sig}&", "").replace(f"signature={sig}", "")
        )
        expected = hmac.new(self.api_keys[key].encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, sig):
            raise ApiError(-1022, "Signature for this request is not valid.")
        self._check_time(params)
        return params

    def _symbol(self, params: dict[str, str], required: bool = True) -> str | None:
        sym = params.get("symbol")
        if sym is None:
            if required:
                raise ApiError(-1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.")
            return None
        if sym not in self.symbols:
            raise ApiError(-1121, "Invalid symbol.")
        return sym

    @staticmethod
    def _dec(params: dict[str, str], name: str, required: bool = False) -> Decimal | None:
        value = params.get(name)
        if value in (None, ""):
            if required:
                raise ApiError(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")
            return None
        try:
            d = D(value)
        except InvalidOperation:
            raise ApiError(
                -1100,
                f"Illegal characters found in parameter '{name}'; legal range is '^([0-9]{{1,20}})(\\.[0-9]{{1,20}})?$'.",
            ) from None
        return d

    # -- public endpoints ---------------------------------------------------------------------------------
    async def ping(self, request: web.Request) -> web.Response:
        return web.json_response({})

    async def time(self, request: web.Request) -> web.Response:
        return web.json_response({"serverTime": self.now_ms()})

    async def exchange_info(self, request: web.Request) -> web.Response:
        return web.json_response({**self.info, "serverTime": self.now_ms()})

    async def depth(self, request: web.Request) -> web.Response:
        params, _ = await self._params(request)
        sym = self._symbol(params)
        assert sym is not None
        limit = min(int(params.get("limit", "100")), 5000)
        return web.json_response(self.markets[sym].snapshot(limit))

    async def trades(self, request: web.Request) -> web.Response:
        params, _ = await self._params(request)
        sym = self._symbol(params)
        assert sym is not None
        limit = min(int(params.get("limit", "500")), 1000)
        return web.json_response(self.markets[sym].trades[-limit:])

    async def agg_trades(self, request: web.Request) -> web.Response:
        params, _ = await self._params(request)
        sym = self._symbol(params)
        assert sym is not None
        limit = min(int(params.get("limit", "500")), 1000)
        out = [
            {
                "a": t["id"],
                "p": t["price"],
                "q": t["qty"],
                "f": t["id"],
                "l": t["id"],
                "T": t["time"],
                "m": t["isBuyerMaker"],
                "M": True,
            }
            for t in self.markets[sym].trades[-limit:]
        ]
        return web.json_response(out)

    async def klines(self, request: web.Request) -> web.Response:
        params, _ = await self._params(request)
        sym = self._symbol(params)
        assert sym is not None
        interval = params.get("interval", "")
        if interval not in INTERVAL_MS:
            raise ApiError(-1120, "Invalid interval.")
        limit = min(int(params.get("limit", "500")), 1000)
        start, end = int(params.get("startTime", "0")), int(params.get("endTime", str(2**62)))
        rows = [k for k in self.markets[sym].klines.setdefault(interval, []) if start <= k.open_ms <= end]
        return web.json_response([k.row(INTERVAL_MS[interval]) for k in rows[:limit]])

    async def ticker(self, request: web.Request) -> web.Response:
        params, _ = await self._params(request)
        sym = self._symbol(params, required=False)
        if sym is None:
            return web.json_response([m.ticker_24h(self.now_ms()) for m in self.markets.values()])
        return web.json_response(self.markets[sym].ticker_24h(self.now_ms()))

    async def book_ticker(self, request: web.Request) -> web.Response:
        params, _ = await self._params(request)
        sym = self._symbol(params)
        assert sym is not None
        t = self.markets[sym].ticker_24h(self.now_ms())
        return web.json_response({"symbol": sym, **{k: t[k] for k in ("bidPrice", "bidQty", "askPrice", "askQty")}})

    async def ticker_price(self, request: web.Request) -> web.Response:
        params, _ = await self._params(request)
        sym = self._symbol(params)
        assert sym is not None
        return web.json_response({"symbol": sym, "price": s8(self.markets[sym].last or D(0))})

    # -- account ------------------------------------------------------------------------------------------
    async def account(self, request: web.Request) -> web.Response:
        await self._signed(request)
        balances = [
            {"asset": a, "free": s8(b.free), "locked": s8(b.locked)} for a, b in sorted(self.ledger.balances().items())
        ]
        return web.json_response(
            {
                "makerCommission": 10,
                "takerCommission": 10,
                "buyerCommission": 0,
                "sellerCommission": 0,
                "commissionRates": {
                    "maker": "0.00100000",
                    "taker": "0.00100000",
                    "buyer": "0.00000000",
                    "seller": "0.00000000",
                },
                "canTrade": True,
                "canWithdraw": False,
                "canDeposit": True,
                "brokered": False,
                "requireSelfTradePrevention": False,
                "preventSor": False,
                "updateTime": self.now_ms(),
                "accountType": "SPOT",
                "balances": balances,
                "permissions": ["SPOT"],
                "uid": 354937868,
            }
        )

    async def my_trades(self, request: web.Request) -> web.Response:
        params = await self._signed(request)
        sym = self._symbol(params)
        start = int(params.get("startTime", "0"))
        end = int(params.get("endTime", str(2**62)))
        from_id = int(params.get("fromId", "0"))
        order_id = params.get("orderId")
        limit = min(int(params.get("limit", "500")), 1000)
        rows = [
            t
            for o in self.orders.values()
            if o.symbol == sym and (order_id is None or str(o.order_id) == order_id)
            for t in o.my_trades()
        ]
        rows = [t for t in rows if start <= t["time"] <= end and t["id"] >= from_id]
        rows.sort(key=lambda t: t["id"])
        return web.json_response(rows[:limit])

    # -- orders -------------------------------------------------------------------------------------------
    def _find(self, sym: str, params: dict[str, str]) -> LoopOrder | None:
        if params.get("orderId"):
            o = self.orders.get(int(params["orderId"]))
            return o if o is not None and o.symbol == sym else None
        cid = params.get("origClientOrderId")
        if cid:
            return self.by_client.get((sym, cid))
        raise ApiError(-1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")

    async def query_order(self, request: web.Request) -> web.Response:
        params = await self._signed(request)
        sym = self._symbol(params)
        assert sym is not None
        o = self._find(sym, params)
        if o is None:
            raise ApiError(-2013, "Order does not exist.")
        return web.json_response(o.json())

    async def open_orders(self, request: web.Request) -> web.Response:
        params = await self._signed(request)
        sym = self._symbol(params, required=False)
        return web.json_response(
            [o.json() for o in self.orders.values() if o.is_open and (sym is None or o.symbol == sym)]
        )

    async def all_orders(self, request: web.Request) -> web.Response:
        params = await self._signed(request)
        sym = self._symbol(params)
        return web.json_response([o.json() for o in self.orders.values() if o.symbol == sym])

    def _validate(
        self, sym: str, kind: str, side: Side, qty: Decimal, price: Decimal | None, stop: Decimal | None
    ) -> None:
        inst, market = self.instruments[sym], self.markets[sym]
        for p in (price, stop):
            if p is not None and (p <= 0 or not is_multiple(p, inst.tick_size)):
                raise ApiError(-1013, "Filter failure: PRICE_FILTER")
        if (
            qty < inst.min_qty
            or (inst.max_qty is not None and qty > inst.max_qty)
            or not is_multiple(qty, inst.lot_step)
        ):
            raise ApiError(-1013, "Filter failure: LOT_SIZE")
        ref = price if price is not None else (stop if stop is not None else market.last)
        if ref is not None and qty * ref < inst.min_notional:
            raise ApiError(-1013, "Filter failure: NOTIONAL")
        core_type = TYPES[kind][0]
        if core_type.has_trigger and stop is not None and market.last is not None:
            above = (side is Side.BUY) == core_type.is_stop
            if (above and stop <= market.last) or (not above and stop >= market.last):
                raise ApiError(-2010, "Stop price would trigger immediately.")

    def _new_order(
        self,
        sym: str,
        side: Side,
        kind: str,
        qty: Decimal,
        price: Decimal | None,
        stop: Decimal | None,
        tif: str,
        cid: str | None,
        list_id: int = -1,
    ) -> LoopOrder:
        if kind not in TYPES:
            raise ApiError(-1116, "Invalid orderType.")
        core_type, post_only = TYPES[kind]
        if core_type.has_limit_price and price is None:
            raise ApiError(-1102, "Mandatory parameter 'price' was not sent, was empty/null, or malformed.")
        if core_type.has_trigger and stop is None:
            raise ApiError(-1102, "Mandatory parameter 'stopPrice' was not sent, was empty/null, or malformed.")
        if cid is not None:
            known = self.by_client.get((sym, cid))
            if known is not None and known.is_open:
                raise ApiError(-2010, "Duplicate order sent.")
        self._validate(sym, kind, side, qty, price, stop)
        now = self.now_ms()
        oid = self.next_order_id
        self.next_order_id += 1
        cid = cid or f"loopback{oid:016d}"
        po = PaperOrder(
            cid,
            str(oid),
            self.instruments[sym].symbol,
            side,
            core_type,
            qty,
            price if core_type.has_limit_price else None,
            stop,
            TimeInForce(tif.lower()) if tif in ("GTC", "IOC", "FOK") else TimeInForce.GTC,
            post_only,
            now,
        )
        return LoopOrder(po, oid, sym, kind, tif if core_type.has_limit_price else "GTC", now, list_id)

    def _fund(self, lo: LoopOrder, need: tuple[str, Decimal] | None = None) -> None:
        inst, core = self.instruments[lo.symbol], self.cores[lo.symbol]
        po = lo.po
        market_price = None
        if po.type is OrderType.MARKET and po.side is Side.BUY:
            if core.book is None or not core.book.asks:
                market_price = self.markets[lo.symbol].last or D(0)
            else:
                market_price = core.walk_cost(po) / po.quantity
        asset, amount = need or reservation(po, inst, core.fees, market_price)
        if not self.ledger.reserve(po, asset, amount):
            raise ApiError(-2010, "Account has insufficient balance for requested action.")

    def _file(self, lo: LoopOrder) -> None:
        self.orders[lo.order_id] = lo
        self.by_po[id(lo.po)] = lo
        self.by_client[(lo.symbol, lo.client_id)] = lo
        self.placed += 1

    async def new_order(self, request: web.Request) -> web.Response:
        params = await self._signed(request)
        sym = self._symbol(params)
        assert sym is not None
        if params.get("trailingDelta") or params.get("quoteOrderQty"):
            raise ApiError(-1014, "Unsupported order combination.")
        side = self._side(params.get("side"))
        kind = params.get("type", "")
        qty = self._dec(params, "quantity", required=True)
        assert qty is not None
        tif = params.get("timeInForce", "")
        if kind in ("LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT") and not tif:
            raise ApiError(-1102, "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.")
        lo = self._new_order(
            sym,
            side,
            kind,
            qty,
            self._dec(params, "price"),
            self._dec(params, "stopPrice"),
            tif or "GTC",
            params.get("newClientOrderId"),
        )
        core = self.cores[sym]
        if lo.po.post_only and core.crosses(lo.po):
            raise ApiError(-2010, "Order would immediately match and take.")
        self._fund(lo)
        self._file(lo)
        now = self.now_ms()
        self._user(lo.execution_report("NEW", now))
        self._absorb(sym, core.submit(lo.po), now)
        self._balances_changed(now)
        resp = params.get("newOrderRespType") or ("FULL" if kind in ("MARKET", "LIMIT") else "ACK")
        if resp == "ACK":
            return web.json_response(
                {
                    "symbol": sym,
                    "orderId": lo.order_id,
                    "orderListId": -1,
                    "clientOrderId": lo.client_id,
                    "transactTime": now,
                }
            )
        return web.json_response(lo.full(now) if resp == "FULL" else lo.ack(now))

    @staticmethod
    def _side(value: str | None) -> Side:
        if value not in ("BUY", "SELL"):
            raise ApiError(-1117, "Invalid side.")
        return Side.BUY if value == "BUY" else Side.SELL

    def _end(
        self, lo: LoopOrder, status: OrderStatus, exec_type: str, now: int, reason: str = "NONE", orig: str = ""
    ) -> None:
        if not lo.is_open:
            return
        self.cores[lo.symbol].cancel(lo.po)
        lo.po.status = status
        lo.updated = now
        self.ledger.unlink(lo.po)
        self._user(lo.execution_report(exec_type, now, reason=reason, orig_client_id=orig))

    def _list_done(self, lo: LoopOrder, now: int) -> None:
        ol = self.list_of.get(lo.order_id)
        if ol is None or ol.done:
            return
        if all(not x.is_open or x.po.triggered or x.po.filled > 0 for x in ol.legs):
            ol.done = True
            self._user(ol.event(now))

    def _absorb(self, sym: str, events: list[Any], now: int) -> None:
        """What the matching core did → order state, fills, the OCO rule, user-data events."""
        inst = self.instruments[sym]
        for e in events:
            lo = self.by_po.get(id(e.order))
            if lo is None:
                continue
            lo.updated = now
            ol = self.list_of.get(lo.order_id)
            if isinstance(e, Triggered):
                self.ledger.take_over(e.order)
                if ol is not None:
                    for other in ol.legs:
                        if other is not lo:
                            self._end(other, OrderStatus.EXPIRED, "EXPIRED", now)
                    self._list_done(lo, now)
            elif isinstance(e, FillEvent):
                fee, asset = commission(e.order, inst, e.price, e.fee)
                market = self.markets[sym]
                market.trade_id += 1
                f = Fill(market.trade_id, e.quantity, e.price, fee, asset, e.liquidity.value == "maker", now)
                lo.fills.append(f)
                lo.quote_filled += e.quantity * e.price
                self._user(lo.execution_report("TRADE", now, fill=f))
                if ol is not None:  # any fill of one leg ends the other
                    for other in ol.legs:
                        if other is not lo:
                            self._end(other, OrderStatus.EXPIRED, "EXPIRED", now)
                    self._list_done(lo, now)
            elif isinstance(e, Expired):
                self._user(lo.execution_report("EXPIRED", now))
            elif isinstance(e, Rejected):
                self._user(lo.execution_report("REJECTED", now, reason=e.reason))

    async def cancel_order(self, request: web.Request) -> web.Response:
        params = await self._signed(request)
        sym = self._symbol(params)
        assert sym is not None
        lo = self._find(sym, params)
        if lo is None or not lo.is_open:
            raise ApiError(-2011, "Unknown order sent.")
        now = self.now_ms()
        new_cid = params.get("newClientOrderId") or f"cancel{now}"
        ol = self.list_of.get(lo.order_id)
        for x in ol.legs if ol is not None else [lo]:  # one leg cancelled cancels its list
            self._end(x, OrderStatus.CANCELLED, "CANCELED", now, orig=x.client_id)
        if ol is not None:
            ol.done = True
            self._user(ol.event(now))
        self._balances_changed(now)
        out = lo.json(full=False)
        out.update(
            {
                "origClientOrderId": lo.client_id,
                "clientOrderId": new_cid,
                "transactTime": now,
                "selfTradePreventionMode": "NONE",
            }
        )
        return web.json_response(out)

    async def cancel_open_orders(self, request: web.Request) -> web.Response:
        params = await self._signed(request)
        sym = self._symbol(params)
        now = self.now_ms()
        out: list[dict[str, Any]] = []
        open_ = [o for o in self.orders.values() if o.symbol == sym and o.is_open]
        if not open_:
            raise ApiError(-2011, "Unknown order sent.")
        done_lists: set[int] = set()
        for lo in open_:
            if not lo.is_open:
                continue
            self._end(lo, OrderStatus.CANCELLED, "CANCELED", now, orig=lo.client_id)
            ol = self.list_of.get(lo.order_id)
            if ol is not None:
                for x in ol.legs:
                    self._end(x, OrderStatus.CANCELLED, "CANCELED", now, orig=x.client_id)
                if ol.list_id not in done_lists:
                    done_lists.add(ol.list_id)
                    ol.done = True
                    self._user(ol.event(now))
                    out.append(ol.json(now))
                continue
            row = lo.json(full=False)
            row.update({"origClientOrderId": lo.client_id, "clientOrderId": f"cancelall{now}", "transactTime": now})
            out.append(row)
        self._balances_changed(now)
        return web.json_response(out)

    # -- order lists ----------------------------------------------------------------------------------------
    async def new_oco(self, request: web.Request) -> web.Response:
        params = await self._signed(request)
        return web.json_response(self._oco(params))

    async def new_oco_legacy(self, request: web.Request) -> web.Response:
        """The deprecated ``/api/v3/order/oco`` (price, stopPrice, stopLimitPrice) in the new one's terms."""
        params = await self._signed(request)
        sell = params.get("side") == "SELL"
        limit_pos, stop_pos = ("above", "below") if sell else ("below", "above")
        mapped = {
            k: v
            for k, v in params.items()
            if k in ("symbol", "side", "quantity", "listClientOrderId", "newOrderRespType", "timestamp", "recvWindow")
        }
        mapped.update(
            {
                f"{limit_pos}Type": "LIMIT_MAKER",
                f"{limit_pos}Price": params.get("price", ""),
                f"{limit_pos}ClientOrderId": params.get("limitClientOrderId", ""),
                f"{stop_pos}StopPrice": params.get("stopPrice", ""),
                f"{stop_pos}ClientOrderId": params.get("stopClientOrderId", ""),
            }
        )
        if params.get("stopLimitPrice"):
            mapped.update(
                {
                    f"{stop_pos}Type": "STOP_LOSS_LIMIT",
                    f"{stop_pos}Price": params["stopLimitPrice"],
                    f"{stop_pos}TimeInForce": params.get("stopLimitTimeInForce", "GTC"),
                }
            )
        else:
            mapped[f"{stop_pos}Type"] = "STOP_LOSS"
        return web.json_response(self._oco({k: v for k, v in mapped.items() if v != ""}))

    def _oco(self, params: dict[str, str]) -> dict[str, Any]:
        sym = self._symbol(params)
        assert sym is not None
        side = self._side(params.get("side"))
        qty = self._dec(params, "quantity", required=True)
        assert qty is not None
        legs: dict[str, LoopOrder] = {}
        list_cid = params.get("listClientOrderId") or f"list{self.next_list_id}"
        for known in self.lists.values():
            if known.symbol == sym and known.client_id == list_cid and not known.done:
                raise ApiError(-2010, "Duplicate order sent.")
        for pos in ("above", "below"):
            kind = params.get(f"{pos}Type", "")
            if kind not in TYPES or kind == "MARKET" or kind == "LIMIT":
                raise ApiError(-1116, "Invalid orderType.")
            legs[pos] = self._new_order(
                sym,
                side,
                kind,
                qty,
                self._dec(params, f"{pos}Price"),
                self._dec(params, f"{pos}StopPrice"),
                params.get(f"{pos}TimeInForce", "GTC"),
                params.get(f"{pos}ClientOrderId"),
                list_id=self.next_list_id,
            )
        above, below = legs["above"], legs["below"]
        last = self.markets[sym].last
        a_px = above.po.price if above.kind == "LIMIT_MAKER" else above.po.stop_price
        b_px = below.po.price if below.kind == "LIMIT_MAKER" else below.po.stop_price
        if last is not None and a_px is not None and b_px is not None and not (a_px > last > b_px):
            raise ApiError(-1013, "The relationship of the prices for the orders is not correct.")
        core = self.cores[sym]
        for lo in (above, below):
            if lo.po.post_only and core.crosses(lo.po):
                raise ApiError(-2010, "Order would immediately match and take.")
        # One reservation for the pair (the larger of the two legs' needs), held by the resting leg.
        inst = self.instruments[sym]
        needs = [reservation(lo.po, inst, core.fees) for lo in (above, below)]
        need = max(needs, key=lambda n: n[1])
        holder = above if above.kind == "LIMIT_MAKER" else below
        self._fund(holder, need)
        self.ledger.link(above.po, below.po)
        ol = OrderList(
            self.next_list_id, list_cid, sym, [below, above] if side is Side.SELL else [above, below], self.now_ms()
        )
        self.next_list_id += 1
        self.lists[ol.list_id] = ol
        now = self.now_ms()
        for lo in ol.legs:
            self._file(lo)
            self.list_of[lo.order_id] = ol
        self._user(ol.event(now))
        for lo in ol.legs:
            self._user(lo.execution_report("NEW", now))
        for lo in ol.legs:
            if lo.is_open:
                self._absorb(sym, core.submit(lo.po), now)
        self._balances_changed(now)
        return ol.json(now)

    def _find_list(self, params: dict[str, str]) -> OrderList:
        if params.get("orderListId"):
            ol = self.lists.get(int(params["orderListId"]))
        else:
            cid = params.get("listClientOrderId") or params.get("origClientOrderId")
            ol = next((x for x in self.lists.values() if x.client_id == cid), None)
        if ol is None:
            raise ApiError(-2011, "Order list does not exist.")
        return ol

    async def cancel_order_list(self, request: web.Request) -> web.Response:
        params = await self._signed(request)
        self._symbol(params)
        ol = self._find_list(params)
        now = self.now_ms()
        for lo in ol.legs:
            self._end(lo, OrderStatus.CANCELLED, "CANCELED", now, orig=lo.client_id)
        ol.done = True
        self._user(ol.event(now))
        self._balances_changed(now)
        return web.json_response(ol.json(now))

    async def query_order_list(self, request: web.Request) -> web.Response:
        params = await self._signed(request)
        ol = self._find_list(params)
        return web.json_response(ol.json(self.now_ms(), reports=False))

    async def open_order_lists(self, request: web.Request) -> web.Response:
        await self._signed(request)
        now = self.now_ms()
        return web.json_response([ol.json(now, reports=False) for ol in self.lists.values() if not ol.done])

    # -- the user-data stream --------------------------------------------------------------------------------
    async def listen_key_new(self, request: web.Request) -> web.Response:
        key = self._api_key(request)
        listen_key = hashlib.sha256(f"{key}{time.time_ns()}{random.random()}".encode()).hexdigest()[:60]
        self.listen_keys[listen_key] = key
        return web.json_response({"listenKey": listen_key})

    async def listen_key_keep(self, request: web.Request) -> web.Response:
        self._api_key(request)
        params, _ = await self._params(request)
        if params.get("listenKey") not in self.listen_keys:
            raise ApiError(-1125, "This listenKey does not exist.")
        return web.json_response({})

    async def listen_key_close(self, request: web.Request) -> web.Response:
        self._api_key(request)
        params, _ = await self._params(request)
        self.listen_keys.pop(params.get("listenKey", ""), None)
        return web.json_response({})

    def _user(self, event: dict[str, Any]) -> None:
        text = json.dumps(event, separators=(",", ":"))
        for c in list(self.conns):
            if c.kind == "ws-api" and c.subscription_id is not None:
                c.send(f'{{"subscriptionId":{c.subscription_id},"event":{text}}}')
            elif c.kind == "listen-key":
                c.send(text)

    def _balances_changed(self, now: int) -> None:
        changed = self.ledger.take_changed()
        if not changed:
            return
        bal = self.ledger.balances()
        self._user(
            {
                "e": "outboundAccountPosition",
                "E": now,
                "u": now,
                "B": [{"a": a, "f": s8(bal[a].free), "l": s8(bal[a].locked)} for a in sorted(changed) if a in bal],
            }
        )

    # -- websockets -------------------------------------------------------------------------------------------
    async def _serve(
        self, request: web.Request, kind: str, on_text: Callable[[Conn, Any], None]
    ) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=False, compress=False, max_msg_size=1 << 22)
        await ws.prepare(request)
        conn = Conn(ws, request, kind)
        self.conns.add(conn)
        writer = self._spawn(self._writer(conn))
        try:
            async for msg in ws:
                if conn.silent:
                    continue  # a stalled server: reads, answers nothing, not even pings
                if msg.type == WSMsgType.PING:
                    await ws.pong(msg.data)
                elif msg.type == WSMsgType.TEXT:
                    try:
                        on_text(conn, json.loads(msg.data))
                    except (ValueError, KeyError, TypeError):
                        conn.send({"error": {"code": 2, "msg": "Invalid request"}, "id": None})
                elif msg.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                    break
        finally:
            self.conns.discard(conn)
            writer.cancel()
        return ws

    async def _writer(self, conn: Conn) -> None:
        ws, q = conn.ws, conn.queue
        with contextlib.suppress(ConnectionError, RuntimeError):
            while True:
                msg = await q.get()
                await ws.send_str(msg)

    async def ws_market(self, request: web.Request) -> web.WebSocketResponse:
        tail = request.match_info.get("tail", "")
        if tail in self.listen_keys:
            return await self._serve(request, "listen-key", lambda c, m: None)
        return await self._serve(request, "market", self._market_request)

    def _market_request(self, conn: Conn, msg: dict[str, Any]) -> None:
        method, rid = msg.get("method"), msg.get("id")
        params = msg.get("params") or []
        if method == "SUBSCRIBE":
            conn.streams.update(params)
            conn.send({"result": None, "id": rid})
            for stream in params:  # a first kline / ticker when there is one
                sym, _, channel = stream.partition("@")
                market = self.markets.get(sym.upper())
                if market is None:
                    continue
                if channel.startswith("kline_"):
                    ev = market.kline_event(channel[6:], self.now_ms())
                    if ev is not None:
                        conn.send(ev)
        elif method == "UNSUBSCRIBE":
            conn.streams.difference_update(params)
            conn.send({"result": None, "id": rid})
        elif method == "LIST_SUBSCRIPTIONS":
            conn.send({"result": sorted(conn.streams), "id": rid})
        else:
            conn.send({"error": {"code": 2, "msg": f"Invalid request: unknown method {method}"}, "id": rid})

    async def ws_api(self, request: web.Request) -> web.WebSocketResponse:
        return await self._serve(request, "ws-api", self._ws_api_request)

    def _ws_api_request(self, conn: Conn, msg: dict[str, Any]) -> None:
        rid, method, params = msg.get("id"), msg.get("method"), dict(msg.get("params") or {})

        def error(code: int, text: str, status: int = 400) -> None:
            conn.send({"id": rid, "status": status, "error": {"code": code, "msg": text}})

        if method == "ping":
            conn.send({"id": rid, "status": 200, "result": {}})
        elif method == "time":
            conn.send({"id": rid, "status": 200, "result": {"serverTime": self.now_ms()}})
        elif method == "userDataStream.subscribe.signature":
            sig = params.pop("signature", "")
            key = params.get("apiKey", "")
            if key not in self.api_keys:
                return error(-2015, "Invalid API-key, IP, or permissions for action.", 401)
            payload = "&".join(f"{k}={params[k]}" for k in sorted(params))
            expected = hmac.new(self.api_keys[key].encode(), payload.encode(), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected, str(sig)):
                return error(-1022, "Signature for this request is not valid.")
            try:
                self._check_time({k: str(v) for k, v in params.items()})
            except ApiError as e:
                return error(e.code, e.msg)
            conn.subscription_id = 0
            conn.send({"id": rid, "status": 200, "result": {"subscriptionId": 0}})
        elif method == "userDataStream.unsubscribe":
            conn.subscription_id = None
            conn.send({"id": rid, "status": 200, "result": {}})
        else:
            error(-1020, "This operation is not supported.")

    def _market_event(self, sym: str, channel_prefix: str, event: dict[str, Any] | str) -> None:
        name = sym.lower()
        for c in self.conns:
            if c.kind != "market":
                continue
            for s in c.streams:
                if s.startswith(f"{name}@{channel_prefix}"):
                    c.send(event)
                    break

    # -- driving the market (tests, the simulation, the control endpoint) -------------------------------------------
    def _sym(self, symbol: str) -> str:
        return self.by_unified.get(symbol, symbol)

    def set_book(self, symbol: str, bids: list[tuple[Any, Any]], asks: list[tuple[Any, Any]]) -> None:
        """Replace the book other traders make; subscribers get the difference as a depth update."""
        sym = self._sym(symbol)
        m = self.markets[sym]
        new_b = {D(str(p)): D(str(q)) for p, q in bids}
        new_a = {D(str(p)): D(str(q)) for p, q in asks}
        db = [
            (p, new_b.get(p, D(0)))
            for p in sorted(set(m.bids) | set(new_b), reverse=True)
            if m.bids.get(p) != new_b.get(p)
        ]
        da = [(p, new_a.get(p, D(0))) for p in sorted(set(m.asks) | set(new_a)) if m.asks.get(p) != new_a.get(p)]
        self.change_book(sym, db, da)

    def change_book(
        self, symbol: str, bids: list[tuple[Decimal, Decimal]], asks: list[tuple[Decimal, Decimal]]
    ) -> None:
        sym = self._sym(symbol)
        m = self.markets[sym]
        now = self.now_ms()
        gap, self.faults.book_gap = self.faults.book_gap, 0
        event = m.apply(bids, asks, gap, now)
        self._market_event(sym, "depth", event)
        bt = m.book_ticker()
        if bt is not None:
            self._market_event(sym, "bookTicker", bt)
        core = self.cores[sym]
        self._absorb(sym, core.on_book(m.domain_book("loopback", now)), now)
        self._balances_changed(now)

    def book_around(
        self, symbol: str, mid: Any, *, spread: Any = "1", levels: int = 10, qty: Any = "1", step: Any = "1"
    ) -> None:
        m, s, st, q = D(str(mid)), D(str(spread)), D(str(step)), D(str(qty))
        self.set_book(
            symbol, [(m - s / 2 - i * st, q) for i in range(levels)], [(m + s / 2 + i * st, q) for i in range(levels)]
        )

    def trade(self, symbol: str, price: Any, qty: Any = "1", taker: str = "buy") -> None:
        """A trade between other traders: streams, candles, and resting/triggered orders here."""
        sym = self._sym(symbol)
        m = self.markets[sym]
        now = self.now_ms()
        event, domain_trade = m.trade(D(str(price)), D(str(qty)), Side(taker), now)
        self._market_event(sym, "trade", event)
        self._market_event(
            sym, "aggTrade", {**event, "e": "aggTrade", "a": event["t"], "f": event["t"], "l": event["t"]}
        )
        for interval in list(m.klines):
            ev = m.kline_event(interval, now)
            if ev is not None:
                self._market_event(sym, f"kline_{interval}", ev)
        self._market_event(sym, "ticker", m.ticker_event(now))
        self._market_event(sym, "miniTicker", m.mini_ticker_event(now))
        self._absorb(sym, self.cores[sym].on_trade(domain_trade), now)
        self._balances_changed(now)

    def seed_klines(self, symbol: str, interval: str, rows: list[tuple[int, Any, Any, Any, Any, Any]]) -> None:
        from .book import Kline

        m = self.markets[self._sym(symbol)]
        m.klines[interval] = [
            Kline(t, D(str(o)), D(str(h)), D(str(lo)), D(str(c)), D(str(v))) for t, o, h, lo, c, v in rows
        ]

    def drop_sockets(self, kind: str | None = None) -> int:
        """Cut open websockets (``market``, ``ws-api``, ``listen-key`` or all)."""
        cut = [c for c in self.conns if kind is None or c.kind == kind]
        for c in cut:
            c.drop()
        return len(cut)

    def silence_sockets(self, kind: str | None = None) -> int:
        """Open websockets stay open but deliver nothing more, pongs included (new ones work)."""
        hit = [c for c in self.conns if kind is None or c.kind == kind]
        for c in hit:
            c.silent = True
        return len(hit)

    def open_count(self, kind: str | None = None) -> int:
        return sum(1 for c in self.conns if (kind is None or c.kind == kind) and not c.silent)

    def subscribed(self, stream_prefix: str) -> bool:
        return any(s.startswith(stream_prefix) for c in self.conns if not c.silent for s in c.streams)

    def user_subscribed(self) -> bool:
        return any(
            c.kind in ("ws-api", "listen-key")
            and not c.silent
            and (c.kind == "listen-key" or c.subscription_id is not None)
            for c in self.conns
        )

    def burst_depth(self, symbol: str, n: int, *, start: Any = "60000", tick: Any = "0.01") -> int:
        """``n`` depth updates as fast as the sockets take them (a benchmark's load): each moves one
        bid and one ask level. Returns the last update id."""
        sym = self._sym(symbol)
        m = self.markets[sym]
        base, t = D(str(start)), D(str(tick))
        now = self.now_ms()
        name = f"{sym.lower()}@depth"
        targets = [c for c in self.conns if c.kind == "market" and any(s.startswith(name) for s in c.streams)]
        for i in range(n):
            k = i % 50
            q = D(1 + (i % 7))
            event = m.apply([(base - 1 - k * t, q)], [(base + 1 + k * t, q)], 0, now)
            text = json.dumps(event, separators=(",", ":"))
            for c in targets:
                c.send(text)
        return m.update_id

    async def simulate(
        self, symbol: str = "BTCUSDT", mid: Any = "60000", *, every_s: float = 0.25, seed: int = 7
    ) -> None:
        """A market that moves by itself (standalone runs): a random walk, a book around it, trades."""
        rng = random.Random(seed)
        sym = self._sym(symbol)
        tick = self.instruments[sym].tick_size
        price = D(str(mid))
        while True:
            price = (price * D(str(1 + rng.gauss(0, 0.0004)))).quantize(tick)
            self.book_around(sym, price, spread=tick * 2, levels=20, qty=D("0.5"), step=tick * 5)
            side = "buy" if rng.random() < 0.5 else "sell"
            self.trade(sym, price + (tick if side == "buy" else -tick), D(str(round(rng.uniform(0.001, 0.2), 5))), side)
            await asyncio.sleep(every_s)

    # -- the control endpoint (standalone runs, benchmarks in another process) --------------------------------------
    async def control(self, request: web.Request) -> web.Response:
        action = request.match_info["action"]
        body = await request.json() if request.can_read_body else {}
        if action == "book":
            self.book_around(
                body["symbol"],
                body["mid"],
                spread=body.get("spread", "1"),
                levels=body.get("levels", 10),
                qty=body.get("qty", "1"),
                step=body.get("step", "1"),
            )
        elif action == "trade":
            self.trade(body["symbol"], body["price"], body.get("qty", "1"), body.get("taker", "buy"))
        elif action == "burst":
            return web.json_response({"last_update_id": self.burst_depth(body["symbol"], int(body["n"]))})
        elif action == "subscribed":
            return web.json_response({"subscribed": self.subscribed(body["stream"])})
        elif action == "fault":
            self.faults.add(
                body["kind"],
                body.get("path", ""),
                count=int(body.get("count", 1)),
                retry_after=float(body.get("retry_after", 1)),
                delay=float(body.get("delay", 5)),
            )
        elif action == "drift":
            self.faults.clock_drift_ms = int(body["ms"])
        elif action == "reset":
            self.reset(body.get("balances"))
        else:
            raise web.HTTPNotFound()
        return web.json_response({"ok": True})
