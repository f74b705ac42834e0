"""A loopback Upbit (KRW market): REST ``/v1`` (markets, candles, trades, ticker, orderbook, accounts,
orders by uuid or identifier, open and closed orders) and the websockets ``/websocket/v1``
(ticker, trade, orderbook as full snapshots) and ``/websocket/v1/private`` (myOrder, myAsset),
binary frames as Upbit sends them, the paper ``MatchingCore`` behind.

Private requests are checked as Upbit checks them: a JWT (HS256 with the secret) in
``Authorization: Bearer``, its ``access_key`` known, its ``nonce`` never reused, and its
``query_hash`` (SHA512 of the query or body parameters) matching what was sent. Orders are checked
against the price unit of their price band and the 5,000 KRW minimum.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl, unquote

from aiohttp import web

from app.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from app.domain.instrument import Instrument
from app.domain.money import fmt
from app.venues.ccxt.upbit import MIN_TOTAL, tick_for

from ..base import Conn, HttpError, LoopbackBase
from ..core import CoreError, CoreFill, CoreOrder, ExchangeCore

API_KEY = "loopback-upbit-access"
SECRET = "loopback-upbit-secret"
DEFAULT_BALANCES = {"KRW": "100000000", "BTC": "1", "ETH": "10", "XRP": "10000", "USDT": "1000"}
MARKETS = (  # id, korean name, english name
    ("KRW-BTC", "비트코인", "Bitcoin"),
    ("KRW-ETH", "이더리움", "Ethereum"),
    ("KRW-XRP", "리플", "XRP"),
    ("KRW-USDT", "테더", "Tether"),
    ("BTC-ETH", "이더리움", "Ethereum"),
)
FEE = {"KRW": Decimal("0.0005"), "BTC": Decimal("0.0025")}
KST = timedelta(hours=9)
UNITS = {1: "1m", 3: "3m", 5: "5m", 10: "10m", 15: "15m", 30: "30m", 60: "1h", 240: "4h"}
D = Decimal


def unified(market_id: str) -> str:
    quote, base = market_id.split("-")
    return f"{base}/{quote}"


def market_id(symbol: str) -> str:
    base, quote = symbol.split("/")
    return f"{quote}-{base}"


def num(d: Decimal) -> float | int:
    """Upbit's quotation and websocket numbers are JSON numbers."""
    return int(d) if d == d.to_integral_value() and abs(d) < 2**53 else float(d)


def iso_kst(ms: int) -> str:
    return (datetime.fromtimestamp(ms / 1000, UTC) + KST).strftime("%Y-%m-%dT%H:%M:%S+09:00")


def instrument(mid: str) -> Instrument:
    sym = unified(mid)
    base, quote = sym.split("/")
    fee = FEE.get(quote, D("0.0025"))
    return Instrument(
        venue="loopback",
        symbol=sym,
        base=base,
        quote=quote,
        tick_size=D("0.00000001"),
        lot_step=D("0.00000001"),
        min_notional=MIN_TOTAL.get(quote, D(0)),
        maker_fee=fee,
        taker_fee=fee,
    )


def error(status: int, name: str, message: str) -> HttpError:
    return HttpError(status, {"error": {"name": name, "message": message}})


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


