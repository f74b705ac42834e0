"""A loopback Coinbase Advanced Trade: REST ``/api/v3/brokerage`` (products — BTC-USD as Coinbase
wrote it when ../shared/data has the recording —, product book, candles, ticker, time, accounts,
orders by id and by ``client_order_id``, batch cancel, historical orders and fills, transaction
summary) and the websocket (``level2`` → ``l2_data`` snapshot and updates, ``market_trades``,
``ticker``, ``heartbeats``, ``user`` with a JWT), each message with its ``sequence_num``; the paper
``MatchingCore`` behind.

Private requests are checked as Coinbase checks a CDP key: ``Authorization: Bearer`` an ES256 JWT
signed with the key's EC private key (verified here with its public key), ``kid`` and ``sub`` the
key's name, ``iss`` ``coinbase-cloud``, ``nbf``/``exp`` around the server's clock and ``uri`` the
request's method, host and path.
"""

from __future__ import annotations

import base64
import itertools
import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from app.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from app.domain.instrument import Instrument
from app.domain.money import fmt

from ..base import Conn, HttpError, LoopbackBase
from ..binance.info import shared_data
from ..core import CoreError, CoreFill, CoreOrder, ExchangeCore

API_KEY = "organizations/loopback-org/apiKeys/loopback-coinbase-key"
# A fixed key (the same secret on every run, so a standalone loopback can be configured once).
_KEY = ec.derive_private_key(int.from_bytes(b"loopback-coinbase-advanced-trade", "big"), ec.SECP256R1())
SECRET = _KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
).decode()
DEFAULT_BALANCES = {"USD": "100000", "BTC": "2", "ETH": "20"}
RECORDING = Path("fixtures/nautilus_trader/crates/adapters/coinbase/test_data/http_product.json")
FEE_TIER = {
    "pricing_tier": "Advanced 1",
    "usd_from": "0",
    "usd_to": "1000",
    "taker_fee_rate": "0.012",
    "maker_fee_rate": "0.006",
}
GRANULARITY = {
    "ONE_MINUTE": "1m",
    "FIVE_MINUTE": "5m",
    "FIFTEEN_MINUTE": "15m",
    "THIRTY_MINUTE": "30m",
    "ONE_HOUR": "1h",
    "FOUR_HOUR": "4h",
    "ONE_DAY": "1d",
}
D = Decimal


def _product(pid: str, base: str, quote: str, tick: str, step: str, min_base: str, min_quote: str) -> dict[str, Any]:
    return {
        "product_id": pid,
        "price": "0",
        "price_percentage_change_24h": "0",
        "volume_24h": "0",
        "volume_percentage_change_24h": "0",
        "base_increment": step,
        "quote_increment": tick,
        "quote_min_size": min_quote,
        "quote_max_size": "150000000",
        "base_min_size": min_base,
        "base_max_size": "3400",
        "base_name": base,
        "quote_name": quote,
        "watched": False,
        "is_disabled": False,
        "new": False,
        "status": "online",
        "cancel_only": False,
        "limit_only": False,
        "post_only": False,
        "trading_disabled": False,
        "auction_mode": False,
        "product_type": "SPOT",
        "quote_currency_id": quote,
        "base_currency_id": base,
        "fcm_trading_session_details": None,
        "mid_market_price": "",
        "alias": "",
        "alias_to": [],
        "base_display_symbol": base,
        "quote_display_symbol": quote,
        "view_only": False,
        "price_increment": tick,
        "display_name": pid,
        "product_venue": "CBE",
        "approximate_quote_24h_volume": "0",
    }


def products() -> tuple[dict[str, dict[str, Any]], bool]:
    """BTC-USD as recorded (its aliases left out: one market per product here), ETH-USD alike."""
    out = {
        "BTC-USD": _product("BTC-USD", "BTC", "USD", "0.01", "0.00000001", "0.00000001", "1"),
        "ETH-USD": _product("ETH-USD", "ETH", "USD", "0.01", "0.00000001", "0.00000001", "1"),
    }
    path = shared_data() / RECORDING
    if path.exists():
        recorded = json.loads(path.read_text())
        out["BTC-USD"] = {**recorded, "alias_to": [], "alias": ""}
        return out, True
    return out, False


