"""A loopback Kraken spot exchange: REST ``/0/public`` and ``/0/private`` (AssetPairs from a real
recording when ../shared/data has it, Assets, Time, Ticker, OHLC, Depth, Trades, BalanceEx, AddOrder,
CancelOrder, CancelAll, QueryOrders, OpenOrders, ClosedOrders, TradesHistory, GetWebSocketsToken)
and websocket v2 (``/v2``: book with its CRC32 checksum, trade, ticker, ohlc; ``/v2-auth``:
executions, balances, with the token from GetWebSocketsToken), the paper ``MatchingCore`` behind.

Private requests are checked as Kraken checks them: ``API-Key`` known, ``API-Sign`` =
base64(HMAC-SHA512(base64-decoded secret, path + SHA256(nonce + POST data))), and the nonce higher
than the last one of the key (``EAPI:Invalid nonce``). Errors are Kraken's ``{"error": [...]}``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import itertools
import json
import secrets
import zlib
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from app.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from app.domain.instrument import Instrument

from ..base import Conn, HttpError, LoopbackBase
from ..binance.info import shared_data
from ..core import CoreError, CoreFill, CoreOrder, ExchangeCore

API_KEY = "loopback-kraken-key"
SECRET = base64.b64encode(b"loopback-kraken-secret").decode()
DEFAULT_BALANCES = {"USDT": "100000", "USD": "50000", "BTC": "2", "ETH": "20"}
RECORDING = Path("fixtures/nautilus_trader/crates/adapters/kraken/test_data/http_asset_pairs.json")
REST_ASSET = {"BTC": "XXBT", "ETH": "XETH", "USD": "ZUSD", "USDT": "USDT"}
ASSETS = {
    "XXBT": {"aclass": "currency", "altname": "XBT", "decimals": 10, "display_decimals": 5, "status": "enabled"},
    "XETH": {"aclass": "currency", "altname": "ETH", "decimals": 10, "display_decimals": 5, "status": "enabled"},
    "ZUSD": {"aclass": "currency", "altname": "USD", "decimals": 4, "display_decimals": 2, "status": "enabled"},
    "USDT": {"aclass": "currency", "altname": "USDT", "decimals": 8, "display_decimals": 4, "status": "enabled"},
}
ORDER_TYPES: dict[str, OrderType] = {
    "market": OrderType.MARKET,
    "limit": OrderType.LIMIT,
    "stop-loss": OrderType.STOP_MARKET,
    "stop-loss-limit": OrderType.STOP_LIMIT,
    "take-profit": OrderType.TAKE_PROFIT_MARKET,
    "take-profit-limit": OrderType.TAKE_PROFIT_LIMIT,
}
INTERVALS = {1: "1m", 5: "5m", 15: "15m", 30: "30m", 60: "1h", 240: "4h", 1440: "1d"}
D = Decimal


def _pair(
    altname: str, wsname: str, base: str, quote: str, pair_dec: int, tick: str, ordermin: str, costmin: str
) -> dict[str, Any]:
    return {
        "altname": altname,
        "wsname": wsname,
        "aclass_base": "currency",
        "base": base,
        "aclass_quote": "currency",
        "quote": quote,
        "lot": "unit",
        "cost_decimals": 5,
        "pair_decimals": pair_dec,
        "lot_decimals": 8,
        "lot_multiplier": 1,
        "leverage_buy": [],
        "leverage_sell": [],
        "fees": [[0, 0.4], [10000, 0.35], [50000, 0.24]],
        "fees_maker": [[0, 0.25], [10000, 0.2], [50000, 0.14]],
        "fee_volume_currency": "ZUSD",
        "margin_call": 80,
        "margin_stop": 40,
        "ordermin": ordermin,
        "costmin": costmin,
        "tick_size": tick,
        "status": "online",
    }


def asset_pairs() -> tuple[dict[str, Any], bool]:
    """XBTUSDT as Kraken's AssetPairs wrote it (recorded), ETHUSDT built alike; (pairs, recorded)."""
    pairs = {
        "XBTUSDT": _pair("XBTUSDT", "XBT/USDT", "XXBT", "USDT", 1, "0.1", "0.00005", "0.5"),
        "ETHUSDT": _pair("ETHUSDT", "ETH/USDT", "XETH", "USDT", 2, "0.01", "0.002", "0.5"),
        "XXBTZUSD": _pair("XBTUSD", "XBT/USD", "XXBT", "ZUSD", 1, "0.1", "0.00005", "0.5"),
        "XETHZUSD": _pair("ETHUSD", "ETH/USD", "XETH", "ZUSD", 2, "0.01", "0.002", "0.5"),
    }
    path = shared_data() / RECORDING
    if path.exists():
        pairs["XBTUSDT"] = json.loads(path.read_text())["result"]["XBTUSDT"]
        return pairs, True
    return pairs, False


