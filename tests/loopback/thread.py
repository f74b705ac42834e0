"""A loopback exchange on its own thread and event loop: one server for a whole test module
(each test runs on a fresh asyncio loop of its own). Calls into the server go through ``call``,
which runs them on the server's loop and waits for the answer."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")
S = TypeVar("S")


class LoopbackThread(Generic[S]):
    def __init__(self, make: Callable[[], S]) -> None:
        self._make = make
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self.server: S | None = None
        self._thread = threading.Thread(target=self._run, name="loopback-exchange", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self._make()
        self.loop.run_until_complete(self.server.start())  # type: ignore[attr-defined]
        self._ready.set()
        self.loop.run_forever()

    def start(self) -> S:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("the loopback exchange did not start")
        assert self.server is not None
        return self.server

    def call(self, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        """``fn(*args, **kw)`` on the server's loop (its state is touched from there only)."""

        async def run() -> T:
            return fn(*args, **kw)

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(30)

    async def acall(self, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        """``call`` from a coroutine on another loop, without blocking that loop."""

        async def run() -> T:
            return fn(*args, **kw)

        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(run(), self.loop))

    def stop(self) -> None:
        if self.server is not None:
            asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(30)  # type: ignore[attr-defined]
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()
