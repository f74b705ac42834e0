"""A venue with trouble on demand, at the network boundary: calls held until the test lets them go,
or failing with the errors a real exchange gives. Everything else is the paper venue's."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from app.domain.errors import TemporaryVenueError
from app.domain.execution import ExecutionReport
from app.domain.order import Order

Pick = Callable[[Order], bool]


class FaultyVenue:
    """Wraps a venue: ``hold("place", pick)`` makes matching calls wait for ``release()``;
    ``fail("cancel", pick)`` makes them raise a temporary error (no answer from the exchange)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._holds: dict[str, Pick] = {}
        self._fails: dict[str, Pick] = {}
        self.gate = asyncio.Event()
        self.waiting: list[Order] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def hold(self, call: str, pick: Pick = lambda o: True) -> None:
        self._holds[call] = pick
        self.gate.clear()

    def fail(self, call: str, pick: Pick = lambda o: True) -> None:
        self._fails[call] = pick

    def heal(self) -> None:
        self._holds.clear()
        self._fails.clear()
        self.gate.set()

    async def _through(self, call: str, order: Order) -> None:
        if call in self._fails and self._fails[call](order):
            raise TemporaryVenueError(detail=f"{call} timed out")
        if call in self._holds and self._holds[call](order):
            self.waiting.append(order)
            await self.gate.wait()

    async def place(self, order: Order) -> ExecutionReport:
        await self._through("place", order)
        return await self._inner.place(order)

    async def cancel(self, order: Order) -> ExecutionReport:
        await self._through("cancel", order)
        return await self._inner.cancel(order)

    async def wait_held(self, n: int = 1) -> None:
        while len(self.waiting) < n:
            await asyncio.sleep(0)
