"""Helpers for tests against loopback exchanges: a server per test module (on its own thread),
venues pointed at it with short timings, and waiting for conditions without timing asserts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from app.venues.ccxt import CcxtMarketData, CcxtVenue, Timing, profile_for

from . import coinbase, kraken, upbit
from .binance import API_KEY, SECRET, BinanceLoopback
from .thread import LoopbackThread

# exchange -> (its loopback server class, API key, secret)
LOOPBACKS: dict[str, tuple[Any, str, str]] = {
    "binance": (BinanceLoopback, API_KEY, SECRET),
    "upbit": (upbit.UpbitLoopback, upbit.API_KEY, upbit.SECRET),
    "kraken": (kraken.KrakenLoopback, kraken.API_KEY, kraken.SECRET),
    "coinbase": (coinbase.CoinbaseLoopback, coinbase.API_KEY, coinbase.SECRET),
}

# Short enough for tests to see a reconnect or a stall within a second or two; the machine's
# speed only matters to how long a test waits, never to whether it passes.
FAST = Timing(keepalive_ms=250, stall_after_s=1.5, poll_s=0.1, watchdog_every_s=0.1)


@contextmanager
def binance_thread(**kw: Any) -> Iterator[LoopbackThread[BinanceLoopback]]:
    lb = LoopbackThread(lambda: BinanceLoopback(**kw))
    lb.start()
    try:
        yield lb
    finally:
        lb.stop()


def binance_venue(
    base_url: str,
    *,
    secret: str = SECRET,
    api_key: str = API_KEY,
    timing: Timing = FAST,
    symbols: tuple[str, ...] = ("BTC/USDT",),
    timeout_ms: int = 5000,
    name: str | None = None,
    **config: Any,
) -> CcxtVenue:
    profile = profile_for("binance", timing=timing, **({"name": name} if name else {}))
    return CcxtVenue(
        profile,
        api_key=api_key,
        secret=secret,
        base_url=base_url,
        symbols=symbols,
        config={"timeout": timeout_ms, **config},
    )


def binance_data(base_url: str, *, timing: Timing = FAST, **config: Any) -> CcxtMarketData:
    return CcxtMarketData(profile_for("binance", timing=timing), base_url=base_url, config=config)


# Kraken's real request budget (ccxt's limiter: seconds per private call) would make each test wait
# for minutes; against a loopback the limiter runs with a short step (it still spaces the requests).
FAST_LIMITS: dict[str, dict[str, Any]] = {"kraken": {"rateLimit": 20}, "coinbase": {"rateLimit": 10}}


@contextmanager
def loopback_thread(exchange: str, **kw: Any) -> Iterator[LoopbackThread[Any]]:
    """The loopback ``exchange`` on its own thread for the ``with`` block."""
    cls = LOOPBACKS[exchange][0]
    lb: LoopbackThread[Any] = LoopbackThread(lambda: cls(**kw))
    lb.start()
    try:
        yield lb
    finally:
        lb.stop()


def loopback_venue(
    exchange: str,
    base_url: str,
    *,
    secret: str | None = None,
    api_key: str | None = None,
    timing: Timing = FAST,
    symbols: tuple[str, ...] = (),
    timeout_ms: int = 5000,
    name: str | None = None,
    **config: Any,
) -> CcxtVenue:
    """A ccxt venue of ``exchange`` pointed at its loopback, with the loopback's key."""
    _cls, key, sec = LOOPBACKS[exchange]
    profile = profile_for(exchange, timing=timing, **({"name": name} if name else {}))
    return CcxtVenue(
        profile,
        api_key=api_key or key,
        secret=secret if secret is not None else sec,
        base_url=base_url,
        symbols=symbols,
        config={"timeout": timeout_ms, **FAST_LIMITS.get(exchange, {}), **config},
    )


def loopback_data(exchange: str, base_url: str, *, timing: Timing = FAST, **config: Any) -> CcxtMarketData:
    return CcxtMarketData(
        profile_for(exchange, timing=timing), base_url=base_url, config={**FAST_LIMITS.get(exchange, {}), **config}
    )


async def until(cond: Callable[[], Any], timeout: float = 15.0, every: float = 0.02, what: str = "") -> Any:
    """Wait for ``cond()`` to be truthy (generous timeout: slow machines wait longer, nothing fails sooner)."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or cond}")
        await asyncio.sleep(every)


class Pump:
    """Drives an async iterator in the background, keeping what it yields (and its error)."""

    def __init__(self, it: Any) -> None:
        self.items: list[Any] = []
        self.error: BaseException | None = None
        self._task = asyncio.ensure_future(self._run(it))

    async def _run(self, it: Any) -> None:
        try:
            async for x in it:
                self.items.append(x)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self.error = exc

    @property
    def done(self) -> bool:
        return self._task.done()

    async def stop(self) -> None:
        self._task.cancel()
        try:
            await self._task
        except (asyncio.CancelledError, Exception):
            pass
