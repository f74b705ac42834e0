"""The parts every loopback exchange server shares (Binance's predates them): an aiohttp app on
127.0.0.1, HTTP fault injection (``Faults``) answered in the exchange's own error shape, websockets
with a writer queue per connection that tests can cut (``drop_sockets``) or silence
(``silence_sockets``), and the ``ExchangeCore`` behind them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiohttp import WSMsgType, web

from .core import ExchangeCore
from .faults import Faults


class HttpError(Exception):
    """An answer in the exchange's own error format."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(str(body))
        self.status, self.body, self.headers = status, body, headers or {}


@dataclass(eq=False)
class Conn:
    ws: web.WebSocketResponse
    request: web.Request
    kind: str  # "public" or "private"
    binary: bool = False
    subs: dict[str, Any] = field(default_factory=dict)
    silent: bool = False
    state: dict[str, Any] = field(default_factory=dict)
    queue: asyncio.Queue[str] = field(default_factory=asyncio.Queue)

    def send(self, payload: Any) -> None:
        if not self.silent and not self.ws.closed:
            self.queue.put_nowait(payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":")))

    def drop(self) -> None:
        """Cut the connection without a closing handshake (what a network failure looks like)."""
        transport = self.request.transport
        if transport is not None:
            transport.close()


class LoopbackBase:
    """Subclasses set ``core``, add their routes in ``routes`` and answer faults in ``fault_answer``."""

    core: ExchangeCore

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self.port = host, port
        self.faults = Faults()
        self.conns: set[Conn] = set()
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def now_ms(self) -> int:
        return int(time.time() * 1000) + self.faults.clock_drift_ms

    # -- the app -------------------------------------------------------------------------------------
    def routes(self, r: web.UrlDispatcher) -> None:
        raise NotImplementedError

    def fault_answer(self, kind: str, retry_after: float) -> web.Response:
        """The exchange's answer to an injected ``429``, ``418``, ``5xx`` or ``signature`` fault."""
        raise NotImplementedError

    def malformed(self) -> web.Response:
        return web.Response(status=200, text='{"result":', content_type="application/json")

    async def start(self) -> LoopbackBase:
        app = web.Application(middlewares=[self._middleware])
        self.routes(app.router)
        app.router.add_post("/_loopback/{action}", self.control)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
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

    def spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def is_ws(self, request: web.Request) -> bool:
        return request.headers.get("Upgrade", "").lower() == "websocket"

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        path, method = request.path, request.method
        if self.is_ws(request) or path.startswith("/_loopback"):
            return await handler(request)
        self.faults.requests.append((time.monotonic(), method, path))
        fault = self.faults.take(method, path)
        try:
            if fault is not None and fault.kind in ("429", "418", "5xx", "signature"):
                return self.fault_answer(fault.kind, fault.retry_after)
            response = await handler(request)
            if fault is not None and fault.kind == "malformed":
                return self.malformed()
            if fault is not None and fault.kind == "timeout":
                await asyncio.sleep(fault.delay)  # carried out; the answer comes too late
            return response
        except HttpError as e:
            return web.json_response(e.body, status=e.status, headers=e.headers)

    # -- websockets ----------------------------------------------------------------------------------
    async def serve_ws(
        self,
        request: web.Request,
        kind: str,
        on_text: Callable[[Conn, Any], None],
        *,
        binary: bool = False,
        on_open: Callable[[Conn], None] | None = None,
    ) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=False, compress=False, max_msg_size=1 << 22)
        await ws.prepare(request)
        conn = Conn(ws, request, kind, binary)
        self.conns.add(conn)
        writer = self.spawn(self._writer(conn))
        if on_open is not None:
            on_open(conn)
        try:
            async for msg in ws:
                if conn.silent:
                    continue  # a stalled server: reads, answers nothing, not even pings
                if msg.type == WSMsgType.PING:
                    await ws.pong(msg.data)
                elif msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    data = msg.data if isinstance(msg.data, str) else msg.data.decode()
                    if data == "PING":
                        conn.send("PONG")
                        continue
                    try:
                        on_text(conn, json.loads(data))
                    except (ValueError, KeyError, TypeError) as exc:
                        conn.send({"error": {"name": "INVALID_REQUEST", "message": str(exc)}})
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
                if conn.binary:
                    await ws.send_bytes(msg.encode())
                else:
                    await ws.send_str(msg)

    def drop_sockets(self, kind: str | None = None) -> int:
        cut = [c for c in self.conns if kind is None or c.kind == kind]
        for c in cut:
            c.drop()
        return len(cut)

    def silence_sockets(self, kind: str | None = None) -> int:
        hit = [c for c in self.conns if kind is None or c.kind == kind]
        for c in hit:
            c.silent = True
        return len(hit)

    def open_count(self, kind: str | None = None) -> int:
        return sum(1 for c in self.conns if (kind is None or c.kind == kind) and not c.silent)

    def subscribed(self, key: str) -> bool:
        """Some live connection subscribed ``key`` (each exchange names its own keys)."""
        return any(key in c.subs for c in self.conns if not c.silent)

    # -- driving the market ------------------------------------------------------------------------------
    def reset(self, balances: dict[str, str] | None = None) -> None:
        raise NotImplementedError

    def book_around(self, symbol: str, mid: Any, **kw: Any) -> None:
        self.core.book_around(symbol, mid, **kw)

    def trade(self, symbol: str, price: Any, qty: Any = "1", taker: str = "buy") -> None:
        self.core.trade(symbol, price, qty, taker)

    @property
    def placed(self) -> int:
        return self.core.placed

    async def control(self, request: web.Request) -> web.Response:
        """Driving the market from another process (standalone runs, benchmarks): ``book``,
        ``trade``, ``reset`` with a JSON body (unified symbols)."""
        action = request.match_info["action"]
        body = await request.json() if request.can_read_body else {}
        if action == "book":
            kw = {k: body[k] for k in ("spread", "levels", "qty", "step") if k in body}
            self.book_around(body["symbol"], body["mid"], **kw)
        elif action == "trade":
            self.trade(body["symbol"], body["price"], body.get("qty", "1"), body.get("taker", "buy"))
        elif action == "reset":
            self.reset(body.get("balances"))
        else:
            raise web.HTTPNotFound()
        return web.json_response({"ok": True})

    async def simulate(self, symbol: str, mid: Any, *, every_s: float = 0.25, seed: int = 7) -> None:
        """A market that moves by itself (standalone runs): a random walk, a book around it, trades."""
        rng = random.Random(seed)
        inst = self.core.instruments[symbol]
        for interval in ("1m", "5m", "15m", "1h", "4h", "1d"):  # its trades build candles from now on
            self.core.markets[symbol].klines.setdefault(interval, [])
        price = Decimal(str(mid))
        while True:
            price = price * Decimal(str(1 + rng.gauss(0, 0.0004)))
            tick = self.core.tick_at(symbol, price)
            price = (price / tick).to_integral_value() * tick
            self.book_around(symbol, price, spread=tick * 2, levels=20, qty=Decimal("0.5"), step=tick * 5)
            side = "buy" if rng.random() < 0.5 else "sell"
            qty = inst.round_qty(Decimal(str(round(rng.uniform(0.001, 0.2), 5)))) or inst.lot_step
            self.trade(symbol, price + (tick if side == "buy" else -tick), qty, side)
            await asyncio.sleep(every_s)