def unified_asset(rest: str) -> str:
    return {v: k for k, v in REST_ASSET.items()}.get(rest, rest)


def instrument(pair: dict[str, Any]) -> Instrument:
    base, quote = unified_asset(pair["base"]), unified_asset(pair["quote"])
    tick = D(pair.get("tick_size") or D(1).scaleb(-int(pair["pair_decimals"])))
    return Instrument(
        venue="loopback",
        symbol=f"{base}/{quote}",
        base=base,
        quote=quote,
        tick_size=tick.normalize(),
        lot_step=D(1).scaleb(-int(pair["lot_decimals"])),
        min_qty=D(pair["ordermin"]),
        min_notional=D(pair.get("costmin") or 0),
        maker_fee=D(str(pair["fees_maker"][0][1])) / 100,
        taker_fee=D(str(pair["fees"][0][1])) / 100,
    )


def s(d: Decimal, places: int = 8) -> str:
    return f"{d:.{places}f}"


def num(d: Decimal) -> float | int:
    return int(d) if d == d.to_integral_value() and abs(d) < 2**53 else float(d)


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def kraken_error(*errors: str, status: int = 200) -> HttpError:
    return HttpError(status, {"error": list(errors)})


def checksum_text(d: Decimal, places: int) -> str:
    return s(d, places).replace(".", "").lstrip("0")