def instrument(p: dict[str, Any]) -> Instrument:
    base, quote = p["base_currency_id"], p["quote_currency_id"]
    return Instrument(
        venue="loopback",
        symbol=f"{base}/{quote}",
        base=base,
        quote=quote,
        tick_size=D(p["price_increment"]).normalize(),
        lot_step=D(p["base_increment"]).normalize(),
        min_qty=D(p["base_min_size"]),
        min_notional=D(p["quote_min_size"]),
        maker_fee=D(FEE_TIER["maker_fee_rate"]),
        taker_fee=D(FEE_TIER["taker_fee_rate"]),
    )


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def iso_ns(ms: int, seq: int) -> str:
    """Coinbase's nanosecond time ("…:38.091377090Z"): the fill's number orders fills within a millisecond."""
    whole = datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{whole}.{ms % 1000:03d}{seq % 1_000_000:06d}Z"


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def unauthorized(why: str) -> HttpError:
    return HttpError(401, {"error": "unauthorized", "error_details": why, "message": "Unauthorized"})


class CoinbaseLoopback(LoopbackBase):
    def __init__(self, *, balances: dict[str, str] | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self.api_keys = {API_KEY: _KEY.public_key()}
        self.fills_lag = 0  # how many fills requests answer with nothing yet
        self.products, self.recorded = products()
        self.instruments = {instrument(p).symbol: instrument(p) for p in self.products.values()}
        self.product_of = {instrument(p).symbol: k for k, p in self.products.items()}
        self.symbol_of = {k: instrument(p).symbol for k, p in self.products.items()}
        self._trade_ids = itertools.count(995098700)
        self.core = ExchangeCore(
            self.instruments,
            balances=balances or DEFAULT_BALANCES,
            new_id=lambda: str(uuid.uuid4()),
            trade_id=lambda symbol, n: str(uuid.uuid4()),
            clock=self.now_ms,
        )
        self.core.on_order.append(self._order_event)
        self.core.on_trade.append(self._trade_event)
        self.core.on_book.append(self._book_event)
        self._account_ids = {a: str(uuid.uuid5(uuid.NAMESPACE_URL, a)) for a in ("USD", "BTC", "ETH", "USDC")}

    def reset(self, balances: dict[str, str] | None = None) -> None:
        self.faults.clear()
        self.fills_lag = 0
        self.core.reset(balances or DEFAULT_BALANCES)

    # -- routes --------------------------------------------------------------------------------------
    def routes(self, r: web.UrlDispatcher) -> None:
        p = "/api/v3/brokerage"
        r.add_get(f"{p}/time", self.time)
        r.add_get(f"{p}/market/products", self.list_products)
        r.add_get(f"{p}/market/products/{{product_id}}", self.get_product)
        r.add_get(f"{p}/market/products/{{product_id}}/candles", self.candles)
        r.add_get(f"{p}/market/products/{{product_id}}/ticker", self.ticker)
        r.add_get(f"{p}/market/product_book", self.product_book)
        for path, handler in (
            ("accounts", self.accounts),
            ("transaction_summary", self.transaction_summary),
            ("orders/historical/batch", self.list_orders),
            ("orders/historical/fills", self.list_fills),
            ("orders/historical/{order_id}", self.get_order),
            ("products", self.list_products),
            ("product_book", self.product_book),
        ):
            r.add_get(f"{p}/{path}", self._private(handler))
        r.add_post(f"{p}/orders", self._private(self.create_order))
        r.add_post(f"{p}/orders/batch_cancel", self._private(self.batch_cancel))
        r.add_get("/ws", self.ws)

    def fault_answer(self, kind: str, retry_after: float) -> web.Response:
        if kind in ("429", "418"):
            return web.json_response(
                {"error": "rate_limit_exceeded", "error_details": "Too many requests", "message": "Too many requests"},
                status=429,
                headers={"Retry-After": f"{retry_after:g}"},
            )
        if kind == "5xx":
            return web.Response(status=503, text="Service Unavailable", content_type="text/html")
        return web.json_response(unauthorized("invalid signature").body, status=401)

    # -- auth ----------------------------------------------------------------------------------------
    def _verify(self, token: str, method: str | None, host: str, path: str) -> None:
        try:
            head_b64, body_b64, sig_b64 = token.split(".")
            head, claims = json.loads(_b64(head_b64)), json.loads(_b64(body_b64))
            sig = _b64(sig_b64)
        except ValueError:
            raise unauthorized("malformed JWT") from None
        key = self.api_keys.get(str(head.get("kid")))
        if key is None or claims.get("sub") != head.get("kid"):
            raise unauthorized("unknown API key")
        if head.get("alg") != "ES256" or len(sig) != 64:
            raise unauthorized("JWT must be ES256")
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        try:
            key.verify(der, f"{head_b64}.{body_b64}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise unauthorized("invalid signature") from None
        now = self.now_ms() // 1000
        if claims.get("iss") != "coinbase-cloud" or not (claims.get("nbf", now + 1) - 5 <= now <= claims.get("exp", 0)):
            raise unauthorized("JWT expired or not yet valid")
        if method is not None:
            uri = str(claims.get("uri", "")).replace("http://", "").replace("https://", "")
            if uri != f"{method} {host}{path}":
                raise unauthorized(f"JWT uri {claims.get('uri')!r} is not this request")

    def _private(self, handler: Any) -> Any:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            auth = request.headers.get("Authorization", "")
            if not auth.startswith("Bearer "):
                raise unauthorized("no JWT")
            self._verify(auth[7:], request.method, request.host, request.path)
            return await handler(request)

        return wrapped

    # -- public --------------------------------------------------------------------------------------
    def _product(self, pid: str | None) -> str:
        if pid not in self.products:
            raise HttpError(
                404, {"error": "NOT_FOUND", "error_details": "ProductID is invalid", "message": "ProductID is invalid"}
            )
        return self.symbol_of[pid]

    def _product_json(self, pid: str) -> dict[str, Any]:
        p = dict(self.products[pid])
        m = self.core.markets[self.symbol_of[pid]]
        if m.last is not None:
            p["price"] = fmt(m.last)
            p["volume_24h"] = fmt(m.volume_24h)
        return p

    async def time(self, request: web.Request) -> web.Response:
        now = self.now_ms()
        return web.json_response({"iso": iso(now), "epochSeconds": str(now // 1000), "epochMillis": str(now)})

    async def list_products(self, request: web.Request) -> web.Response:
        kind = request.query.get("product_type", "SPOT")
        items = [self._product_json(k) for k in self.products] if kind == "SPOT" else []
        return web.json_response({"products": items, "num_products": len(items)})

    async def get_product(self, request: web.Request) -> web.Response:
        pid = request.match_info["product_id"]
        self._product(pid)
        return web.json_response(self._product_json(pid))

    async def candles(self, request: web.Request) -> web.Response:
        sym = self._product(request.match_info["product_id"])
        interval = GRANULARITY.get(request.query.get("granularity", ""))
        if interval is None:
            raise HttpError(
                400, {"error": "INVALID_ARGUMENT", "error_details": "granularity", "message": "granularity"}
            )
        start = int(request.query.get("start", "0")) * 1000
        end = int(request.query.get("end", str(2**40))) * 1000
        rows = [k for k in self.core.markets[sym].klines.get(interval, []) if start <= k.open_ms < end][-350:]
        return web.json_response(
            {
                "candles": [
                    {
                        "start": str(k.open_ms // 1000),
                        "low": fmt(k.low),
                        "high": fmt(k.high),
                        "open": fmt(k.open),
                        "close": fmt(k.close),
                        "volume": fmt(k.volume),
                    }
                    for k in reversed(rows)
                ]
            }
        )

    def _trade_json(self, pid: str, t: dict[str, Any]) -> dict[str, Any]:
        return {
            "trade_id": str(t["id"]),
            "product_id": pid,
            "price": fmt(D(t["price"])),
            "size": fmt(D(t["qty"])),
            "time": iso(t["time"]),
            "side": "SELL" if t["isBuyerMaker"] else "BUY",
            "bid": "",
            "ask": "",
            "exchange": "coinbase",
        }

    async def ticker(self, request: web.Request) -> web.Response:
        pid = request.match_info["product_id"]
        sym = self._product(pid)
        limit = int(request.query.get("limit", "100"))
        m = self.core.markets[sym]
        bid, ask = m.best()
        return web.json_response(
            {
                "trades": [self._trade_json(pid, t) for t in reversed(m.trades[-limit:])],
                "best_bid": fmt(bid[0]) if bid else "",
                "best_ask": fmt(ask[0]) if ask else "",
            }
        )

    async def product_book(self, request: web.Request) -> web.Response:
        pid = request.query.get("product_id", "")
        sym = self._product(pid)
        limit = int(request.query.get("limit", "50"))
        m = self.core.markets[sym]
        bids = sorted(m.bids.items(), reverse=True)[:limit]
        asks = sorted(m.asks.items())[:limit]
        best_b = bids[0][0] if bids else D(0)
        best_a = asks[0][0] if asks else D(0)
        mid = (best_b + best_a) / 2 if bids and asks else D(0)
        return web.json_response(
            {
                "pricebook": {
                    "product_id": pid,
                    "bids": [{"price": fmt(p), "size": fmt(q)} for p, q in bids],
                    "asks": [{"price": fmt(p), "size": fmt(q)} for p, q in asks],
                    "time": iso(self.now_ms()),
                },
                "last": fmt(m.last or mid),
                "mid_market": fmt(mid),
                "spread_bps": fmt(((best_a - best_b) / mid * 10000).quantize(D("0.000000000001"))) if mid else "0",
                "spread_absolute": fmt(best_a - best_b),
            }
        )

    # -- private -------------------------------------------------------------------------------------
    async def accounts(self, request: web.Request) -> web.Response:
        bal = self.core.ledger.balances()
        items = []
        for asset in sorted(set(bal) | {"USD"}):
            b = bal.get(asset)
            free, locked = (b.free, b.locked) if b else (D(0), D(0))
            items.append(
                {
                    "uuid": self._account_ids.get(asset) or str(uuid.uuid5(uuid.NAMESPACE_URL, asset)),
                    "name": f"{asset} Wallet",
                    "currency": asset,
                    "available_balance": {"value": fmt(free), "currency": asset},
                    "default": True,
                    "active": True,
                    "created_at": "2021-05-31T09:59:59Z",
                    "updated_at": iso(self.now_ms()),
                    "deleted_at": None,
                    "type": "ACCOUNT_TYPE_FIAT" if asset == "USD" else "ACCOUNT_TYPE_CRYPTO",
                    "ready": True,
                    "hold": {"value": fmt(locked), "currency": asset},
                    "retail_portfolio_id": "loopback-portfolio",
                }
            )
        return web.json_response({"accounts": items, "has_next": False, "cursor": "", "size": len(items)})

    async def transaction_summary(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "total_volume": 0,
                "total_fees": 0,
                "fee_tier": FEE_TIER,
                "margin_rate": None,
                "goods_and_services_tax": None,
                "advanced_trade_only_volume": 0,
                "advanced_trade_only_fees": 0,
                "coinbase_pro_volume": 0,
                "coinbase_pro_fees": 0,
            }
        )

    def order_json(self, o: CoreOrder) -> dict[str, Any]:
        po = o.po
        conf = o.extra["configuration"]
        status = {
            OrderStatus.FILLED: "FILLED",
            OrderStatus.CANCELLED: "CANCELLED",
            OrderStatus.EXPIRED: "EXPIRED",
            OrderStatus.REJECTED: "CANCELLED",
        }.get(po.status, "OPEN")
        tif = {
            "limit_limit_gtc": "GOOD_UNTIL_CANCELLED",
            "sor_limit_ioc": "IMMEDIATE_OR_CANCEL",
            "limit_limit_fok": "FILL_OR_KILL",
            "market_market_ioc": "IMMEDIATE_OR_CANCEL",
        }[next(iter(conf))]
        return {
            "order_id": o.id,
            "product_id": self.product_of[o.symbol],
            "user_id": "loopback-user",
            "order_configuration": conf,
            "side": po.side.value.upper(),
            "client_order_id": o.client_id,
            "status": status,
            "time_in_force": tif,
            "created_time": iso(o.created),
            "completion_percentage": fmt((po.filled / po.quantity * 100).quantize(D("0.01"))),
            "filled_size": fmt(po.filled),
            "average_filled_price": fmt(o.avg_price),
            "fee": "",
            "number_of_fills": str(len(o.fills)),
            "filled_value": fmt(o.quote_filled),
            "pending_cancel": False,
            "size_in_quote": False,
            "total_fees": fmt(o.fees),
            "size_inclusive_of_fees": False,
            "total_value_after_fees": fmt(o.quote_filled + o.fees if po.side is Side.BUY else o.quote_filled - o.fees),
            "trigger_status": "INVALID_ORDER_TYPE",
            "order_type": "MARKET" if po.type is OrderType.MARKET else "LIMIT",
            "reject_reason": "REJECT_REASON_UNSPECIFIED",
            "settled": not o.is_open,
            "product_type": "SPOT",
            "reject_message": "",
            "cancel_message": "User requested cancel" if status == "CANCELLED" else "",
            "order_placement_source": "RETAIL_ADVANCED",
            "outstanding_hold_amount": fmt(po.reserved),
            "is_liquidation": False,
            "last_fill_time": iso(o.fills[-1].ts) if o.fills else None,
            "edit_history": [],
            "leverage": "",
            "margin_type": "UNKNOWN_MARGIN_TYPE",
            "retail_portfolio_id": "loopback-portfolio",
        }

    @staticmethod
    def _dec(conf: dict[str, Any], name: str) -> Decimal | None:
        value = conf.get(name)
        if value in (None, ""):
            return None
        try:
            return D(str(value))
        except InvalidOperation:
            raise HttpError(400, {"error": "INVALID_ARGUMENT", "message": f"{name} is invalid"}) from None

    @staticmethod
    def _failure(error: str, message: str, preview: str, request: dict[str, Any]) -> web.Response:
        return web.json_response(
            {
                "success": False,
                "failure_reason": "UNKNOWN_FAILURE_REASON",
                "order_id": "",
                "error_response": {
                    "error": error,
                    "message": message,
                    "error_details": "",
                    "preview_failure_reason": preview,
                },
                "order_configuration": request.get("order_configuration"),
            }
        )

    async def create_order(self, request: web.Request) -> web.Response:
        body = await request.json()
        pid = str(body.get("product_id", ""))
        sym = self._product(pid)
        side = {"BUY": Side.BUY, "SELL": Side.SELL}.get(str(body.get("side")))
        conf = body.get("order_configuration") or {}
        cid = str(body.get("client_order_id") or "")
        if side is None or len(conf) != 1 or not cid:
            raise HttpError(
                400, {"error": "INVALID_ARGUMENT", "message": "side, client_order_id and one order_configuration"}
            )
        known = self.core.by_client.get(cid)
        if known is not None:  # the same client_order_id again: the order it made before
            return web.json_response(self._success(known))
        kind, c = next(iter(conf.items()))
        tif, post_only = TimeInForce.GTC, bool(c.get("post_only"))
        if kind == "market_market_ioc":
            if c.get("quote_size"):
                return self._failure(
                    "UNSUPPORTED_ORDER_CONFIGURATION",
                    "quote_size market orders are not served by this loopback",
                    "PREVIEW_INVALID_ORDER_CONFIG",
                    body,
                )
            t, price = OrderType.MARKET, None
        elif kind in ("limit_limit_gtc", "sor_limit_ioc", "limit_limit_fok"):
            t, price = OrderType.LIMIT, self._dec(c, "limit_price")
            tif = {"sor_limit_ioc": TimeInForce.IOC, "limit_limit_fok": TimeInForce.FOK}.get(kind, TimeInForce.GTC)
        else:
            return self._failure(
                "UNSUPPORTED_ORDER_CONFIGURATION",
                f"{kind} is not served by this loopback",
                "PREVIEW_INVALID_ORDER_CONFIG",
                body,
            )
        size = self._dec(c, "base_size")
        if size is None:
            return self._failure(
                "INVALID_ARGUMENT", "base_size is required", "PREVIEW_INVALID_BASE_SIZE_TOO_SMALL", body
            )
        try:
            o = self.core.place(
                sym,
                side,
                t,
                size,
                price=price,
                tif=tif,
                post_only=post_only,
                client_id=cid,
                kind=kind,
                extra={"configuration": conf},
                reject_crossing=True,
            )
        except CoreError as e:
            return self._core_failure(e, body)
        return web.json_response(self._success(o))

    def _success(self, o: CoreOrder) -> dict[str, Any]:
        return {
            "success": True,
            "success_response": {
                "order_id": o.id,
                "product_id": self.product_of[o.symbol],
                "side": o.po.side.value.upper(),
                "client_order_id": o.client_id,
            },
            "order_configuration": o.extra["configuration"],
        }

    def _core_failure(self, e: CoreError, body: dict[str, Any]) -> web.Response:
        if e.kind == "insufficient":
            return self._failure(
                "INSUFFICIENT_FUND", "Insufficient balance in source account", "PREVIEW_INSUFFICIENT_FUND", body
            )
        if e.kind in ("min_total", "invalid"):
            return self._failure("INVALID_SIZE_PRECISION", e.msg, "PREVIEW_INVALID_BASE_SIZE_TOO_SMALL", body)
        if e.kind == "tick":
            return self._failure("INVALID_PRICE_PRECISION", e.msg, "PREVIEW_INVALID_LIMIT_PRICE", body)
        if e.kind == "would_take":
            return self._failure(
                "INVALID_LIMIT_PRICE_POST_ONLY",
                "post-only order would cross",
                "PREVIEW_INVALID_LIMIT_PRICE_POST_ONLY",
                body,
            )
        return self._failure("UNKNOWN_FAILURE_REASON", e.msg, "UNKNOWN_PREVIEW_FAILURE_REASON", body)

    async def batch_cancel(self, request: web.Request) -> web.Response:
        body = await request.json()
        results = []
        for oid in body.get("order_ids") or []:
            o = self.core.orders.get(str(oid))
            if o is None:
                results.append({"success": False, "failure_reason": "UNKNOWN_CANCEL_ORDER", "order_id": oid})
            elif not o.is_open:
                results.append(
                    {
                        "success": False,
                        "failure_reason": "DUPLICATE_CANCEL_REQUEST"
                        if o.po.status is OrderStatus.CANCELLED
                        else "UNKNOWN_CANCEL_ORDER",
                        "order_id": oid,
                    }
                )
            else:
                self.core.cancel(o)
                results.append({"success": True, "failure_reason": "UNKNOWN_CANCEL_FAILURE_REASON", "order_id": oid})
        return web.json_response({"results": results})

    async def get_order(self, request: web.Request) -> web.Response:
        o = self.core.orders.get(request.match_info["order_id"])
        if o is None:
            raise HttpError(
                404,
                {
                    "error": "NOT_FOUND",
                    "error_details": "order with this orderID was not found",
                    "message": "order with this orderID was not found",
                },
            )
        return web.json_response({"order": self.order_json(o)})

    async def list_orders(self, request: web.Request) -> web.Response:
        q = request.query
        pid = q.get("product_id") or q.get("product_ids")
        statuses = set(q.getall("order_status", []))
        limit = int(q.get("limit", "100"))
        rows = [self.order_json(o) for o in reversed(list(self.core.orders.values()))]
        rows = [r for r in rows if (not pid or r["product_id"] == pid) and (not statuses or r["status"] in statuses)][
            :limit
        ]
        return web.json_response({"orders": rows, "sequence": "0", "has_next": False, "cursor": ""})

    def _fill_json(self, o: CoreOrder, f: CoreFill) -> dict[str, Any]:
        return {
            "entry_id": uuid.uuid5(uuid.NAMESPACE_OID, f.trade_id).hex,
            "trade_id": f.trade_id,
            "order_id": o.id,
            "trade_time": iso(f.ts),
            "trade_type": "FILL",
            "price": fmt(f.price),
            "size": fmt(f.qty),
            "commission": fmt(f.fee),
            "product_id": self.product_of[o.symbol],
            "sequence_timestamp": iso_ns(f.ts, f.seq),
            "liquidity_indicator": "MAKER" if f.maker else "TAKER",
            "size_in_quote": False,
            "user_id": "loopback-user",
            "side": o.po.side.value.upper(),
            "retail_portfolio_id": "loopback-portfolio",
        }

    async def list_fills(self, request: web.Request) -> web.Response:
        q = request.query
        if self.fills_lag > 0:  # a fault: the fills list lags the user channel's order updates
            self.fills_lag -= 1
            return web.json_response({"fills": [], "cursor": ""})
        ids = set(q.getall("order_ids", [])) | set(q.getall("order_id", []))
        pid = q.get("product_id")
        start, end = q.get("start_sequence_timestamp"), q.get("end_sequence_timestamp")
        start_ms = int(datetime.fromisoformat(start.replace("Z", "+00:00")).timestamp() * 1000) if start else 0
        end_ms = int(datetime.fromisoformat(end.replace("Z", "+00:00")).timestamp() * 1000) if end else 2**62
        fills = [
            self._fill_json(o, f)
            for o in self.core.orders.values()
            if (not ids or o.id in ids) and (not pid or self.product_of[o.symbol] == pid)
            for f in o.fills
            if start_ms <= f.ts <= end_ms
        ]
        fills.sort(key=lambda x: x["sequence_timestamp"], reverse=True)
        return web.json_response({"fills": fills[: int(q.get("limit", "1000"))], "cursor": ""})

    # -- the websocket -----------------------------------------------------------------------------------
    async def ws(self, request: web.Request) -> web.WebSocketResponse:
        return await self.serve_ws(request, "public", self._ws_request)

    def _send(self, conn: Conn, channel: str, events: list[dict[str, Any]]) -> None:
        gap, self.faults.book_gap = self.faults.book_gap, 0  # a fault: messages lost on the way
        seq = conn.state.get("sequence_num", -1) + 1 + gap
        conn.state["sequence_num"] = seq
        conn.send(
            {
                "channel": channel,
                "client_id": "",
                "timestamp": iso(self.now_ms()),
                "sequence_num": seq,
                "events": events,
            }
        )

    def _ws_request(self, conn: Conn, msg: Any) -> None:
        kind, channel = msg.get("type"), msg.get("channel")
        pids = list(msg.get("product_ids") or [])
        if channel == "user":
            try:
                self._verify(str(msg.get("jwt") or ""), None, "", "")
            except HttpError:
                conn.send({"type": "error", "message": "authentication failure"})
                return
            conn.kind = "private"
        for pid in pids:
            if pid not in self.products:
                conn.send({"type": "error", "message": f"Failed to subscribe: unknown product {pid}"})
                return
        keys = [f"{channel}:{pid}" for pid in pids] or [channel]
        if kind == "unsubscribe":
            for k in keys:
                conn.subs.pop(k, None)
        else:
            for k in keys:
                conn.subs[k] = msg
        subs: dict[str, list[str]] = {}
        for k in conn.subs:
            name, _, pid = k.partition(":")
            subs.setdefault(name, [])
            if pid:
                subs[name].append(pid)
        self._send(conn, "subscriptions", [{"subscriptions": subs}])
        if kind != "subscribe":
            return
        for pid in pids:
            sym = self.symbol_of[pid]
            if channel == "level2":
                self._send(
                    conn, "l2_data", [{"type": "snapshot", "product_id": pid, "updates": self._levels(sym, None)}]
                )
                conn.state[f"book:{pid}"] = self._book_state(sym)
            elif channel == "ticker" and self.core.markets[sym].last is not None:
                self._send(conn, "ticker", [{"type": "snapshot", "tickers": [self._ticker(pid)]}])
        if channel == "user":
            open_ = [self._ws_order(o) for o in self.core.orders.values() if o.is_open]
            self._send(conn, "user", [{"type": "snapshot", "orders": open_}])

    def _book_state(self, sym: str) -> tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]:
        m = self.core.markets[sym]
        return dict(m.bids), dict(m.asks)

    def _levels(
        self, sym: str, old: tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]] | None
    ) -> list[dict[str, Any]]:
        bids, asks = self._book_state(sym)
        now = iso(self.now_ms())
        out = []
        for side, new, before in (("bid", bids, old[0] if old else {}), ("offer", asks, old[1] if old else {})):
            for p in sorted(set(new) | set(before)):
                if old is not None and new.get(p) == before.get(p):
                    continue
                out.append(
                    {
                        "side": side,
                        "event_time": now if old else "1970-01-01T00:00:00Z",
                        "price_level": fmt(p),
                        "new_quantity": fmt(new.get(p, D(0))),
                    }
                )
        return out

    def _book_event(self, sym: str) -> None:
        pid = self.product_of[sym]
        for c in list(self.conns):
            if f"level2:{pid}" not in c.subs:
                continue
            old = c.state.get(f"book:{pid}")
            updates = self._levels(sym, old)
            c.state[f"book:{pid}"] = self._book_state(sym)
            if updates:
                self._send(c, "l2_data", [{"type": "update", "product_id": pid, "updates": updates}])

    def _ticker(self, pid: str) -> dict[str, Any]:
        m = self.core.markets[self.symbol_of[pid]]
        last = m.last or D(0)
        opened = m.open_24h or last
        bid, ask = m.best()
        return {
            "type": "ticker",
            "product_id": pid,
            "price": fmt(last),
            "volume_24_h": fmt(m.volume_24h),
            "low_24_h": fmt(last),
            "high_24_h": fmt(last),
            "low_52_w": fmt(last),
            "high_52_w": fmt(last),
            "price_percent_chg_24_h": fmt(((last - opened) / opened * 100) if opened else D(0)),
            "best_bid": fmt(bid[0]) if bid else "",
            "best_bid_quantity": fmt(bid[1]) if bid else "",
            "best_ask": fmt(ask[0]) if ask else "",
            "best_ask_quantity": fmt(ask[1]) if ask else "",
        }

    def _trade_event(self, sym: str, rec: dict[str, Any]) -> None:
        pid = self.product_of[sym]
        trade = {
            k: v
            for k, v in self._trade_json(pid, rec).items()
            if k in ("trade_id", "product_id", "price", "size", "side", "time")
        }
        for c in list(self.conns):
            if f"market_trades:{pid}" in c.subs:
                self._send(c, "market_trades", [{"type": "update", "trades": [trade]}])
            if f"ticker:{pid}" in c.subs:
                self._send(c, "ticker", [{"type": "update", "tickers": [self._ticker(pid)]}])

    def _ws_order(self, o: CoreOrder) -> dict[str, Any]:
        j = self.order_json(o)
        po = o.po
        return {
            "order_id": o.id,
            "client_order_id": o.client_id,
            "cumulative_quantity": fmt(po.filled),
            "leaves_quantity": fmt(po.quantity - po.filled if o.is_open else D(0)),
            "avg_price": fmt(o.avg_price),
            "total_fees": fmt(o.fees),
            "status": j["status"],
            "product_id": j["product_id"],
            "creation_time": j["created_time"],
            "order_side": j["side"],
            "order_type": "Market" if po.type is OrderType.MARKET else "Limit",
            "cancel_reason": j["cancel_message"],
            "reject_reason": "",
            "total_value_after_fees": j["total_value_after_fees"],
            "contract_expiry_type": "UNKNOWN_CONTRACT_EXPIRY_TYPE",
            "product_type": "SPOT",
            "risk_managed_by": "UNKNOWN_RISK_MANAGEMENT_TYPE",
            "time_in_force": j["time_in_force"],
            "trigger_status": "INVALID_ORDER_TYPE",
            "limit_price": fmt(po.price) if po.price is not None else "",
            "filled_value": j["filled_value"],
        }

    def _order_event(self, o: CoreOrder, what: str, fill: CoreFill | None) -> None:
        event = self._ws_order(o)
        for c in list(self.conns):
            if "user" in c.subs or any(k.startswith("user:") for k in c.subs):
                self._send(c, "user", [{"type": "update", "orders": [event]}])

    def user_subscribed(self) -> bool:
        return any(("user" in c.subs or any(k.startswith("user:") for k in c.subs)) for c in self.conns if not c.silent)
