"""Backtest benchmarks: the SMA crossover (10/30) on the shared BTC/USDT 1h history through our
backtester (backtesting.py's rules: ``BacktestConfig.backtesting_py``) and through backtesting.py
itself, timed in the same run (best of a few runs each, after a warm-up), with the same trades
checked before any figure is printed."""

from __future__ import annotations

import sys
import time
import warnings
from decimal import Decimal
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
CANDLES = ROOT.parent / "shared" / "data" / "candles" / "binance"
CASH, FEE, FAST, SLOW = 10_000_000, 0.001, 10, 30


def _candles():  # type: ignore[no-untyped-def]
    from app.signals.candles import load_file, make_candles

    path = CANDLES / "1h" / "BTC_USDT-1h.csv.gz"
    if path.exists():
        return load_file(path)
    print("backtest bench: no shared candles here, timing a random walk of the same length", file=sys.stderr)
    rng = np.random.default_rng(1)
    n = 64_524
    close = np.round(4000 * np.exp(np.cumsum(rng.normal(0, 0.01, n))), 2)
    t = np.arange(n, dtype=np.int64) * 3_600_000 + 1_502_942_400_000
    return make_candles(
        "BTC/USDT", "1h", np.column_stack([t, close, close * 1.004, close * 0.996, close, rng.uniform(1, 100, n)])
    )


def _peer(c):  # type: ignore[no-untyped-def]
    import pandas as pd
    from backtesting import Backtest, Strategy
    from backtesting.lib import crossover

    df = pd.DataFrame(
        {"Open": c.open, "High": c.high, "Low": c.low, "Close": c.close, "Volume": c.volume},
        index=pd.to_datetime(c.open_ms, unit="ms"),
    )

    def sma(values, n):  # type: ignore[no-untyped-def]
        return pd.Series(values).rolling(n).mean()

    class SmaCross(Strategy):
        fast, slow = FAST, SLOW

        def init(self) -> None:
            self.a = self.I(sma, self.data.Close, self.fast)
            self.b = self.I(sma, self.data.Close, self.slow)

        def next(self) -> None:
            if crossover(self.a, self.b):
                self.position.close()
                self.buy()
            elif crossover(self.b, self.a):
                self.position.close()
                self.sell()

    def run():  # type: ignore[no-untyped-def]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Backtest(df, SmaCross, cash=CASH, commission=FEE).run()

    return run


def _best(fn, runs: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    fn()  # warm-up
    best, out = float("inf"), None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def figures() -> list[tuple[str, float, str]]:
    from app.backtest.engine import BacktestConfig, run_backtest
    from app.backtest.strategies import SmaCross

    c = _candles()
    config = BacktestConfig.backtesting_py(Decimal(CASH), Decimal(str(FEE)))
    ours_s, r = _best(lambda: run_backtest(SmaCross(fast=FAST, slow=SLOW), c, config), 7)
    peer_s, stats = _best(_peer(c), 3)
    mine = [
        (t.entry_bar, t.exit_bar, float(t.entry_price), float(t.exit_price or 0), int(t.quantity) * t.direction)
        for t in r.closed_trades
    ]  # type: ignore[attr-defined]
    peer = [
        (int(x.EntryBar), int(x.ExitBar), float(x.EntryPrice), float(x.ExitPrice), int(x.Size))
        for x in stats._trades.itertuples()
    ]  # type: ignore[attr-defined]
    if mine != peer:
        raise AssertionError(f"different trades: {len(mine)} here, {len(peer)} in backtesting.py")
    return [
        ("backtest_bars_per_s", len(c) / ours_s, "bars/s"),
        ("backtest_speedup_vs_backtesting_py", peer_s / ours_s, "x"),
        ("backtest_backtesting_py_bars_per_s", len(c) / peer_s, "bars/s"),
        ("backtest_trades", float(len(mine)), "trades"),
    ]
