"""Benchmarks (figures, not pass/fail): ``python tests/perf/run.py [NAME ...]``.

Prints one ``NAME: VALUE UNIT`` line per figure. Headless; all of them take well under a few minutes.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(Path(__file__).resolve().parent)]
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from helpers import Rig  # noqa: E402

from app.domain.enums import OrderType, Side  # noqa: E402
from app.domain.market import BookSnapshot, Trade  # noqa: E402
from app.domain.order import OrderRequest  # noqa: E402
from app.engine.risk import RiskLimits  # noqa: E402

D = Decimal
OPEN_LIMITS = RiskLimits(
    max_order_notional=None,
    max_position_notional=None,
    max_open_orders=None,
    submits_per_second=None,
    submits_per_day=None,
    duplicate_count=None,
    price_band_pct=None,
    daily_loss_limit=None,
)
FIGURES: dict[str, Callable[[], list[tuple[str, float, str]]]] = {}


def figure(*names: str):
    def wrap(fn):
        for n in names:
            FIGURES[n] = fn
        return fn

    return wrap


async def _paper_orders(n: int) -> tuple[float, list[float]]:
    with tempfile.TemporaryDirectory() as tmp:
        rig = Rig(Path(tmp), balances={"USDT": "1000000000", "BTC": "100000"}, limits=OPEN_LIMITS)
        await rig.start()
        rig.book("60000")
        rig.trade("60000")
        lat: list[float] = []
        t0 = time.perf_counter()
        for i in range(n):
            side = Side.BUY if i % 2 else Side.SELL
            px = D("50000") + D(i % 1000) if side is Side.BUY else D("70000") - D(i % 1000)
            s = time.perf_counter()
            o = await rig.om.submit(OrderRequest("sim", "BTC/USDT", side, OrderType.LIMIT, D("0.001"), price=px))
            lat.append(time.perf_counter() - s)
            assert o is not None and o.status.value == "new", o and o.reason
        total = time.perf_counter() - t0
        stored = len(rig.store.load_open_orders())
        assert stored == n, stored
        rig.close()
        return total, lat


_cache: dict[str, object] = {}


@figure("paper_orders_per_s", "paper_ack_p50_ms", "paper_ack_p99_ms")
def paper_orders() -> list[tuple[str, float, str]]:
    if "orders" not in _cache:
        asyncio.run(_paper_orders(500))  # warm-up
        _cache["orders"] = asyncio.run(_paper_orders(5000))
    total, lat = _cache["orders"]  # type: ignore[misc]
    lat = sorted(lat)
    return [
        ("paper_orders_per_s", len(lat) / total, "orders/s"),
        ("paper_ack_p50_ms", statistics.median(lat) * 1000, "ms"),
        ("paper_ack_p99_ms", lat[int(len(lat) * 0.99)] * 1000, "ms"),
    ]


async def _bus_events(n: int) -> float:
    from app.venues.demo import DemoMarket

    market = DemoMarket(seed=3, speed=0)
    events = list(market.events("BTC/USDT", n))
    with tempfile.TemporaryDirectory() as tmp:
        rig = Rig(Path(tmp), balances={"USDT": "1000000000", "BTC": "100000"}, limits=OPEN_LIMITS)
        await rig.start()
        first = next(e for e in events if isinstance(e, Trade))
        rig.book(str(first.price))
        rig.trade(str(first.price))
        # Resting orders far from the market give the matcher something to look at on every trade.
        for i in range(50):
            await rig.om.submit(
                OrderRequest(
                    "sim",
                    "BTC/USDT",
                    Side.BUY,
                    OrderType.LIMIT,
                    D("0.001"),
                    price=(first.price * D("0.9")).quantize(D("0.01")) - i,
                )
            )
        venue, publish = rig.venue, rig.bus.publish
        on_trade, on_book = venue.on_trade, venue.on_book
        t0 = time.perf_counter()
        for ev in events:  # what MarketFeed + PaperVenue.watch_* do for each event
            if isinstance(ev, Trade):
                on_trade(ev)
            elif isinstance(ev, BookSnapshot):
                on_book(ev)
            publish(ev)
        elapsed = time.perf_counter() - t0
        rig.close()
        return n / elapsed


@figure("bus_events_per_s")
def bus_events() -> list[tuple[str, float, str]]:
    return [("bus_events_per_s", asyncio.run(_bus_events(200_000)), "events/s")]


@figure("chart_1m_frame_p95_ms", "chart_append_ms")
def chart() -> list[tuple[str, float, str]]:
    import ui_bench

    return ui_bench.chart_figures()


@figure("ui_stall_p99_ms")
def ui_stall() -> list[tuple[str, float, str]]:
    import ui_bench

    return ui_bench.ui_stall()


@figure("ui_dialog_feed_gap_ms")
def ui_dialog_feed_gap() -> list[tuple[str, float, str]]:
    import ui_bench

    return ui_bench.dialog_feed_gap()


@figure("onnx_infer_p50_us", "onnx_infer_p99_us", "onnx_floor_p50_us", "onnx_floor_p99_us", "onnx_infer_vs_floor")
def onnx_infer() -> list[tuple[str, float, str]]:
    import signal_bench

    return signal_bench.onnx_figures()


@figure("signal_per_bar_p50_us", "signal_per_bar_p99_us", "signal_features_p50_us")
def signal_per_bar() -> list[tuple[str, float, str]]:
    import signal_bench

    return signal_bench.signal_figures()


@figure("ws_book_deltas_per_s", "ws_book_snapshots_per_s")
def ws_book_deltas() -> list[tuple[str, float, str]]:
    import venue_bench

    return venue_bench.ws_book_figures()


@figure("loopback_ack_p50_ms", "loopback_ack_p99_ms")
def loopback_ack() -> list[tuple[str, float, str]]:
    import venue_bench

    return venue_bench.ack_figures()


@figure(
    "backtest_bars_per_s", "backtest_speedup_vs_backtesting_py", "backtest_backtesting_py_bars_per_s", "backtest_trades"
)
def backtest() -> list[tuple[str, float, str]]:
    import backtest_bench

    return backtest_bench.figures()


@figure("startup_window_s", "rss_mb", "startup_window_source_s", "rss_source_mb")
def startup() -> list[tuple[str, float, str]]:
    import dist_bench  # the built executable (python packaging/build.py), else python -m app

    return dist_bench.startup_figures()


@figure("dist_size_mb", "dist_onefile_mb")
def dist_size() -> list[tuple[str, float, str]]:
    import dist_bench

    return dist_bench.dist_figures()


@figure("history_download_candles_per_s")
def history_download() -> list[tuple[str, float, str]]:
    import exchange_tools_bench

    return exchange_tools_bench.history_figures()


@figure("vault_unlock_ms")
def vault_unlock() -> list[tuple[str, float, str]]:
    import exchange_tools_bench

    return exchange_tools_bench.vault_figures()


@figure("indicators_1m_points_ms")
def indicators_million() -> list[tuple[str, float, str]]:
    """SMA, EMA, Bollinger, RSI, MACD and session VWAP over a million closes (best of 3)."""
    import numpy as np

    from app.signals import indicators as ind

    x = 60_000 * np.exp(np.cumsum(np.random.default_rng(1).standard_normal(1_000_000) * 0.001))
    v = np.ones(len(x))
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        ind.sma(x, 20)
        ind.ema(x, 26)
        ind.bollinger(x, 20)
        ind.rsi(x)
        ind.macd(x)
        ind.vwap(x, x, x, v, np.arange(0, len(x), 1440))
        best = min(best, time.perf_counter() - t0)
    return [("indicators_1m_points_ms", best * 1000, "ms")]


@figure("store_upsert_100k_bars_s")
def store_upsert() -> list[tuple[str, float, str]]:
    """100,000 new 1m bars into a SQLite file (one call, as a history download stores them)."""
    from app.domain.market import Bar
    from app.storage import Store

    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        bars = [
            Bar("sim", "BTC/USDT", "1m", i * 60_000, D("65000"), D("65010.25"), D("64990"), D("65001.75"), D("1"))
            for i in range(100_000)
        ]
        t0 = time.perf_counter()
        store.upsert_bars(bars)
        took = time.perf_counter() - t0
        store.close()
    return [("store_upsert_100k_bars_s", took, "s")]


def main(argv: list[str]) -> int:
    wanted = argv or list(FIGURES)
    unknown = [w for w in wanted if w not in FIGURES]
    if unknown:
        print(f"unknown figure(s): {', '.join(unknown)}; known: {', '.join(FIGURES)}", file=sys.stderr)
        return 2
    done: set[str] = set()
    for name in wanted:
        fn = FIGURES[name]
        for fig, value, unit in fn():
            if fig in done or (argv and fig not in wanted):
                continue
            done.add(fig)
            print(f"{fig}: {value:.3f} {unit}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
