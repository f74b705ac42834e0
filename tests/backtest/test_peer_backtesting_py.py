"""The backtester against backtesting.py on real candles: the same SMA crossover under the same
rules (market orders at the next bar's open, 0.1 % commission on each side, the position closed and
reversed on each cross, whole units of 99.99 % of equity) gives the same trades — entry and exit
bar, time, price and size — and the same final equity.

backtesting.py as configured: ``Backtest(data, SmaCross, cash=…, commission=0.001)`` with its
defaults spread=0, trade_on_close=False, hedging=False, exclusive_orders=False and
finalize_trades=False: a trade still open at the end stays open and the final equity marks it at
the last close (ours does the same). ``Position.close()`` then ``buy()``/``sell()`` in one
``next()``: the close order is processed first, so the new size is computed from the cash after it.
"""

from __future__ import annotations

import warnings
from decimal import Decimal

import numpy as np
import pytest
from backtest_data import real_or_skip

from app.backtest.engine import BacktestConfig, BacktestResult, run_backtest
from app.backtest.strategies import SmaCross
from app.signals.candles import Candles

bt = pytest.importorskip("backtesting")
pd = pytest.importorskip("pandas")
from backtesting.lib import crossover  # noqa: E402

CASH = 10_000_000
FEE = 0.001


def peer_run(c: Candles, fast: int, slow: int) -> tuple[pd.DataFrame, list[tuple[int, float, int]], float]:
    """backtesting.py's closed trades, its open trades (entry ms, price, size) and final equity."""
    df = pd.DataFrame(
        {"Open": c.open, "High": c.high, "Low": c.low, "Close": c.close, "Volume": c.volume},
        index=pd.to_datetime(c.open_ms, unit="ms"),
    )

    def sma(values: np.ndarray, n: int) -> pd.Series:
        return pd.Series(values).rolling(n).mean()

    class PeerSmaCross(bt.Strategy):
        fast = 10
        slow = 30

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

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = bt.Backtest(df, PeerSmaCross, cash=CASH, commission=FEE).run(fast=fast, slow=slow)
    still = [(int(t.entry_time.value // 1_000_000), float(t.entry_price), int(t.size)) for t in stats._strategy.trades]
    return stats._trades, still, float(stats["Equity Final [$]"])


def ours(c: Candles, fast: int, slow: int) -> BacktestResult:
    return run_backtest(
        SmaCross(fast=fast, slow=slow), c, BacktestConfig.backtesting_py(Decimal(CASH), Decimal(str(FEE)))
    )


def compare(c: Candles, fast: int, slow: int, at_least: int) -> None:
    peer, peer_open, peer_equity = peer_run(c, fast, slow)
    r = ours(c, fast, slow)
    mine = r.closed_trades
    assert len(peer) >= at_least
    assert len(mine) == len(peer)
    got = [
        (
            t.entry_bar,
            t.exit_bar,
            t.entry_ms,
            t.exit_ms,
            float(t.entry_price),
            float(t.exit_price or 0),
            int(t.quantity) * t.direction,
        )
        for t in mine
    ]
    want = [
        (
            int(row.EntryBar),
            int(row.ExitBar),
            int(row.EntryTime.value // 1_000_000),
            int(row.ExitTime.value // 1_000_000),
            float(row.EntryPrice),
            float(row.ExitPrice),
            int(row.Size),
        )
        for row in peer.itertuples()
    ]
    assert got == want  # entry/exit bar, time, price and size: identical, trade by trade
    mine_open = [(t.entry_ms, float(t.entry_price), int(t.quantity) * t.direction) for t in r.trades if t.is_open]
    assert mine_open == peer_open
    assert float(r.final_equity) == pytest.approx(peer_equity, rel=1e-4)  # agreed to 0.01 %
    assert abs(float(r.final_equity) / peer_equity - 1) < 1e-9  # in fact to float rounding


def test_sma_cross_on_the_whole_btc_1h_history_trades_as_backtesting_py_does():
    c = real_or_skip("BTC/USDT")
    compare(c, 10, 30, at_least=2000)


def test_sma_cross_20_50_on_eth_1h_trades_as_backtesting_py_does():
    c = real_or_skip("ETH/USDT")
    compare(c.slice(len(c) - 12_000, len(c)), 20, 50, at_least=100)
