"""Strategies are causal and run the same on a live window as on the whole history; the model
strategy reads forecasts as the app publishes them; the metrics of a hand-made run."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest
from backtest_data import HOUR, bars, real_or_skip

from app.backtest import metrics as M
from app.backtest.engine import BacktestConfig, forecasts_for, run_backtest
from app.backtest.strategies import OnnxSignal, SmaCross, make_strategy
from app.backtest.trades import TradeRecord
from app.signals.features import batch_features


def test_sma_cross_decides_on_its_lookback_window_as_on_the_whole_history():
    c = real_or_skip("BTC/USDT")
    c = c.slice(len(c) - 5000, len(c))
    s = SmaCross(fast=12, slow=40)
    full = s.compute(c)
    sample = np.concatenate([np.flatnonzero(full.events)[:30], np.arange(100, 5000, 97)])
    for t in sample:
        win = c.slice(t - s.lookback, t + 1)  # what a live runner holds at bar t's close
        plan = s.compute(win)
        assert bool(plan.events[-1]) == bool(full.events[t])
        assert plan.values["fast"][-1] == full.values["fast"][t] and plan.values["slow"][-1] == full.values["slow"][t]


def test_onnx_signal_decides_on_its_lookback_window_as_on_the_whole_history(shipped):
    c = real_or_skip("BTC/USDT")
    c = c.slice(len(c) - 3000, len(c))
    s = OnnxSignal(hold=12)
    p = forecasts_for(c, s.model or "")
    full = s.compute(c, p)
    assert 10 < full.events.sum() < 1000
    sample = np.concatenate([np.flatnonzero(full.events)[5:25], np.arange(400, 3000, 211)])
    for t in sample:
        win = c.slice(t - s.lookback, t + 1)
        X, valid = batch_features(win)
        pw = np.full(len(win), np.nan)
        pw[valid] = shipped.predict_proba(X[valid])
        plan = s.compute(win, pw)
        assert bool(plan.events[-1]) == bool(full.events[t]), t
        assert plan.values["long"][-1] == full.values["long"][t]


@pytest.fixture(scope="module")
def shipped():
    from app.signals.registry import load_model

    return load_model()


def test_onnx_signal_reads_a_forecast_as_the_published_signal_does(shipped):
    from app.signals.pipeline import SignalPipeline

    pipe = SignalPipeline(shipped.contract, "v", "BTC/USDT")
    probs = np.array([0.5, 0.50004999, 0.50005, 0.50015, 0.49995, 0.57, 0.5700001, 0.56995, 0.9, 0.0])
    for thr in (0.5, 0.57):
        plan = OnnxSignal(threshold=thr, hold=1).compute(bars([(1, 1, 1, 1)] * len(probs)), probs)
        for p, long in zip(probs, plan.values["long"], strict=True):
            signal = pipe.make_signal(0, p)
            published_up = signal.probability > Decimal(repr(thr))
            assert bool(long) == published_up, (p, thr)


def test_onnx_signal_trades_the_shipped_model_on_real_bars():
    c = real_or_skip("BTC/USDT")
    c = c.slice(len(c) - 4500, len(c))
    r = run_backtest(
        make_strategy("onnx_signal", {"stop_loss": 0.03}), c, BacktestConfig(cash=Decimal(10_000)), start=300
    )
    assert r.metrics.trades >= 10 and 0.05 < r.metrics.exposure < 0.95
    assert all(t.direction == 1 for t in r.trades)  # long/flat on a spot account
    assert r.stats.event_bars < len(r.equity) / 10


def test_metrics_of_a_hand_made_run():
    equity = np.array([100.0, 120, 90, 100, 110, 130, 125])
    t = np.arange(7, dtype=np.int64) * HOUR
    position = np.array([0, 1, 1, 1, 0, 1, 1.0])

    def trade(pnl: int) -> TradeRecord:
        return TradeRecord(1, Decimal(1), 0, 0, Decimal(100), 1, HOUR, Decimal(100), Decimal(0), Decimal(pnl))

    trades = [trade(10), trade(-5), trade(20)]
    m = M.compute(equity, t, equity, position, trades, HOUR, Decimal(100), Decimal(125))
    assert m.total_return == pytest.approx(0.25)
    assert m.max_drawdown == pytest.approx(0.25)  # 120 → 90
    assert (m.max_drawdown_bars, m.max_drawdown_days) == (3, pytest.approx(3 / 24))  # below 120 until 130
    assert m.win_rate == pytest.approx(2 / 3) and m.profit_factor == pytest.approx(6.0)
    assert m.exposure == pytest.approx(5 / 7) and m.trades == 3
    r = np.diff(equity) / equity[:-1]
    per_year = 365.25 * 24
    assert m.sharpe == pytest.approx(r.mean() / r.std(ddof=1) * math.sqrt(per_year))
    assert m.sortino == pytest.approx(r.mean() / math.sqrt(np.mean(np.minimum(r, 0) ** 2)) * math.sqrt(per_year))
    assert m.annual_return == pytest.approx(1.25 ** (per_year / 7) - 1)
    dd = M.drawdown(equity)
    assert dd[2] == pytest.approx(-0.25) and dd[5] == 0
    assert M.compute(equity, t, equity, position, [], HOUR, Decimal(100), Decimal(125)).to_json()["win_rate"] is None
