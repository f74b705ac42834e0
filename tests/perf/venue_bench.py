"""Benchmarks of the ccxt venue family against the loopback Binance, which runs in a process of
its own (its work is not counted against the client's core):

- ``ws_book_deltas_per_s``: depth updates parsed and applied by ccxt.pro and carried by the venue
  and the engine's market feed onto the bus: a burst of updates, from the first one applied to the
  bus holding the book as the last one left it. ccxt applies every update; the venue publishes the
  book each time it gets the loop, so a burst is coalesced (``ws_book_snapshots_per_s``: how many
  books the bus got meanwhile; Binance itself sends about ten updates a second per symbol);
- ``loopback_ack_p50_ms`` / ``loopback_ack_p99_ms``: ``CcxtVenue.place`` of a resting limit order →
  its acknowledgement, through ccxt with HMAC request signing and the loopback's signature check.
  ccxt's rate limiter is off here: it would measure Binance's allowance, not the path.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BURST = 100_000
ORDERS = 1_000


@contextlib.contextmanager
def loopback_process() -> Iterator[str]:
    """``python -m tests.loopback binance`` on a free port; its base URL."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.loopback", "binance", "--port", "0", "--quiet-market"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = line.split(" on ", 1)[1].split(" ", 1)[0]
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def control(url: str, action: str, **body: object) -> dict:
    req = urllib.request.Request(
        f"{url}/_loopback/{action}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=120) as resp:
        return json.loads(resp.read())


async def _book_deltas(url: str, n: int) -> tuple[float, float]:
    from app.domain.market import BookSnapshot
    from app.engine.bus import EventBus
    from app.engine.feed import MarketFeed
    from app.venues.ccxt import CcxtMarketData, profile_for

    data = CcxtMarketData(profile_for("binance"), base_url=url, config={"enableRateLimit": False})
    bus = EventBus()
    published: list[tuple[float, int]] = []  # (when, the update id the published book shows)

    def on_book(_b: BookSnapshot) -> None:
        published.append((time.perf_counter(), data.exchange.orderbooks["BTC/USDT"]["nonce"]))

    bus.subscribe(BookSnapshot, on_book)
    feed = MarketFeed(bus)
    control(url, "book", symbol="BTCUSDT", mid="60000", levels=20, qty="1", step="0.01")
    await data.load_markets()
    feed.watch(data, "BTC/USDT", trades=False, book=True, bars=False)
    while not published:
        await asyncio.sleep(0.01)
    start_nonce = published[-1][1]
    burst = asyncio.get_running_loop().run_in_executor(None, lambda: control(url, "burst", symbol="BTCUSDT", n=n))
    while data.exchange.orderbooks["BTC/USDT"]["nonce"] == start_nonce:
        await asyncio.sleep(0)
    t0, first = time.perf_counter(), len(published)
    last = (await burst)["last_update_id"]
    while published[-1][1] != last:  # the bus has the book as the last update left it
        await asyncio.sleep(0.001)
    elapsed = published[-1][0] - t0
    await feed.close()
    await data.close()
    return (last - start_nonce) / elapsed, (len(published) - first) / elapsed


def ws_book_figures() -> list[tuple[str, float, str]]:
    with loopback_process() as url:
        asyncio.run(_book_deltas(url, 5_000))  # warm-up
        deltas, snapshots = asyncio.run(_book_deltas(url, BURST))
    return [("ws_book_deltas_per_s", deltas, "deltas/s"), ("ws_book_snapshots_per_s", snapshots, "books/s")]


async def _acks(url: str, n: int) -> list[float]:
    from app.domain.enums import OrderType, Side
    from app.domain.order import Order
    from app.venues.ccxt import CcxtVenue, profile_for

    sys.path.insert(0, str(ROOT / "tests"))
    from loopback.binance import API_KEY, SECRET

    control(url, "reset", balances={"USDT": "100000000", "BTC": "100"})
    control(url, "book", symbol="BTCUSDT", mid="60000", levels=20, qty="1")
    venue = CcxtVenue(
        profile_for("binance"), api_key=API_KEY, secret=SECRET, base_url=url, config={"enableRateLimit": False}
    )
    await venue.load_markets()
    lat: list[float] = []
    for i in range(n):
        o = Order(
            f"bench{i}",
            "binance",
            "BTC/USDT",
            Side.BUY,
            OrderType.LIMIT,
            Decimal("0.001"),
            price=Decimal("50000") + i % 1000,
        )
        s = time.perf_counter()
        ack = await venue.place(o)
        lat.append(time.perf_counter() - s)
        assert ack.event.value == "accepted", ack
    await venue.close()
    return lat


def ack_figures() -> list[tuple[str, float, str]]:
    with loopback_process() as url:
        asyncio.run(_acks(url, 100))  # warm-up
        lat = sorted(asyncio.run(_acks(url, ORDERS)))
    return [
        ("loopback_ack_p50_ms", statistics.median(lat) * 1000, "ms"),
        ("loopback_ack_p99_ms", lat[int(len(lat) * 0.99)] * 1000, "ms"),
    ]


if __name__ == "__main__":
    sys.path[:0] = [str(ROOT)]
    for name, value, unit in ws_book_figures() + ack_figures():
        print(f"{name}: {value:.3f} {unit}")
