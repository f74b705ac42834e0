"""Store timings on a SQLite file (figures, not pass/fail): ``python tests/storage/bench_store.py``.

Prints µs per save_order (insert, then update), per save_fill, per fill+order transaction, and the
seconds for upsert_bars / load_bars of 100,000 bars.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.domain.enums import LiquiditySide, OrderStatus, OrderType, Side
from app.domain.market import Bar
from app.domain.order import Fill, Order
from app.storage import Store

D = Decimal
N = 20_000


def timed(label: str, fn: Callable[[object], object], items: Iterable[object]) -> None:
    lat: list[float] = []
    t0 = time.perf_counter()
    for x in items:
        s = time.perf_counter()
        fn(x)
        lat.append(time.perf_counter() - s)
    mean = (time.perf_counter() - t0) / len(lat)
    lat.sort()
    print(
        f"{label:24s} mean {mean * 1e6:6.1f} µs   p50 {lat[len(lat) // 2] * 1e6:6.1f} µs   "
        f"p99 {lat[int(len(lat) * 0.99)] * 1e6:6.1f} µs"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{Path(tmp).as_posix()}/bench.sqlite3")
        orders = [
            Order(
                f"c{i}",
                "sim",
                "BTC/USDT",
                Side.BUY,
                OrderType.LIMIT,
                D("0.001"),
                price=D("65000.01"),
                created_ms=i,
                updated_ms=i,
            )
            for i in range(N)
        ]
        for o in orders[:1000]:  # warm-up
            store.save_order(o)
        timed("save_order (insert)", store.save_order, orders)  # type: ignore[arg-type]
        for o in orders:
            o.status, o.venue_order_id = OrderStatus.NEW, f"v{o.client_order_id}"
        timed("save_order (update)", store.save_order, orders)  # type: ignore[arg-type]
        fills = [
            Fill(
                f"t{i}",
                f"c{i}",
                f"v{i}",
                "sim",
                "BTC/USDT",
                Side.BUY,
                D("0.001"),
                D("65000.01"),
                D("0.00000065"),
                "BNB",
                LiquiditySide.MAKER,
                i,
            )
            for i in range(N)
        ]
        timed("save_fill (new)", store.save_fill, fills)  # type: ignore[arg-type]
        timed("save_fill (duplicate)", store.save_fill, fills)  # type: ignore[arg-type]
        more = [
            Fill(
                f"u{i}",
                f"c{i}",
                f"v{i}",
                "sim",
                "BTC/USDT",
                Side.BUY,
                D("0.001"),
                D("65000.01"),
                D("0.00000065"),
                "BNB",
                LiquiditySide.MAKER,
                i,
            )
            for i in range(N)
        ]

        def fill_and_order(i: object) -> None:
            assert isinstance(i, int)
            with store.transaction():
                store.save_fill(more[i])
                orders[i].status = OrderStatus.FILLED
                store.save_order(orders[i])

        timed("fill + order, one tx", fill_and_order, range(N))
        bars = [
            Bar(
                "sim",
                "BTC/USDT",
                "1m",
                i * 60_000,
                D("65000.1"),
                D("65010.25"),
                D("64990.5"),
                D("65001.75"),
                D("12.345678"),
            )
            for i in range(100_000)
        ]
        t0 = time.perf_counter()
        store.upsert_bars(bars)
        t1 = time.perf_counter()
        store.upsert_bars(bars)
        t2 = time.perf_counter()
        store.load_bars("sim", "BTC/USDT", "1m")
        t3 = time.perf_counter()
        print(f"upsert_bars 100k: new {t1 - t0:.2f} s, replacing {t2 - t1:.2f} s; load_bars 100k {t3 - t2:.2f} s")
        store.close()


if __name__ == "__main__":
    main()
