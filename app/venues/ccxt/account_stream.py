"""The account stream of a ccxt venue: ccxt.pro ``watch_orders`` (and ``watch_my_trades`` /
``watch_balance`` where the profile says) turned into execution reports — fills first, each trade
once — and balance changes. Where the exchange's stream carries no fills (Coinbase) or balance
totals only (Kraken), they are read over REST on the side, never keeping the socket waiting: ccxt
hands over what arrived while nobody waited only with the next message."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from app.domain.enums import OrderEvent, Side
from app.domain.errors import VenueError
from app.domain.execution import Balance, ExecutionReport
from app.domain.money import ZERO
from app.domain.order import Fill

from ..base import AccountEvent, BalancesChanged, StreamConnected
from . import convert
from .client import CcxtClient
from .profile import ExchangeProfile

log = logging.getLogger(__name__)
SEEN_TRADES = 50_000
REST_FILL_TRIES = 3  # an order update showing more filled than the fills list has: asked this often
REST_FILL_WAIT_S = 0.25  # then 0.5 s between the asks
SHORT_RECHECK_S = 2.0  # still short after that: looked for again this often while the stream is quiet
SHORT_LOOKS = 30  # ... this many times (a minute), then left to reconciliation
_FINAL_EVENTS = {
    "canceled": OrderEvent.CANCELLED,
    "cancelled": OrderEvent.CANCELLED,
    "expired": OrderEvent.EXPIRED,
    "rejected": OrderEvent.REJECTED,
}


class AccountStream:
    """Mixed into ``CcxtVenue`` (which holds the state named here)."""

    name: str
    profile: ExchangeProfile
    client: CcxtClient
    _balances: dict[str, Balance] | None
    _client_ids: dict[tuple[str, str], str]
    _by_vid: dict[str, tuple[str, str]]
    _filled: dict[str, Decimal]
    _short: dict[str, tuple[dict[str, Any], int]]
    _seen_trades: OrderedDict[tuple[str, str], None]
    _acked: set[str]
    _ended: set[str]
    _subscribed_once: bool

    if TYPE_CHECKING:

        def _emit(self, report: ExecutionReport) -> None: ...
        def _now(self) -> int: ...
        def _learn(self, symbol: str, venue_order_id: str | None, client_order_id: str | None) -> None: ...
        def _make_fill(self, t: dict[str, Any], symbol: str, side: Side, cid: str, vid: str) -> Fill: ...
        async def fetch_balances(self) -> dict[str, Balance]: ...
        async def _ensure_markets(self) -> None: ...

    async def watch_account(self) -> AsyncIterator[AccountEvent]:
        """Subscribe to the account's stream, then deliver its order updates to the report handler
        (fills first, each trade once) and yield balance changes, until it fails."""
        ex = self.client.exchange
        await self._ensure_markets()
        if hasattr(ex, "authenticate"):
            await self.client.stream(lambda: _maybe_await(ex.authenticate()))
        reconnect, self._subscribed_once = self._subscribed_once, True
        if self._balances is None:
            await self.fetch_balances()
        queue: asyncio.Queue[AccountEvent | BaseException] = asyncio.Queue()
        tasks = [asyncio.ensure_future(self._pump_orders(queue))]
        if self.profile.fills_from_my_trades:
            tasks.append(asyncio.ensure_future(self._pump_my_trades(queue)))
        if ex.has.get("watchBalance"):
            tasks.append(asyncio.ensure_future(self._pump_balance(queue)))
        try:
            yield StreamConnected(self.name, reconnect)
            while True:
                item = await queue.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t

    async def _pump_orders(self, queue: asyncio.Queue[AccountEvent | BaseException]) -> None:
        ex = self.client.exchange
        work: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        worker = asyncio.ensure_future(self._order_worker(work, queue)) if self.profile.fills_by_rest else None
        try:
            while True:
                orders = await self.client.stream(lambda: ex.watch_orders())
                for o in list(orders):
                    if worker is not None:
                        # Back to the socket at once (ccxt hands over what arrived while nobody waited
                        # only with the next message); fills are read over REST on the side, in order.
                        work.put_nowait(dict(o))
                    else:
                        self.on_order_update(o)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            queue.put_nowait(exc)
        finally:
            if worker is not None:
                worker.cancel()  # and waited for: a fills request it had open ends with the stream
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await worker

    async def _order_worker(
        self, work: asyncio.Queue[dict[str, Any]], queue: asyncio.Queue[AccountEvent | BaseException]
    ) -> None:
        try:
            while True:
                try:
                    o = await (asyncio.wait_for(work.get(), SHORT_RECHECK_S) if self._short else work.get())
                except TimeoutError:
                    # An order's last update showed more filled than the fills list had: no later
                    # update may come (it filled), so its fills are looked for again on a timer.
                    for update, _looks in list(self._short.values()):
                        await self._rest_fills(update)
                    continue
                await self._rest_fills(o)  # fills before the state: a cancel after a partial fill
                self.on_order_update(o)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            queue.put_nowait(exc)

    async def _pump_my_trades(self, queue: asyncio.Queue[AccountEvent | BaseException]) -> None:
        ex = self.client.exchange
        try:
            while True:
                trades = await self.client.stream(lambda: ex.watch_my_trades())
                for t in list(trades):
                    self.on_my_trade(t)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            queue.put_nowait(exc)

    async def _rest_fills(self, o: dict[str, Any]) -> None:
        """An order the stream shows with more filled than reported: its fills, read over REST."""
        vid, symbol = str(o.get("id") or ""), str(o.get("symbol") or "")
        try:
            filled = convert.dec(o.get("filled") or 0)
        except VenueError:
            return
        if not vid or not symbol or filled <= self._filled.get(vid, ZERO):
            return
        cid = self.profile.order_client_id(o)
        if cid:
            self._learn(symbol, vid, cid)
        ex = self.client.exchange
        seen = ZERO
        for attempt in range(REST_FILL_TRIES):
            trades = await self.client.call(lambda: ex.fetch_my_trades(symbol, None, None, {"order_id": vid}))
            mine = [t for t in trades if str(t.get("order") or vid) == vid]
            mine.sort(
                key=lambda t: int(t.get("timestamp") or 0)
            )  # in the order they happened (Coinbase lists newest first)
            for t in mine:
                self.on_my_trade({**t, "order": vid, "symbol": symbol})
            seen = sum((convert.dec(t.get("amount") or 0) for t in mine), ZERO)
            if seen >= filled:
                break
            # The fills list can lag the order's own update: ask again before going on, so a
            # fill is reported before the cancel that follows it.
            await asyncio.sleep(REST_FILL_WAIT_S * 2**attempt)
        # What was actually reported: a fill the exchange had not listed yet is looked for again
        # at the order's next update, or on a timer (``_order_worker``) for a while.
        self._filled[vid] = max(self._filled.get(vid, ZERO), min(seen, filled))
        if seen >= filled:
            self._short.pop(vid, None)
            return
        looks = self._short.get(vid, (o, 0))[1] + 1
        if looks > SHORT_LOOKS:
            self._short.pop(vid, None)
            log.warning(
                "%s: fills of order %s are not listed by the exchange; reconciliation looks again", self.name, vid
            )
        else:
            self._short[vid] = (o, looks)

    def on_my_trade(self, t: dict[str, Any]) -> None:
        """One fill from ``watch_my_trades`` (its client id from the payload, or learned before)."""
        symbol, vid = str(t.get("symbol") or ""), str(t.get("order") or "")
        if not symbol and vid in self._by_vid:
            symbol = self._by_vid[vid][0]
        info = t.get("info") or {}
        cid = self._client_ids.get((symbol, vid)) or str(info.get("identifier") or info.get("cl_ord_id") or "")
        if not cid:
            return
        self._learn(symbol, vid, cid)
        side = Side.SELL if t.get("side") == "sell" else Side.BUY
        f = self._make_fill(t, symbol, side, cid, vid)
        key = (symbol, f.trade_id)
        if key in self._seen_trades:
            return
        self._seen_trades[key] = None
        if len(self._seen_trades) > SEEN_TRADES:
            self._seen_trades.popitem(last=False)
        self._emit(ExecutionReport(self.name, cid, OrderEvent.PARTIAL_FILL, f.ts_ms, venue_order_id=vid, fill=f))

    async def _pump_balance(self, queue: asyncio.Queue[AccountEvent | BaseException]) -> None:
        ex = self.client.exchange
        changed = asyncio.Event()
        worker = asyncio.ensure_future(self._balance_worker(changed, queue)) if self.profile.balances_by_rest else None
        try:
            while True:
                b = await self.client.stream(lambda: ex.watch_balance())
                if worker is not None:
                    changed.set()  # read over REST on the side: back to the socket at once
                else:
                    queue.put_nowait(BalancesChanged(self.name, self._merge_balances(b)))
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            queue.put_nowait(exc)
        finally:
            if worker is not None:
                worker.cancel()  # and waited for: a fills request it had open ends with the stream
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await worker

    async def _balance_worker(self, changed: asyncio.Event, queue: asyncio.Queue[AccountEvent | BaseException]) -> None:
        """Balances read again each time the stream says they changed (several changes: one read)."""
        try:
            while True:
                await changed.wait()
                changed.clear()
                queue.put_nowait(BalancesChanged(self.name, await self.fetch_balances()))
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            queue.put_nowait(exc)

    def _merge_balances(self, b: dict[str, Any]) -> dict[str, Balance]:
        current = dict(self._balances or {})
        current.update(convert.balances(b))
        exact = self.profile.balance_numbers(b.get("info"))
        for asset, (f, lk) in (exact or {}).items():
            current[asset] = Balance(asset, convert.dec(f), convert.dec(lk))
        self._balances = {a: x for a, x in current.items() if x.total != ZERO}
        return dict(self._balances)

    def on_order_update(self, o: dict[str, Any]) -> None:
        """One order as the stream shows it now → its new fills (each trade once), then its new state."""
        cid = self.profile.order_client_id(o)
        symbol, vid = str(o.get("symbol") or ""), str(o.get("id") or "")
        if not symbol and vid in self._by_vid:  # later updates of some exchanges name the order only
            symbol = self._by_vid[vid][0]
        if not cid:
            cid = self._client_ids.get((symbol, vid), "")
        if not cid or not symbol:
            return
        self._learn(symbol, vid, cid)
        side = Side.SELL if o.get("side") == "sell" else Side.BUY
        status = o.get("status")
        fills: list[Fill] = []
        for t in self.profile.stream_trades(o):
            f = self._make_fill({**t, "symbol": symbol}, symbol, side, cid, vid)
            key = (symbol, f.trade_id)
            if key in self._seen_trades:
                continue
            self._seen_trades[key] = None
            if len(self._seen_trades) > SEEN_TRADES:
                self._seen_trades.popitem(last=False)
            fills.append(f)
        for i, f in enumerate(fills):
            last = i == len(fills) - 1 and status == "closed"
            self._emit(
                ExecutionReport(
                    self.name,
                    cid,
                    OrderEvent.FILL if last else OrderEvent.PARTIAL_FILL,
                    f.ts_ms,
                    venue_order_id=vid,
                    fill=f,
                )
            )
        if status in _FINAL_EVENTS and cid not in self._ended:
            self._ended.add(cid)
            self._emit(
                ExecutionReport(
                    self.name, cid, _FINAL_EVENTS[status], self._now(), venue_order_id=vid, reason=_reason(o)
                )
            )
        elif status == "open" and cid not in self._acked:
            self._acked.add(cid)
            self._emit(ExecutionReport(self.name, cid, OrderEvent.ACCEPTED, self._now(), venue_order_id=vid))


async def _maybe_await(value: Any) -> Any:
    """ccxt's ``authenticate`` is a coroutine on some exchanges (Binance) and plain on others (Upbit)."""
    return await value if inspect.isawaitable(value) else value


def _when(t: dict[str, Any]) -> tuple[int, str]:
    """A trade's time, then the exchange's finer sequence time where it gives one (fills within one
    millisecond keep their order)."""
    info = t.get("info") or {}
    return int(t.get("timestamp") or 0), str(info.get("sequence_timestamp") or "")


def _reason(o: dict[str, Any]) -> str:
    info = o.get("info") or {}
    for key in ("eR", "r"):
        value = info.get(key) if isinstance(info, dict) else None
        if value and value != "NONE":
            return str(value)
    return str(o.get("status") or "")
