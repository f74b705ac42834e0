"""Benchmarks of the ccxt venue family against the loopback Binance, which runs in a process of
its own (its work is not counted against the client's core):

- ``ws_book_deltas_per_s``: depth updates parsed and applied by ccxt.pro and carried by the venue
  and the engine's market feed onto the bus: a burst of updates, from the first one applied to the
  bus holding the book as the last one left it. ccxt applies every update; the venue publishes the
  book each time it gets the loop, so a burst is coalesced (``ws_book_snapshots_per_s``: how many
  books the bus got meanwhile; Binance itself sends about ten updates a second per symbol);
- ``loopback_ack_p50_ms`` / ``loopback_ack_p99_ms``: ``CcxtVenue.place`` of a resting limit order →
  its acknowledgement, through ccxt with HMAC request signing and the loopback's signature check.
  ccxt's rate limiter is off here: it would measure Binance's allowance, not the path;
- ``loopback_ack_p50_ms_<exchange>`` / ``..._p99_ms_<exchange>`` for Upbit (a JWT with a SHA512
  query hash), Kraken (HMAC-SHA512 over nonce and body) and Coinbase (an ES256 JWT per request),
  each against its own loopback (``python -m tests.loopback <exchange>``), the same measure.
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
def loopback_process(exchange: str = "binance") -> Iterator[str]:
    """``python -m tests.loopback <exchange>`` on a free port; its base URL."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.loopback", exchange, "--port", "0", "--quiet-market"],
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


# exchange -> (symbol, mid, balances, lowest bid price, price step between orders, order quantity)
OTHERS: dict[str, tuple[str, str, dict[str, str], Decimal, Decimal, Decimal]] = {
    "upbit": (
        "BTC/KRW",
        "100000000",
        {"KRW": "1000000000000", "BTC": "100"},
        Decimal(90_000_000),
        Decimal(1000),
        Decimal("0.001"),
    ),
    "kraken": (
        "BTC/USDT",
        "60000",
        {"USDT": "100000000", "BTC": "100"},
        Decimal(50_000),
        Decimal("0.1"),
        Decimal("0.001"),
    ),
    "coinbase": (
        "BTC/USD",
        "60000",
        {"USD": "100000000", "BTC": "100"},
        Decimal(50_000),
        Decimal("0.01"),
        Decimal("0.001"),
    ),
}


async def _other_acks(exchange: str, url: str, n: int) -> list[float]:
    from app.domain.enums import OrderType, Side
    from app.domain.order import Order
    from app.venues.ccxt import CcxtVenue, profile_for

    sys.path.insert(0, str(ROOT / "tests"))
    from loopback.testing import LOOPBACKS

    symbol, mid, balances, low, step, qty = OTHERS[exchange]
    _cls, key, secret = LOOPBACKS[exchange]
    control(url, "reset", balances=balances)
    control(url, "book", symbol=symbol, mid=mid, levels=20, qty="1", spread=str(step * 2), step=str(step))
    control(url, "trade", symbol=symbol, price=mid, qty="0.1")
    venue = CcxtVenue(
        profile_for(exchange), api_key=key, secret=secret, base_url=url, config={"enableRateLimit": False}
    )
    await venue.load_markets()
    lat: list[float] = []
    for i in range(n):
        o = Order(
            f"b{exchange[:2]}{i}", exchange, symbol, Side.BUY, OrderType.LIMIT, qty, price=low + (i % 1000) * step
        )
        s = time.perf_counter()
        ack = await venue.place(o)
        lat.append(time.perf_counter() - s)
        assert ack.event.value == "accepted", ack
    await venue.close()
    return lat


def other_ack_figures(exchanges: tuple[str, ...] = ("upbit", "kraken", "coinbase")) -> list[tuple[str, float, str]]:
    out: list[tuple[str, float, str]] = []
    for exchange in exchanges:
        with loopback_process(exchange) as url:
            asyncio.run(_other_acks(exchange, url, 50))  # warm-up
            lat = sorted(asyncio.run(_other_acks(exchange, url, ORDERS // 2)))
        out += [
            (f"loopback_ack_p50_ms_{exchange}", statistics.median(lat) * 1000, "ms"),
            (f"loopback_ack_p99_ms_{exchange}", lat[int(len(lat) * 0.99)] * 1000, "ms"),
        ]
    return out


if __name__ == "__main__":
    sys.path[:0] = [str(ROOT)]
    which = sys.argv[1:] or ["book", "ack", "others"]
    figures = (
        (ws_book_figures() if "book" in which else [])
        + (ack_figures() if "ack" in which else [])
        + (other_ack_figures() if "others" in which else [])
    )
    for name, value, unit in figures:
        print(f"{name}: {value:.3f} {unit}")