class KrakenLoopback(LoopbackBase):
    def __init__(self, *, balances: dict[str, str] | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self.api_keys = {API_KEY: SECRET}
        self.mixed_executions = False  # True: a fill's trade entry comes after a status entry in one message
        self.pairs, self.recorded = asset_pairs()
        self.instruments = {instrument(p).symbol: instrument(p) for p in self.pairs.values()}
        self.pair_of = {instrument(p).symbol: k for k, p in self.pairs.items()}
        self.symbol_of = {k: instrument(p).symbol for k, p in self.pairs.items()}
        self.nonces: dict[str, int] = {}
        self.tokens: set[str] = set()
        self._txids = itertools.count(1)
        self.core = ExchangeCore(
            self.instruments,
            balances=balances or DEFAULT_BALANCES,
            new_id=self._txid,
            trade_id=lambda symbol, n: self._tid(n),
            clock=self.now_ms,
        )
        self.core.on_order.append(self._order_event)
        self.core.on_balances.append(self._balance_event)
        self.core.on_trade.append(self._trade_event)
        self.core.on_book.append(self._book_event)
        self._books_sent: dict[str, tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]] = {}

    def _txid(self) -> str:
        n = next(self._txids)
        raw = hashlib.sha1(f"order{n}{id(self)}".encode()).hexdigest().upper()
        return f"O{raw[:5]}-{raw[5:10]}-{raw[10:16]}"

    @staticmethod
    def _tid(n: int) -> str:
        raw = hashlib.sha1(f"trade{n}".encode()).hexdigest().upper()
        return f"T{raw[:5]}-{raw[5:10]}-{raw[10:16]}"

    def reset(self, balances: dict[str, str] | None = None) -> None:
        self.faults.clear()
        self.mixed_executions = False
        self.core.reset(balances or DEFAULT_BALANCES)
        self._books_sent.clear()
        self.nonces.clear()

    # -- routes --------------------------------------------------------------------------------------
    def routes(self, r: web.UrlDispatcher) -> None:
        for name in ("Time", "Assets", "AssetPairs", "Ticker", "OHLC", "Depth", "Trades", "SystemStatus"):
            r.add_get(f"/0/public/{name}", getattr(self, f"pub_{name.lower()}"))
        for name in (
            "BalanceEx",
            "Balance",
            "AddOrder",
            "CancelOrder",
            "CancelAll",
            "QueryOrders",
            "OpenOrders",
            "ClosedOrders",
            "TradesHistory",
            "GetWebSocketsToken",
        ):
            r.add_post(f"/0/private/{name}", self._private_handler(name))
        r.add_get("/v2", self.ws_public)
        r.add_get("/v2-auth", self.ws_private)

    def fault_answer(self, kind: str, retry_after: float) -> web.Response:
        if kind == "429":  # Kraken answers 200 with its own error
            return web.json_response({"error": ["EAPI:Rate limit exceeded"]})
        if kind == "418":
            return web.json_response({"error": ["EGeneral:Temporary lockout"]})
        if kind == "5xx":
            return web.Response(status=503, text="Service Unavailable", content_type="text/html")
        return web.json_response({"error": ["EAPI:Invalid signature"]})

    def malformed(self) -> web.Response:
        return web.Response(status=200, text='{"error":[],"result":{"txid":', content_type="application/json")

    # -- public --------------------------------------------------------------------------------------
    @staticmethod
    def ok(result: Any) -> web.Response:
        return web.json_response({"error": [], "result": result})

    def _pair_param(self, request: web.Request) -> tuple[str, str]:
        pair = request.query.get("pair", "")
        for key, p in self.pairs.items():
            if pair in (key, p["altname"], p["wsname"]):
                return key, self.symbol_of[key]
        raise kraken_error("EQuery:Unknown asset pair")

    async def pub_time(self, request: web.Request) -> web.Response:
        now = self.now_ms()
        when = datetime.fromtimestamp(now / 1000, UTC)
        return self.ok({"unixtime": now // 1000, "rfc1123": format_datetime(when)})

    async def pub_systemstatus(self, request: web.Request) -> web.Response:
        return self.ok({"status": "online", "timestamp": iso(self.now_ms())})

    async def pub_assets(self, request: web.Request) -> web.Response:
        return self.ok(ASSETS)

    async def pub_assetpairs(self, request: web.Request) -> web.Response:
        return self.ok(self.pairs)

    async def pub_ticker(self, request: web.Request) -> web.Response:
        key, sym = self._pair_param(request)
        m = self.core.markets[sym]
        last = m.last or D(0)
        bid, ask = m.best()
        dec = int(self.pairs[key]["pair_decimals"])
        t = {
            "a": [s(ask[0], dec) if ask else "0", "1", "1.000"],
            "b": [s(bid[0], dec) if bid else "0", "1", "1.000"],
            "c": [s(last, dec), m.trades[-1]["qty"] if m.trades else "0"],
            "v": [s(m.volume_24h), s(m.volume_24h)],
            "p": [s(last, dec), s(last, dec)],
            "t": [len(m.trades), len(m.trades)],
            "l": [s(last, dec), s(last, dec)],
            "h": [s(last, dec), s(last, dec)],
            "o": s(m.open_24h or last, dec),
        }
        return self.ok({key: t})

    async def pub_ohlc(self, request: web.Request) -> web.Response:
        key, sym = self._pair_param(request)
        interval = INTERVALS.get(int(request.query.get("interval", "1")))
        if interval is None:
            raise kraken_error("EGeneral:Invalid arguments")
        since = int(request.query.get("since", "0")) * 1000
        rows = [k for k in self.core.markets[sym].klines.get(interval, []) if k.open_ms > since][-720:]
        dec = int(self.pairs[key]["pair_decimals"])
        out = [
            [
                k.open_ms // 1000,
                s(k.open, dec),
                s(k.high, dec),
                s(k.low, dec),
                s(k.close, dec),
                s(k.quote_volume / k.volume if k.volume else k.close, dec),
                s(k.volume),
                k.trades,
            ]
            for k in rows
        ]
        return self.ok({key: out, "last": rows[-1].open_ms // 1000 if rows else 0})

    async def pub_depth(self, request: web.Request) -> web.Response:
        key, sym = self._pair_param(request)
        count = int(request.query.get("count", "100"))
        m = self.core.markets[sym]
        dec = int(self.pairs[key]["pair_decimals"])
        ts = self.now_ms() // 1000
        bids = sorted(m.bids.items(), reverse=True)[:count]
        asks = sorted(m.asks.items())[:count]
        return self.ok(
            {
                key: {
                    "asks": [[s(p, dec), s(q, 3), ts] for p, q in asks],
                    "bids": [[s(p, dec), s(q, 3), ts] for p, q in bids],
                }
            }
        )

    async def pub_trades(self, request: web.Request) -> web.Response:
        key, sym = self._pair_param(request)
        count = int(request.query.get("count", "1000"))
        trades = self.core.markets[sym].trades[-count:]
        dec = int(self.pairs[key]["pair_decimals"])
        rows = [
            [
                s(D(t["price"]), 5 if dec < 5 else dec),
                s(D(t["qty"])),
                t["time"] / 1000,
                "s" if t["isBuyerMaker"] else "b",
                "l",
                "",
                t["id"],
            ]
            for t in trades
        ]
        last = str(trades[-1]["time"] * 1_000_000) if trades else "0"
        return self.ok({key: rows, "last": last})

    # -- private -------------------------------------------------------------------------------------
    def _private_handler(self, name: str) -> Any:
        async def handler(request: web.Request) -> web.Response:
            params = await self._signed(request)
            return await getattr(self, f"priv_{name.lower()}")(params)

        return handler

    async def _signed(self, request: web.Request) -> dict[str, str]:
        key = request.headers.get("API-Key", "")
        if key not in self.api_keys:
            raise kraken_error("EAPI:Invalid key")
        body = await request.text()
        if request.content_type == "application/json":
            params = {k: str(v) for k, v in json.loads(body or "{}").items()}
        else:
            params = dict(parse_qsl(body, keep_blank_values=True))
        nonce = params.get("nonce", "")
        try:
            secret = base64.b64decode(self.api_keys[key])
            digest = hashlib.sha256((nonce + body).encode()).digest()
            expected = hmac.new(secret, request.path.encode() + digest, hashlib.sha512).digest()
            given = base64.b64decode(request.headers.get("API-Sign", ""))
        except (binascii.Error, ValueError):
            raise kraken_error("EAPI:Invalid signature") from None
        if not hmac.compare_digest(expected, given):
            raise kraken_error("EAPI:Invalid signature")
        if not nonce.isdigit() or int(nonce) <= self.nonces.get(key, 0):
            raise kraken_error("EAPI:Invalid nonce")
        self.nonces[key] = int(nonce)
        return params

    def _balances(self) -> dict[str, dict[str, str]]:
        return {
            REST_ASSET.get(a, a): {"balance": s(b.total, 10), "hold_trade": s(b.locked, 10)}
            for a, b in sorted(self.core.ledger.balances().items())
        }

    async def priv_balanceex(self, params: dict[str, str]) -> web.Response:
        return self.ok(self._balances())

    async def priv_balance(self, params: dict[str, str]) -> web.Response:
        return self.ok({a: b["balance"] for a, b in self._balances().items()})

    async def priv_getwebsocketstoken(self, params: dict[str, str]) -> web.Response:
        token = base64.b64encode(secrets.token_bytes(32)).decode()
        self.tokens.add(token)
        return self.ok({"token": token, "expires": 900})

    @staticmethod
    def _dec(params: dict[str, str], name: str) -> Decimal | None:
        value = params.get(name)
        if value in (None, ""):
            return None
        try:
            return D(value)
        except InvalidOperation:
            raise kraken_error(f"EGeneral:Invalid arguments:{name}") from None

    def order_json(self, o: CoreOrder, *, trades: bool = False) -> dict[str, Any]:
        po = o.po
        key = self.pair_of[o.symbol]
        dec = int(self.pairs[key]["pair_decimals"])
        status = {
            OrderStatus.FILLED: "closed",
            OrderStatus.CANCELLED: "canceled",
            OrderStatus.EXPIRED: "expired",
            OrderStatus.REJECTED: "canceled",
        }.get(po.status, "open")
        side = po.side.value
        kind = o.kind
        trigger = po.stop_price
        limit = po.price
        if kind.startswith(("stop-loss", "take-profit")):
            price, price2 = trigger, limit
            words = "stop loss" if kind.startswith("stop") else "take profit"
            text = f"{side} {s(po.quantity)} {key} @ {words} {s(trigger or D(0), dec)}"
            if limit is not None:
                text += f" -> limit {s(limit, dec)}"
        elif kind == "limit":
            price, price2 = limit, None
            text = f"{side} {s(po.quantity)} {key} @ limit {s(limit or D(0), dec)}"
        else:
            price, price2 = None, None
            text = f"{side} {s(po.quantity)} {key} @ market"
        out: dict[str, Any] = {
            "refid": None,
            "userref": 0,
            "status": status,
            "opentm": o.created / 1000,
            "starttm": 0,
            "expiretm": 0,
            "descr": {
                "pair": key,
                "type": side,
                "ordertype": kind,
                "price": s(price, dec) if price is not None else "0",
                "price2": s(price2, dec) if price2 is not None else "0",
                "leverage": "none",
                "order": text,
                "close": "",
            },
            "vol": s(po.quantity),
            "vol_exec": s(po.filled),
            "cost": s(o.quote_filled, 5),
            "fee": s(o.fees, 5),
            "price": s(o.avg_price, dec),
            "stopprice": "0.00000",
            "limitprice": "0.00000",
            "misc": "",
            "oflags": ",".join(x for x in ("post" if po.post_only else "", "fciq") if x),
        }
        if o.client_id and o.extra.get("cl_ord_id"):
            out["cl_ord_id"] = o.extra["cl_ord_id"]
        if not o.is_open:
            out["closetm"] = o.updated / 1000
            out["reason"] = "User requested" if status == "canceled" else None
        if trades:
            out["trades"] = [f.trade_id for f in o.fills]
        return out

    async def priv_addorder(self, params: dict[str, str]) -> web.Response:
        key = params.get("pair", "")
        if key not in self.pairs:
            raise kraken_error("EQuery:Unknown asset pair")
        sym = self.symbol_of[key]
        side = {"buy": Side.BUY, "sell": Side.SELL}.get(params.get("type", ""))
        kind = params.get("ordertype", "")
        if side is None or kind not in ORDER_TYPES:
            raise kraken_error("EGeneral:Invalid arguments:ordertype")
        t = ORDER_TYPES[kind]
        volume = self._dec(params, "volume")
        price, price2 = self._dec(params, "price"), self._dec(params, "price2")
        if volume is None:
            raise kraken_error("EGeneral:Invalid arguments:volume")
        if t in (
            OrderType.STOP_MARKET,
            OrderType.STOP_LIMIT,
            OrderType.TAKE_PROFIT_MARKET,
            OrderType.TAKE_PROFIT_LIMIT,
        ):
            stop, limit = price, price2
        else:
            stop, limit = None, price
        if t.has_limit_price and limit is None:
            raise kraken_error("EGeneral:Invalid arguments:price")
        if t.has_trigger and stop is not None:
            last = self.core.markets[sym].last
            above = (side is Side.BUY) == t.is_stop
            if last is not None and ((above and stop <= last) or (not above and stop >= last)):
                raise kraken_error("EOrder:Invalid price:Trigger price would trigger immediately")
        flags = set((params.get("oflags") or "").split(","))
        tif = {"IOC": TimeInForce.IOC}.get(params.get("timeinforce", "GTC").upper(), TimeInForce.GTC)
        cl = params.get("cl_ord_id") or None
        if cl and cl in self.core.by_client and self.core.by_client[cl].is_open:
            raise kraken_error("EOrder:Duplicate cl_ord_id")
        if cl and cl in self.core.by_client:
            del self.core.by_client[cl]  # Kraken keeps a client id unique among open orders only
        try:
            o = self.core.place(
                sym,
                side,
                t,
                volume,
                price=limit,
                stop=stop,
                tif=tif,
                post_only="post" in flags,
                client_id=cl,
                kind=kind,
                extra={"cl_ord_id": cl},
                reject_crossing=False,
            )
        except CoreError as e:
            raise self._core_error(e) from None
        dec = int(self.pairs[key]["pair_decimals"])
        descr = self.order_json(o)["descr"]["order"]
        if kind == "limit":
            descr = f"{side.value} {s(volume)} {key} @ limit {s(limit or D(0), dec)}"
        return self.ok({"descr": {"order": descr}, "txid": [o.id]})

    @staticmethod
    def _core_error(e: CoreError) -> HttpError:
        if e.kind == "insufficient":
            return kraken_error("EOrder:Insufficient funds")
        if e.kind in ("min_total", "invalid"):
            return kraken_error("EOrder:Order minimum not met")
        if e.kind == "tick":
            return kraken_error("EOrder:Invalid price:Invalid price argument")
        if e.kind == "duplicate":
            return kraken_error("EOrder:Duplicate cl_ord_id")
        return kraken_error("EOrder:Unknown order")

    def _find(self, params: dict[str, str]) -> CoreOrder:
        try:
            if params.get("cl_ord_id"):
                return self.core.find(client_id=params["cl_ord_id"])
            return self.core.find(order_id=params.get("txid", ""))
        except CoreError:
            raise kraken_error("EOrder:Unknown order") from None

    async def priv_cancelorder(self, params: dict[str, str]) -> web.Response:
        o = self._find(params)
        if not o.is_open:
            raise kraken_error("EOrder:Unknown order")
        self.core.cancel(o)
        return self.ok({"count": 1})

    async def priv_cancelall(self, params: dict[str, str]) -> web.Response:
        n = 0
        for o in list(self.core.orders.values()):
            if o.is_open:
                self.core.cancel(o)
                n += 1
        return self.ok({"count": n})

    async def priv_queryorders(self, params: dict[str, str]) -> web.Response:
        with_trades = params.get("trades") in ("true", "True")
        out = {}
        for txid in params.get("txid", "").split(","):
            o = self.core.orders.get(txid)
            if o is not None:
                out[txid] = self.order_json(o, trades=with_trades)
        return self.ok(out)

    def _listing(self, params: dict[str, str], open_: bool) -> dict[str, Any]:
        cl = params.get("cl_ord_id")
        start = float(params.get("start") or 0) * 1000
        return {
            o.id: self.order_json(o, trades=params.get("trades") in ("true", "True"))
            for o in self.core.orders.values()
            if o.is_open == open_ and (cl is None or o.extra.get("cl_ord_id") == cl) and (open_ or o.updated >= start)
        }

    async def priv_openorders(self, params: dict[str, str]) -> web.Response:
        return self.ok({"open": self._listing(params, True)})

    async def priv_closedorders(self, params: dict[str, str]) -> web.Response:
        closed = self._listing(params, False)
        return self.ok({"closed": closed, "count": len(closed)})

    async def priv_tradeshistory(self, params: dict[str, str]) -> web.Response:
        start = float(params.get("start") or 0) * 1000
        out: dict[str, Any] = {}
        for o in self.core.orders.values():
            key = self.pair_of[o.symbol]
            dec = int(self.pairs[key]["pair_decimals"])
            for f in o.fills:
                if f.ts < start:
                    continue
                out[f.trade_id] = {
                    "ordertxid": o.id,
                    "postxid": "TKH2SE-M7IF5-CFI7LT",
                    "pair": key,
                    "time": f.ts / 1000,
                    "type": o.po.side.value,
                    "ordertype": o.kind,
                    "price": s(f.price, dec),
                    "cost": s(f.qty * f.price, 5),
                    "fee": s(f.fee, 5),
                    "vol": s(f.qty),
                    "margin": "0.00000",
                    "misc": "",
                    "trade_id": int(f.trade_id.replace("-", "")[1:6], 36),
                    "maker": f.maker,
                    "ledgers": [],
                }
        return self.ok({"trades": dict(sorted(out.items(), key=lambda kv: -kv[1]["time"])), "count": len(out)})

    # -- websockets v2 ---------------------------------------------------------------------------------
    async def ws_public(self, request: web.Request) -> web.WebSocketResponse:
        return await self.serve_ws(request, "public", self._ws_request)

    async def ws_private(self, request: web.Request) -> web.WebSocketResponse:
        return await self.serve_ws(request, "private", self._ws_request)

    def _ack(self, conn: Conn, msg: dict[str, Any], result: dict[str, Any] | None, error: str = "") -> None:
        now = iso(self.now_ms())
        out: dict[str, Any] = {"method": msg.get("method"), "success": not error, "time_in": now, "time_out": now}
        if result is not None:
            out["result"] = result
        if error:
            out["error"] = error
        if "req_id" in msg:
            out["req_id"] = msg["req_id"]
        conn.send(out)

    def _ws_request(self, conn: Conn, msg: Any) -> None:
        method = msg.get("method")
        if method == "ping":
            now = iso(self.now_ms())
            conn.send({"method": "pong", "req_id": msg.get("req_id"), "time_in": now, "time_out": now})
            return
        if method not in ("subscribe", "unsubscribe"):
            self._ack(conn, msg, None, "Method not found")
            return
        params = msg.get("params") or {}
        channel = params.get("channel")
        if channel in ("executions", "balances"):
            if conn.kind != "private" or params.get("token") not in self.tokens:
                self._ack(conn, msg, None, "ESession:Invalid session")
                return
            if method == "unsubscribe":
                conn.subs.pop(channel, None)
            else:
                conn.subs[channel] = params
                conn.state.setdefault("sequence", 0)
                self._ack(conn, msg, {"channel": channel, "snapshot": True})
                self._private_snapshot(conn, channel)
            return
        symbols = params.get("symbol") or []
        for symbol in symbols:
            if symbol not in self.core.markets:
                self._ack(conn, msg, None, f"Currency pair not supported {symbol}")
                return
            key = f"{channel}:{symbol}"
            if method == "unsubscribe":
                conn.subs.pop(key, None)
                continue
            conn.subs[key] = params
            self._ack(conn, msg, {"channel": channel, "symbol": symbol, "snapshot": True})
            if channel == "book":
                conn.send(self._book_message(symbol, "snapshot", int(params.get("depth", 10))))
                conn.state[f"book:{symbol}"] = self._book_state(symbol, int(params.get("depth", 10)))
            elif channel == "ticker" and self.core.markets[symbol].last is not None:
                conn.send(self._ticker_message(symbol, "snapshot"))

    # book: levels and the CRC32 checksum Kraken computes over the top ten of each side
    def _book_state(self, sym: str, depth: int) -> tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]:
        m = self.core.markets[sym]
        return (
            dict(sorted(m.bids.items(), reverse=True)[:depth]),
            dict(sorted(m.asks.items())[:depth]),
        )

    def _checksum(self, sym: str, bids: dict[Decimal, Decimal], asks: dict[Decimal, Decimal]) -> int:
        key = self.pair_of[sym]
        pd, ld = int(self.pairs[key]["pair_decimals"]), int(self.pairs[key]["lot_decimals"])
        text = "".join(checksum_text(p, pd) + checksum_text(q, ld) for p, q in sorted(asks.items())[:10])
        text += "".join(checksum_text(p, pd) + checksum_text(q, ld) for p, q in sorted(bids.items(), reverse=True)[:10])
        return zlib.crc32(text.encode()) & 0xFFFFFFFF

    def _corrupt(self) -> int:
        """A fault: the next book update's checksum is not the book's (an update got lost)."""
        gap, self.faults.book_gap = self.faults.book_gap, 0
        return 1 if gap else 0

    def _book_message(self, sym: str, kind: str, depth: int) -> dict[str, Any]:
        bids, asks = self._book_state(sym, depth)
        return {
            "channel": "book",
            "type": kind,
            "data": [
                {
                    "symbol": sym,
                    "bids": [{"price": num(p), "qty": num(q)} for p, q in bids.items()],
                    "asks": [{"price": num(p), "qty": num(q)} for p, q in asks.items()],
                    "checksum": self._checksum(sym, bids, asks),
                    "timestamp": iso(self.now_ms()),
                }
            ],
        }

    def _book_event(self, sym: str) -> None:
        for c in list(self.conns):
            params = c.subs.get(f"book:{sym}")
            if params is None:
                continue
            depth = int(params.get("depth", 10))
            old_b, old_a = c.state.get(f"book:{sym}", ({}, {}))
            new_b, new_a = self._book_state(sym, depth)
            db = [(p, new_b.get(p, D(0))) for p in set(old_b) | set(new_b) if old_b.get(p) != new_b.get(p)]
            da = [(p, new_a.get(p, D(0))) for p in set(old_a) | set(new_a) if old_a.get(p) != new_a.get(p)]
            c.state[f"book:{sym}"] = (new_b, new_a)
            if not db and not da:
                continue
            c.send(
                {
                    "channel": "book",
                    "type": "update",
                    "data": [
                        {
                            "symbol": sym,
                            "bids": [{"price": num(p), "qty": num(q)} for p, q in sorted(db, reverse=True)],
                            "asks": [{"price": num(p), "qty": num(q)} for p, q in sorted(da)],
                            "checksum": self._checksum(sym, new_b, new_a) ^ self._corrupt(),
                            "timestamp": iso(self.now_ms()),
                        }
                    ],
                }
            )

    def _ticker_message(self, sym: str, kind: str) -> dict[str, Any]:
        m = self.core.markets[sym]
        last = m.last or D(0)
        bid, ask = m.best()
        opened = m.open_24h or last
        return {
            "channel": "ticker",
            "type": kind,
            "data": [
                {
                    "symbol": sym,
                    "bid": num(bid[0]) if bid else 0,
                    "bid_qty": num(bid[1]) if bid else 0,
                    "ask": num(ask[0]) if ask else 0,
                    "ask_qty": num(ask[1]) if ask else 0,
                    "last": num(last),
                    "volume": num(m.volume_24h),
                    "vwap": num(last),
                    "low": num(last),
                    "high": num(last),
                    "change": num(last - opened),
                    "change_pct": float(((last - opened) / opened * 100).quantize(D("0.01"))) if opened else 0,
                    "timestamp": iso(self.now_ms()),
                }
            ],
        }

    def _publish(self, key: str, payload: dict[str, Any]) -> None:
        text = json.dumps(payload, separators=(",", ":"))
        for c in list(self.conns):
            if key in c.subs:
                c.send(text)

    def _trade_event(self, sym: str, rec: dict[str, Any]) -> None:
        self._publish(
            f"trade:{sym}",
            {
                "channel": "trade",
                "type": "update",
                "data": [
                    {
                        "symbol": sym,
                        "side": "sell" if rec["isBuyerMaker"] else "buy",
                        "price": num(D(rec["price"])),
                        "qty": num(D(rec["qty"])),
                        "ord_type": "limit",
                        "trade_id": rec["id"],
                        "timestamp": iso(rec["time"]),
                    }
                ],
            },
        )
        self._publish(f"ticker:{sym}", self._ticker_message(sym, "update"))
        m = self.core.markets[sym]
        for interval_min, interval in INTERVALS.items():
            rows = m.klines.get(interval)
            if not rows:
                continue
            k = rows[-1]
            self._publish(
                f"ohlc:{sym}",
                {
                    "channel": "ohlc",
                    "type": "update",
                    "timestamp": iso(self.now_ms()),
                    "data": [
                        {
                            "symbol": sym,
                            "open": num(k.open),
                            "high": num(k.high),
                            "low": num(k.low),
                            "close": num(k.close),
                            "trades": k.trades,
                            "volume": num(k.volume),
                            "vwap": num(k.quote_volume / k.volume if k.volume else k.close),
                            "interval_begin": datetime.fromtimestamp(k.open_ms / 1000, UTC).strftime(
                                "%Y-%m-%dT%H:%M:%S.000000000Z"
                            ),
                            "interval": interval_min,
                            "timestamp": iso(k.open_ms + interval_min * 60_000),
                        }
                    ],
                },
            )

    # executions and balances
    def _private_send(self, channel: str, kind: str, data: list[dict[str, Any]]) -> None:
        for c in list(self.conns):
            if channel in c.subs:
                c.state["sequence"] = c.state.get("sequence", 0) + 1
                c.send({"channel": channel, "type": kind, "data": data, "sequence": c.state["sequence"]})

    def _private_snapshot(self, conn: Conn, channel: str) -> None:
        conn.state["sequence"] = conn.state.get("sequence", 0) + 1
        if channel == "balances":
            data = [
                {
                    "asset": a,
                    "asset_class": "currency",
                    "balance": num(b.total),
                    "wallets": [{"type": "spot", "id": "main", "balance": num(b.total)}],
                }
                for a, b in sorted(self.core.ledger.balances().items())
            ]
        else:
            data = [self._execution(o, "new") for o in self.core.orders.values() if o.is_open]
        conn.send({"channel": channel, "type": "snapshot", "data": data, "sequence": conn.state["sequence"]})

    def _execution(self, o: CoreOrder, exec_type: str, fill: CoreFill | None = None) -> dict[str, Any]:
        po = o.po
        now = iso(self.now_ms())
        status = {
            OrderStatus.FILLED: "filled",
            OrderStatus.CANCELLED: "canceled",
            OrderStatus.EXPIRED: "expired",
            OrderStatus.REJECTED: "canceled",
        }.get(po.status, "partially_filled" if po.filled > 0 else "new")
        if exec_type in ("canceled", "expired"):
            return {
                "timestamp": now,
                "order_status": status,
                "exec_type": exec_type,
                "order_userref": 0,
                "order_id": o.id,
                "cum_qty": num(po.filled),
                "cum_cost": num(o.quote_filled),
                "fee_usd_equiv": num(o.fees),
                "avg_price": num(o.avg_price),
                "cancel_reason": "User requested" if exec_type == "canceled" else "Order expired",
                "reason": "User requested" if exec_type == "canceled" else "Order expired",
            }
        out: dict[str, Any] = {
            "order_id": o.id,
            "symbol": o.symbol,
            "order_qty": num(po.quantity),
            "cum_cost": num(o.quote_filled),
            "time_in_force": "IOC" if po.tif is TimeInForce.IOC else "GTC",
            "exec_type": exec_type,
            "side": po.side.value,
            "order_type": o.kind,
            "order_userref": 0,
            "limit_price_type": "static",
            "limit_price": num(po.price) if po.price is not None else 0.0,
            "stop_price": num(po.stop_price) if po.stop_price is not None else 0.0,
            "order_status": status,
            "fee_usd_equiv": num(o.fees),
            "fee_ccy_pref": "fciq",
            "timestamp": now,
        }
        if o.extra.get("cl_ord_id"):
            out["cl_ord_id"] = o.extra["cl_ord_id"]
        if fill is not None:
            out = {
                "order_id": o.id,
                "cl_ord_id": o.extra.get("cl_ord_id"),
                "exec_id": fill.trade_id,
                "exec_type": "trade",
                "trade_id": int(fill.trade_id.replace("-", "")[1:6], 36),
                "symbol": o.symbol,
                "side": po.side.value,
                "last_qty": num(fill.qty),
                "last_price": num(fill.price),
                "liquidity_ind": "m" if fill.maker else "t",
                "cost": num(fill.qty * fill.price),
                "order_userref": 0,
                "order_status": status,
                "order_type": o.kind,
                "fee_usd_equiv": num(fill.fee),
                "fees": [{"asset": self.instruments[o.symbol].quote, "qty": num(fill.fee)}],
                "timestamp": iso(fill.ts),
            }
            if not o.extra.get("cl_ord_id"):
                del out["cl_ord_id"]
        return out

    def _order_event(self, o: CoreOrder, what: str, fill: CoreFill | None) -> None:
        if what == "new":
            self._private_send("executions", "update", [self._execution(o, "pending_new")])
            self._private_send("executions", "update", [self._execution(o, "new")])
        elif what == "fill" and fill is not None and self.mixed_executions:
            # A fault: one message whose first entry is an order status, the trade after it.
            self._private_send("executions", "update", [self._execution(o, "new"), self._execution(o, "trade", fill)])
            if o.po.status is OrderStatus.FILLED:
                self._private_send("executions", "update", [self._execution(o, "filled")])
        elif what == "fill" and fill is not None:
            self._private_send("executions", "update", [self._execution(o, "trade", fill)])
            if o.po.status is OrderStatus.FILLED:
                self._private_send("executions", "update", [self._execution(o, "filled")])
        elif what in ("cancel", "reject"):
            self._private_send("executions", "update", [self._execution(o, "canceled")])
        elif what == "expire":
            self._private_send("executions", "update", [self._execution(o, "expired")])

    def _balance_event(self, changed: set[str]) -> None:
        bal = self.core.ledger.balances()
        now = iso(self.now_ms())
        data = [
            {
                "asset": a,
                "asset_class": "currency",
                "amount": 0,
                "balance": num(bal[a].total),
                "fee": 0,
                "ledger_id": secrets.token_hex(8).upper(),
                "ref_id": secrets.token_hex(8).upper(),
                "timestamp": now,
                "type": "trade",
                "subtype": "",
                "category": "trade",
                "wallet_type": "spot",
                "wallet_id": "main",
            }
            for a in sorted(changed)
            if a in bal
        ]
        if data:
            self._private_send("balances", "update", data)

    def user_subscribed(self) -> bool:
        return any("executions" in c.subs and "balances" in c.subs for c in self.conns if not c.silent)
