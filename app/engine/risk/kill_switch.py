"""The kill switch: halt, cancel everything, optionally sell what is held.

The intent is stored before anything else, so a crash half-way is finished by the next start
(which arms and re-sends nothing while halted). Every live order list is put in "cancelling"
first — exits on their way are cancelled too — then every open order is cancelled; cancels that
get no answer are retried until each is confirmed, and what still works is reported by name, not
counted as done. "Close all positions" sells holdings at market (a spot account has no shorts).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal

from app.domain.enums import OrderListStatus, OrderOrigin, OrderType, Side, TradingState
from app.domain.order import Order, OrderRequest
from app.i18n import N_

from ..execution.core import Core
from ..execution.emulator import OrderEmulator
from ..execution.engine import ExecutionEngine
from ..execution.lists import ListManager

INTENT = "risk.kill"
ROUND_WAITS_S = (0.2, 0.5, 1.0)  # between the first cancel rounds
RETRY_EVERY_S = 2.0  # afterwards, in the background, until every cancel is confirmed


@dataclass(frozen=True, slots=True)
class KillResult:
    cancelled: int
    working: tuple[str, ...]  # client order ids still working when the call returned
    flattened: int

    def __getitem__(self, key: str) -> int:  # the older dict form: result["cancelled"]
        return {"cancelled": self.cancelled, "flattened": self.flattened, "working": len(self.working)}[key]


class KillSwitch:
    def __init__(
        self,
        core: Core,
        execution: ExecutionEngine,
        lists: ListManager,
        emulator: OrderEmulator,
        set_state: Callable[[TradingState, str], None],
        flatten: Callable[[], Awaitable[int]],
    ) -> None:
        self.core = core
        self.execution = execution
        self.lists = lists
        self.emulator = emulator
        self.set_state = set_state
        self.flatten = flatten
        self._retry: asyncio.Task[None] | None = None

    @property
    def pending(self) -> dict[str, object] | None:
        intent = self.core.store.get_setting(INTENT)
        return intent if isinstance(intent, dict) and intent.get("pending") else None

    async def trip(self, flatten: bool) -> KillResult:
        c = self.core
        c.store.set_setting(INTENT, {"pending": True, "flatten": flatten, "ts_ms": c.clock.now_ms()})
        self.set_state(TradingState.HALTED, "kill_switch")
        c.audit.record("kill_switch", "", flatten=flatten)
        c.activity.warning(N_("KILL SWITCH: trading halted, cancelling every open order"))
        return await self.finish(flatten)

    async def finish(self, flatten: bool) -> KillResult:
        """Cancel everything (also after a restart that found the kill switch half done)."""
        c = self.core
        self.emulator.halted = True
        for ol in c.cache.live_lists():
            if ol.status is OrderListStatus.ACTIVE:
                ol.status, ol.note = OrderListStatus.CANCELLING, "kill switch"
                self.lists.save(ol)
        targets = [o for o in c.cache.iter_open() if o.origin is not OrderOrigin.FLATTEN]
        cancelled = 0
        for wait in (*ROUND_WAITS_S, None):
            working = [o for o in targets if o.is_open]
            if not working:
                break
            results = await asyncio.gather(
                *(self.execution.cancel(o, "kill switch") for o in working), return_exceptions=True
            )
            cancelled += sum(1 for r in results if r is True)
            if wait is not None and any(o.is_open for o in targets):
                await asyncio.sleep(wait)
        for ol in c.cache.live_lists():
            self.lists.evaluate(ol)
        flattened = await self.flatten() if flatten else 0
        still = tuple(o.client_order_id for o in c.cache.iter_open() if o.origin is not OrderOrigin.FLATTEN)
        if still:
            c.activity.error(
                N_("Kill switch: {n} orders still working ({orders}); cancelling again until confirmed"),
                n=str(len(still)),
                orders=", ".join(still[:10]),
            )
            if self._retry is None or self._retry.done():
                self._retry = asyncio.ensure_future(self._until_done())
        else:
            self._clear()
        c.activity.warning(
            N_("Kill switch done: {c} orders cancelled, {w} still working, {f} positions closed"),
            c=str(cancelled),
            w=str(len(still)),
            f=str(flattened),
        )
        return KillResult(cancelled, still, flattened)

    async def _until_done(self) -> None:
        c = self.core
        while c.risk.state is TradingState.HALTED:
            working = [o for o in c.cache.iter_open() if o.origin is not OrderOrigin.FLATTEN]
            if not working:
                self._clear()
                c.activity.info(N_("Kill switch: every order is cancelled now"))
                return
            await asyncio.sleep(RETRY_EVERY_S)
            await asyncio.gather(
                *(self.execution.cancel(o, "kill switch") for o in working if o.is_open), return_exceptions=True
            )

    def _clear(self) -> None:
        self.core.store.delete_setting(INTENT)

    async def close(self) -> None:
        if self._retry is not None and not self._retry.done():
            self._retry.cancel()
            await asyncio.gather(self._retry, return_exceptions=True)


async def flatten(
    core: Core, submit: Callable[[OrderRequest], Awaitable[Order | None]], available: Callable[[str, str], Decimal]
) -> int:
    """Sell, at market, every coin held that a market of its venue buys (a spot account has no
    shorts to cover). Returns how many sales were placed."""
    done = 0
    pf = core.portfolio
    for venue in sorted(core.venues):
        for asset in sorted(pf.holdings(venue)):
            inst = pf.home_instrument(venue, asset)
            if inst is None or asset == pf.ccy:
                continue
            qty = inst.round_qty(available(venue, asset))
            if qty <= 0 or qty < inst.min_qty:
                continue
            req = OrderRequest(
                venue, inst.symbol, Side.SELL, OrderType.MARKET, qty, tag="flatten", origin=OrderOrigin.FLATTEN
            )
            if await submit(req) is not None:
                done += 1
    return done