class UpbitLoopback(LoopbackBase):
    def __init__(self, *, balances: dict[str, str] | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self.api_keys = {API_KEY: SECRET}
        self.trade_fees_in_orders = True  # False: GET /v1/order's trades carry no fee, only the order's paid_fee
        self.instruments = {unified(m): instrument(m) for m, _k, _e in MARKETS}
        self.nonces: set[str] = set()
        self._seq = itertools.count(1)
        self.core = ExchangeCore(
            self.instruments,
            balances=balances or DEFAULT_BALANCES,
            new_id=lambda: str(uuid.uuid4()),
            trade_id=lambda symbol, n: str(uuid.uuid4()),
            tick=lambda inst, price: tick_for(inst.quote, price, inst.base),
            clock=self.now_ms,
        )
        self.core.on_order.append(self._order_event)
        self.core.on_balances.append(self._asset_event)
        self.core.on_trade.append(self._trade_event)
        self.core.on_book.append(self._book_event)

    def reset(self, balances: dict[str, str] | None = None) -> None:
        self.faults.clear()
        self.trade_fees_in_orders = True
        self.core.reset(balances or DEFAULT_BALANCES)

    # -- routes --------------------------------------------------------------------------------------
    def routes(self, r: web.UrlDispatcher) -> None:
        r.add_get("/v1/market/all", self.market_all)
        r.add_get("/v1/candles/minutes/{unit}", self.candles)
        r.add_get("/v1/candles/{period}", self.candles)
        r.add_get("/v1/trades/ticks", self.ticks)
        r.add_get("/v1/ticker", self.ticker)
        r.add_get("/v1/orderbook", self.orderbook)
        r.add_get("/v1/orderbook/instruments", self.orderbook_instruments)
        r.add_get("/v1/accounts", self.accounts)
        r.add_post("/v1/orders", self.new_order)
        r.add_get("/v1/order", self.get_order)
        r.add_delete("/v1/order", self.cancel_order)
        r.add_get("/v1/orders/open", self.open_orders)
        r.add_get("/v1/orders/closed", self.closed_orders)
        r.add_get("/websocket/v1", self.ws_public)
        r.add_get("/websocket/v1/private", self.ws_private)

    def fault_answer(self, kind: str, retry_after: float) -> web.Response:
        if kind == "429":  # Upbit answers a burst in plain text (Remaining-Req tells the budget)
            return web.Response(
                status=429,
                text="Too many API requests.",
                headers={"Retry-After": f"{retry_after:g}", "Remaining-Req": "group=default; min=0; sec=0"},
            )
        if kind == "418":
            return web.Response(
                status=418,
                text="You have been blocked for making too many requests.",
                headers={"Retry-After": f"{retry_after:g}"},
            )
        if kind == "5xx":
            return web.Response(status=503, text="Service Unavailable", content_type="text/html")
        body = {"error": {"name": "jwt_verification", "message": "Jwt 토큰 검증에 실패했습니다."}}
        return web.json_response(body, status=401)

    # -- auth ----------------------------------------------------------------------------------------
    def _verify(self, token: str, query: str | None, *, rest: bool = True) -> None:
        try:
            head, payload, sig = token.split(".")
            claims = json.loads(_b64(payload))
            header = json.loads(_b64(head))
        except ValueError:
            raise error(401, "jwt_verification", "Jwt 토큰 검증에 실패했습니다.") from None
        key = claims.get("access_key")
        if key not in self.api_keys:
            raise error(401, "invalid_access_key", "잘못된 엑세스 키입니다.")
        if header.get("alg") != "HS256":
            raise error(401, "jwt_verification", "Jwt 토큰 검증에 실패했습니다.")
        expected = hmac.new(self.api_keys[key].encode(), f"{head}.{payload}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _b64(sig)):
            raise error(401, "jwt_verification", "Jwt 토큰 검증에 실패했습니다.")
        if rest:
            nonce = str(claims.get("nonce") or "")
            if not nonce or nonce in self.nonces:
                raise error(401, "invalid_query_payload", "nonce가 이미 사용되었습니다.")
            self.nonces.add(nonce)
        if query:
            digest = hashlib.sha512(query.encode()).hexdigest()
            if claims.get("query_hash") != digest or claims.get("query_hash_alg", "SHA512") != "SHA512":
                raise error(401, "invalid_query_payload", "query_hash가 요청과 일치하지 않습니다.")
        elif claims.get("query_hash"):
            raise error(401, "invalid_query_payload", "query_hash가 요청과 일치하지 않습니다.")

    async def _private(self, request: web.Request) -> dict[str, str]:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            raise error(401, "no_authorization_token", "인증 정보가 없습니다.")
        if request.method == "POST":
            text = await request.text()
            try:
                body = json.loads(text) if text else {}
            except ValueError:
                raise error(400, "invalid_parameter", "잘못된 요청입니다.") from None
            params = {str(k): "true" if v is True else "false" if v is False else str(v) for k, v in body.items()}
            query = "&".join(f"{k}={v}" for k, v in params.items())
        else:
            query = unquote(request.query_string)
            params = dict(parse_qsl(request.query_string, keep_blank_values=True))
        self._verify(auth[7:], query or None)
        return params

    # -- quotation -----------------------------------------------------------------------------------
    def _market(self, mid: str | None) -> str:
        if not mid or mid not in {m for m, _k, _e in MARKETS}:
            raise error(404, "Code not found", "Code not found")
        return unified(mid)

    async def market_all(self, request: web.Request) -> web.Response:
        return web.json_response(
            [
                {
                    "market": m,
                    "korean_name": k,
                    "english_name": e,
                    "market_event": {
                        "warning": False,
                        "caution": {
                            "PRICE_FLUCTUATIONS": False,
                            "TRADING_VOLUME_SOARING": False,
                            "DEPOSIT_AMOUNT_SOARING": False,
                            "GLOBAL_PRICE_DIFFERENCES": False,
                            "CONCENTRATION_OF_SMALL_ACCOUNTS": False,
                        },
                    },
                }
                for m, k, e in MARKETS
            ]
        )

    async def candles(self, request: web.Request) -> web.Response:
        q = request.query
        sym = self._market(q.get("market"))
        if "unit" in request.match_info:
            unit = int(request.match_info["unit"])
            interval = UNITS.get(unit)
            if interval is None:
                raise error(400, "invalid_parameter", "unit is invalid")
        else:
            period = request.match_info["period"]
            interval = {"days": "1d", "seconds": "1s", "weeks": "1w", "months": "1M"}.get(period, "")
            unit = 0
        count = min(int(q.get("count", "1")), 200)
        rows = list(self.core.markets[sym].klines.get(interval, []))
        if q.get("to"):
            to = datetime.fromisoformat(q["to"].replace("Z", "+00:00"))
            to_ms = int((to if to.tzinfo else to.replace(tzinfo=UTC)).timestamp() * 1000)
            rows = [k for k in rows if k.open_ms < to_ms]
        rows = rows[-count:][::-1]  # newest first
        out = []
        for k in rows:
            utc = datetime.fromtimestamp(k.open_ms / 1000, UTC)
            row: dict[str, Any] = {
                "market": market_id(sym),
                "candle_date_time_utc": utc.strftime("%Y-%m-%dT%H:%M:%S"),
                "candle_date_time_kst": (utc + KST).strftime("%Y-%m-%dT%H:%M:%S"),
                "opening_price": num(k.open),
                "high_price": num(k.high),
                "low_price": num(k.low),
                "trade_price": num(k.close),
                "timestamp": k.open_ms,
                "candle_acc_trade_price": num(k.quote_volume),
                "candle_acc_trade_volume": num(k.volume),
            }
            if unit:
                row["unit"] = unit
            else:
                row["prev_closing_price"] = num(k.open)
                row["change_price"] = num(k.close - k.open)
                row["change_rate"] = float((k.close - k.open) / k.open) if k.open else 0
            out.append(row)
        return web.json_response(out)

    def _trade_json(self, sym: str, t: dict[str, Any], ws: bool = False) -> dict[str, Any]:
        price, qty = D(t["price"]), D(t["qty"])
        utc = datetime.fromtimestamp(t["time"] / 1000, UTC)
        m = self.core.markets[sym]
        prev = m.open_24h or price
        out: dict[str, Any] = {
            "market": market_id(sym),
            "trade_date_utc": utc.strftime("%Y-%m-%d"),
            "trade_time_utc": utc.strftime("%H:%M:%S"),
            "timestamp": t["time"],
            "trade_price": num(price),
            "trade_volume": num(qty),
            "prev_closing_price": num(prev),
            "change_price": num(price - prev),
            "ask_bid": "ASK" if t["isBuyerMaker"] else "BID",
            "sequential_id": t["time"] * 1000 + t["id"] % 1000,
        }
        if ws:
            out = {
                "type": "trade",
                "code": out.pop("market"),
                "timestamp": out["timestamp"],
                "trade_date": out.pop("trade_date_utc"),
                "trade_time": out.pop("trade_time_utc"),
                "trade_timestamp": t["time"],
                **{k: v for k, v in out.items() if k != "timestamp"},
                "change": "RISE" if price > prev else "FALL" if price < prev else "EVEN",
                "best_ask_price": num(min(m.asks)) if m.asks else None,
                "best_ask_size": num(m.asks[min(m.asks)]) if m.asks else None,
                "best_bid_price": num(max(m.bids)) if m.bids else None,
                "best_bid_size": num(m.bids[max(m.bids)]) if m.bids else None,
                "stream_type": "REALTIME",
            }
        return out

    async def ticks(self, request: web.Request) -> web.Response:
        sym = self._market(request.query.get("market"))
        count = min(int(request.query.get("count", "1")), 500)
        trades = self.core.markets[sym].trades[-count:][::-1]
        return web.json_response([self._trade_json(sym, t) for t in trades])

    def _ticker_json(self, sym: str) -> dict[str, Any]:
        m = self.core.markets[sym]
        now = self.now_ms()
        last = m.last or D(0)
        opened = m.open_24h or last
        change = last - opened
        rate = (change / opened) if opened else D(0)
        utc = datetime.fromtimestamp((m.trades[-1]["time"] if m.trades else now) / 1000, UTC)
        prices = [D(t["price"]) for t in m.trades[-1000:]] or [last]
        return {
            "market": market_id(sym),
            "trade_date": utc.strftime("%Y%m%d"),
            "trade_time": utc.strftime("%H%M%S"),
            "trade_date_kst": (utc + KST).strftime("%Y%m%d"),
            "trade_time_kst": (utc + KST).strftime("%H%M%S"),
            "trade_timestamp": m.trades[-1]["time"] if m.trades else now,
            "opening_price": num(opened),
            "high_price": num(max(prices)),
            "low_price": num(min(prices)),
            "trade_price": num(last),
            "prev_closing_price": num(opened),
            "change": "RISE" if change > 0 else "FALL" if change < 0 else "EVEN",
            "change_price": num(abs(change)),
            "change_rate": float(abs(rate)),
            "signed_change_price": num(change),
            "signed_change_rate": float(rate),
            "trade_volume": num(D(m.trades[-1]["qty"])) if m.trades else 0,
            "acc_trade_price": num(m.volume_24h * last),
            "acc_trade_price_24h": num(m.volume_24h * last),
            "acc_trade_volume": num(m.volume_24h),
            "acc_trade_volume_24h": num(m.volume_24h),
            "highest_52_week_price": num(max(prices)),
            "highest_52_week_date": utc.strftime("%Y-%m-%d"),
            "lowest_52_week_price": num(min(prices)),
            "lowest_52_week_date": utc.strftime("%Y-%m-%d"),
            "timestamp": now,
        }

    async def ticker(self, request: web.Request) -> web.Response:
        ids = [x for x in request.query.get("markets", "").split(",") if x]
        if not ids:
            raise error(400, "invalid_parameter", "markets is required")
        return web.json_response([self._ticker_json(self._market(m)) for m in ids])

    def _book_json(self, sym: str, count: int = 15) -> dict[str, Any]:
        m = self.core.markets[sym]
        bids = sorted(m.bids.items(), reverse=True)[:count]
        asks = sorted(m.asks.items())[:count]
        units = []
        for i in range(max(len(bids), len(asks))):
            units.append(
                {
                    "ask_price": num(asks[i][0]) if i < len(asks) else 0,
                    "bid_price": num(bids[i][0]) if i < len(bids) else 0,
                    "ask_size": num(asks[i][1]) if i < len(asks) else 0,
                    "bid_size": num(bids[i][1]) if i < len(bids) else 0,
                }
            )
        return {
            "market": market_id(sym),
            "timestamp": self.now_ms(),
            "total_ask_size": num(sum((q for _p, q in asks), D(0))),
            "total_bid_size": num(sum((q for _p, q in bids), D(0))),
            "orderbook_units": units,
            "level": 0,
        }

    async def orderbook(self, request: web.Request) -> web.Response:
        ids = [x for x in request.query.get("markets", "").split(",") if x]
        count = min(int(request.query.get("count", "15")), 30)
        return web.json_response([self._book_json(self._market(m), count) for m in ids])

    async def orderbook_instruments(self, request: web.Request) -> web.Response:
        """Each market's price unit at its price now (and the grouping levels of its book)."""
        out = []
        for mid in [x for x in request.query.get("markets", "").split(",") if x]:
            sym = self._market(mid)
            m, inst = self.core.markets[sym], self.instruments[sym]
            ref = m.last or (max(m.bids) if m.bids else None)
            if ref is None:
                continue
            tick = tick_for(inst.quote, ref, inst.base)
            out.append(
                {
                    "market": mid,
                    "quote_currency": inst.quote,
                    "tick_size": fmt(tick),
                    "supported_levels": [fmt(tick * k) for k in (0, 10, 100)],
                }
            )
        return web.json_response(out)

    # -- exchange --------------------------------------------------------------------------------------
    async def accounts(self, request: web.Request) -> web.Response:
        await self._private(request)
        return web.json_response(
            [
                {
                    "currency": a,
                    "balance": fmt(b.free),
                    "locked": fmt(b.locked),
                    "avg_buy_price": "0",
                    "avg_buy_price_modified": False,
                    "unit_currency": "KRW",
                }
                for a, b in sorted(self.core.ledger.balances().items())
            ]
        )

    @staticmethod
    def _dec(params: dict[str, str], name: str) -> Decimal | None:
        value = params.get(name)
        if value in (None, "", "None"):
            return None
        try:
            return D(value)
        except InvalidOperation:
            raise error(400, "invalid_parameter", f"{name} is invalid") from None

    def order_json(self, o: CoreOrder, *, trades: bool = False) -> dict[str, Any]:
        po = o.po
        fee_rate = self.instruments[o.symbol].taker_fee
        side = "bid" if po.side is Side.BUY else "ask"
        state = "wait" if o.is_open else "done" if po.status is OrderStatus.FILLED else "cancel"
        remaining = po.quantity - po.filled
        ord_type = o.kind
        price = po.price
        if ord_type == "price":  # a market buy by KRW amount: its price is the amount
            price = o.extra["funds"]
        reserved_fee = (po.quantity * (price or D(0)) * fee_rate) if side == "bid" and po.price is not None else D(0)
        out: dict[str, Any] = {
            "uuid": o.id,
            "side": side,
            "ord_type": ord_type,
            "price": fmt(price) if price is not None else None,
            "state": state,
            "market": market_id(o.symbol),
            "created_at": iso_kst(o.created),
            "volume": fmt(po.quantity) if ord_type != "price" else None,
            "remaining_volume": fmt(remaining) if ord_type != "price" else None,
            "reserved_fee": fmt(reserved_fee),
            "remaining_fee": fmt(max(reserved_fee - o.fees, D(0))) if o.is_open else "0",
            "paid_fee": fmt(o.fees),
            "locked": fmt(po.reserved),
            "executed_volume": fmt(po.filled),
            "executed_funds": fmt(o.quote_filled),
            "trades_count": len(o.fills),
        }
        if o.extra.get("time_in_force"):
            out["time_in_force"] = o.extra["time_in_force"]
        if o.extra.get("identifier"):
            out["identifier"] = o.extra["identifier"]
        if trades:
            out["trades"] = [
                {
                    "market": market_id(o.symbol),
                    "uuid": f.trade_id,
                    "price": fmt(f.price),
                    "volume": fmt(f.qty),
                    "funds": fmt(f.qty * f.price),
                    "trend": "up" if side == "bid" else "down",
                    "created_at": iso_kst(f.ts),
                    "side": side,
                    **({f"{side}_fee": fmt(f.fee)} if self.trade_fees_in_orders else {}),
                }
                for f in o.fills
            ]
        return out

    async def new_order(self, request: web.Request) -> web.Response:
        params = await self._private(request)
        sym = self._market(params.get("market"))
        side = {"bid": Side.BUY, "ask": Side.SELL}.get(params.get("side", ""))
        if side is None:
            raise error(400, "validation_error", "side is missing, side does not have a valid value")
        ord_type = params.get("ord_type", "")
        tif_raw = params.get("time_in_force", "")
        volume, price = self._dec(params, "volume"), self._dec(params, "price")
        identifier = params.get("identifier") or None
        if identifier and identifier in self.core.by_client:
            raise error(400, "duplicate_identifier", "identifier가 중복되었습니다.")
        tif = {"ioc": TimeInForce.IOC, "fok": TimeInForce.FOK}.get(tif_raw, TimeInForce.GTC)
        extra: dict[str, Any] = {"identifier": identifier, "time_in_force": tif_raw or None}
        post_only = tif_raw == "post_only"
        ab = "bid" if side is Side.BUY else "ask"
        if ord_type == "limit":
            if volume is None or price is None:
                raise error(400, "validation_error", "volume and price are required for a limit order")
            args = (OrderType.LIMIT, volume, price)
        elif ord_type == "market" and side is Side.SELL:
            if volume is None:
                raise error(400, "validation_error", "volume is required for a market sell")
            args = (OrderType.MARKET, volume, None)
        elif ord_type == "price" and side is Side.BUY:
            raise error(400, "invalid_ord_type", "시장가 매수(price)는 이 루프백에서 지원하지 않습니다.")
        else:
            raise error(400, "validation_error", "ord_type does not have a valid value")
        try:
            o = self.core.place(
                sym,
                side,
                args[0],
                args[1],
                price=args[2],
                tif=tif,
                post_only=post_only,
                client_id=identifier,
                kind=ord_type,
                extra=extra,
                reject_crossing=False,
            )
        except CoreError as e:
            raise self._core_error(e, ab) from None
        return web.json_response(self.order_json(o), status=201)

    @staticmethod
    def _core_error(e: CoreError, ab: str) -> HttpError:
        if e.kind == "insufficient":
            return error(400, f"insufficient_funds_{ab}", "주문가능한 금액이 부족합니다.")
        if e.kind == "min_total":
            return error(400, f"under_min_total_{ab}", "최소주문금액 이상으로 주문해주세요")
        if e.kind == "tick":
            return error(400, "invalid_price", "주문 가격 단위를 잘못 입력하셨습니다. 확인 후 시도해주세요.")
        if e.kind == "duplicate":
            return error(400, "duplicate_identifier", "identifier가 중복되었습니다.")
        if e.kind in ("not_found", "not_open"):
            return error(404, "order_not_found", "주문을 찾지 못했습니다.")
        return error(400, "invalid_volume", e.msg)

    def _find(self, params: dict[str, str]) -> CoreOrder:
        try:
            if params.get("uuid"):
                return self.core.find(order_id=params["uuid"])
            if params.get("identifier"):
                return self.core.find(client_id=params["identifier"])
        except CoreError:
            raise error(404, "order_not_found", "주문을 찾지 못했습니다.") from None
        raise error(400, "validation_error", "uuid or identifier is required")

    async def get_order(self, request: web.Request) -> web.Response:
        params = await self._private(request)
        return web.json_response(self.order_json(self._find(params), trades=True))

    async def cancel_order(self, request: web.Request) -> web.Response:
        params = await self._private(request)
        o = self._find(params)
        if not o.is_open:
            raise error(400, "order_not_found", "주문을 찾지 못했습니다.")
        answer = self.order_json(o)  # as it was when the cancel was asked
        self.core.cancel(o)
        return web.json_response(answer)

    def _listing(self, params: dict[str, str], open_: bool) -> list[dict[str, Any]]:
        sym = unified(params["market"]) if params.get("market") else None
        states = {v for k, v in parse_qsl("&".join(f"{k}={v}" for k, v in params.items())) if k.startswith("state")}
        start = int(params.get("start_time") or 0)
        limit = int(params.get("limit") or 100)
        rows = []
        for o in self.core.orders.values():
            if sym is not None and o.symbol != sym:
                continue
            if open_ != o.is_open:
                continue
            j = self.order_json(o)
            if not open_ and ((states and j["state"] not in states) or o.updated < start):
                continue
            rows.append(j)
        return rows[::-1][:limit]

    async def open_orders(self, request: web.Request) -> web.Response:
        params = await self._private(request)
        return web.json_response(self._listing(params, True))

    async def closed_orders(self, request: web.Request) -> web.Response:
        params = await self._private(request)
        return web.json_response(self._listing(params, False))

    # -- websockets ------------------------------------------------------------------------------------
    async def ws_public(self, request: web.Request) -> web.WebSocketResponse:
        return await self.serve_ws(request, "public", self._subscribe, binary=True)

    async def ws_private(self, request: web.Request) -> web.WebSocketResponse:
        auth = request.headers.get("Authorization", "") or request.headers.get("authorization", "")
        if not auth.lower().startswith("bearer "):
            raise web.HTTPUnauthorized(text='{"error":{"name":"no_authorization_token"}}')
        try:
            self._verify(auth[7:], None, rest=False)
        except HttpError as e:
            raise web.HTTPUnauthorized(text=json.dumps(e.body)) from None
        return await self.serve_ws(request, "private", self._subscribe, binary=True)

    def _subscribe(self, conn: Conn, msg: Any) -> None:
        """``[{"ticket": …}, {"type": …, "codes": […]}, …, {"format": …}]``: the connection's
        subscriptions become these; ticker and orderbook send a snapshot at once."""
        if not isinstance(msg, list):
            conn.send({"error": {"name": "WRONG_FORMAT", "message": "요청 형식이 올바르지 않습니다."}})
            return
        subs: dict[str, Any] = {}
        for item in msg:
            kind = item.get("type") if isinstance(item, dict) else None
            if not kind:
                continue
            if conn.kind == "public" and kind in ("myOrder", "myAsset"):
                conn.send({"error": {"name": "NO_AUTH", "message": "인증이 필요합니다."}})
                continue
            codes = item.get("codes") or [None]
            for code in codes:
                subs[f"{kind}:{code}" if code else kind] = item
        conn.subs = subs
        for key in subs:
            kind, _, code = key.partition(":")
            if not code or code not in {m for m, _k, _e in MARKETS}:
                continue
            sym = unified(code)
            if kind == "ticker" and self.core.markets[sym].last is not None:
                conn.send({"type": "ticker", "code": code, **self._ws_ticker(sym, "SNAPSHOT")})
            elif kind == "orderbook":
                conn.send(self._ws_book(sym, "SNAPSHOT"))

    def _ws_ticker(self, sym: str, stream: str) -> dict[str, Any]:
        t = self._ticker_json(sym)
        t.pop("market")
        m = self.core.markets[sym]
        t.update(
            {
                "ask_bid": "ASK" if m.trades and m.trades[-1]["isBuyerMaker"] else "BID",
                "acc_ask_volume": 0,
                "acc_bid_volume": t["acc_trade_volume"],
                "market_state": "ACTIVE",
                "is_trading_suspended": False,
                "delisting_date": None,
                "market_warning": "NONE",
                "stream_type": stream,
            }
        )
        return t

    def _ws_book(self, sym: str, stream: str) -> dict[str, Any]:
        b = self._book_json(sym)
        return {"type": "orderbook", "code": b.pop("market"), **b, "stream_type": stream}

    def _publish(self, key: str, payload: dict[str, Any]) -> None:
        text = json.dumps(payload, separators=(",", ":"))
        for c in list(self.conns):
            if key in c.subs:
                c.send(text)

    def _trade_event(self, sym: str, rec: dict[str, Any]) -> None:
        code = market_id(sym)
        self._publish(f"trade:{code}", self._trade_json(sym, rec, ws=True))
        self._publish(f"ticker:{code}", {"type": "ticker", "code": code, **self._ws_ticker(sym, "REALTIME")})

    def _book_event(self, sym: str) -> None:
        self._publish(f"orderbook:{market_id(sym)}", self._ws_book(sym, "REALTIME"))

    def _order_event(self, o: CoreOrder, what: str, fill: CoreFill | None) -> None:
        j = self.order_json(o)
        now = self.now_ms()
        state = "trade" if fill is not None else ("wait" if what == "new" else j["state"])
        msg: dict[str, Any] = {
            "type": "myOrder",
            "code": j["market"],
            "uuid": o.id,
            "ask_bid": j["side"].upper(),
            "order_type": o.kind,
            "state": state,
            "trade_uuid": fill.trade_id if fill else None,
            "price": num(fill.price) if fill else (num(o.po.price) if o.po.price is not None else None),
            "avg_price": num(o.avg_price),
            "volume": num(fill.qty) if fill else num(o.po.quantity),
            "remaining_volume": num(o.po.quantity - o.po.filled),
            "executed_volume": num(o.po.filled),
            "trades_count": len(o.fills),
            "reserved_fee": num(D(j["reserved_fee"])),
            "remaining_fee": num(D(j["remaining_fee"])),
            "paid_fee": num(o.fees),
            "locked": num(o.po.reserved),
            "executed_funds": num(o.quote_filled),
            "time_in_force": o.extra.get("time_in_force"),
            "trade_fee": num(fill.fee) if fill else None,
            "is_maker": fill.maker if fill else None,
            "identifier": o.extra.get("identifier"),
            "smp_type": None,
            "prevented_volume": 0,
            "prevented_locked": 0,
            "trade_timestamp": fill.ts if fill else None,
            "order_timestamp": o.created,
            "timestamp": now,
            "stream_type": "REALTIME",
        }
        self._publish("myOrder", msg)
        if fill is not None and not o.is_open and o.po.status is OrderStatus.FILLED:
            self._publish(
                "myOrder",
                {
                    **msg,
                    "state": "done",
                    "trade_uuid": None,
                    "trade_fee": None,
                    "is_maker": None,
                    "price": num(o.po.price) if o.po.price is not None else None,
                    "volume": num(o.po.quantity),
                    "trade_timestamp": None,
                },
            )

    def _asset_event(self, changed: set[str]) -> None:
        bal = self.core.ledger.balances()
        now = self.now_ms()
        self._publish(
            "myAsset",
            {
                "type": "myAsset",
                "asset_uuid": str(uuid.uuid4()),
                "assets": [
                    {"currency": a, "balance": num(bal[a].free), "locked": num(bal[a].locked)}
                    for a in sorted(changed)
                    if a in bal
                ],
                "asset_timestamp": now,
                "timestamp": now,
                "stream_type": "REALTIME",
            },
        )

    def user_subscribed(self) -> bool:
        """myOrder and myAsset both subscribed (ccxt sends them in two requests)."""
        return any("myOrder" in c.subs and "myAsset" in c.subs for c in self.conns if not c.silent)
