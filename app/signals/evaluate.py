"""Out-of-sample evaluation of a signal model on a candle folder (what ``signals evaluate`` prints).

For each symbol, over the bars whose open time lies in [start, end): features in batch (the bars
before ``start`` may fill the first windows), the model's probability, the label where bar t+N
also lies before ``end`` (nothing at or after ``end`` is read). Classification figures are over
the labelled bars; the trading figures follow the card's rule over every bar with features:

    a forecast above the threshold at bar t's close opens (or extends) a long held for the next
    ``horizon`` bars — the trade the label describes; a taker fee on each entry and exit.

"Overall" pools the labelled bars of all symbols for the classification figures; its returns are
the mean over symbols (equal capital in each at the start, never rebalanced).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import metrics as M
from .candles import Candles, load_folder
from .features import batch_features
from .labels import forward_labels

Predict = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Rule:
    """The label and the trading rule of a model's contract."""

    horizon: int
    fee: float
    threshold: float


@dataclass
class Evaluation:
    n: int
    auc: float
    accuracy: float
    base_rate: float
    brier: float
    ece: float
    strategy_return: float
    buy_hold_return: float
    exposure: float = 0.0
    trades: int = 0
    reliability: list[M.ReliabilityRow] = field(default_factory=list)

    @property
    def majority_accuracy(self) -> float:
        return max(self.base_rate, 1.0 - self.base_rate) if self.n else float("nan")

    @property
    def brier_base(self) -> float:
        """The Brier score of always forecasting the base rate (what a useless model scores)."""
        return self.base_rate * (1.0 - self.base_rate) if self.n else float("nan")


@dataclass
class SymbolRun:
    """One symbol's evaluated bars: labels and forecasts, and the trade over the range."""

    y: np.ndarray
    p: np.ndarray
    trade: M.TradeResult


def hold_for(signal: np.ndarray, bars: int) -> np.ndarray:
    """True at bar i when ``signal`` was True at any of bars i-bars+1 … i."""
    if bars <= 1:
        return signal.astype(bool)
    pad = np.concatenate((np.zeros(bars - 1, dtype=bool), signal.astype(bool)))
    return np.asarray(np.lib.stride_tricks.sliding_window_view(pad, bars).any(axis=1))


def run_symbol(
    c: Candles,
    predict: Predict,
    rule: Rule,
    start_ms: int | None = None,
    end_ms: int | None = None,
    features: tuple[np.ndarray, np.ndarray] | None = None,
) -> SymbolRun | None:
    """Forecasts, labels and the trade of one symbol over [start, end); None without a forecast."""
    X, vf = features if features is not None else batch_features(c)
    t = c.open_ms
    in_range = np.ones(len(c), dtype=bool)
    if start_ms is not None:
        in_range &= t >= start_ms
    if end_ms is not None:
        in_range &= t < end_ms
    scored = in_range & vf
    idx = np.flatnonzero(scored)
    if not len(idx):
        return None
    y, vl = forward_labels(c, rule.horizon, rule.fee)
    labelled = scored & vl
    if end_ms is not None:
        labelled &= t + rule.horizon * c.tf_ms < end_ms
    p = np.full(len(c), np.nan)
    p[idx] = predict(X[idx])
    first, last = int(idx[0]), int(np.flatnonzero(in_range)[-1])
    signal = scored[first : last + 1] & (p[first : last + 1] > rule.threshold)
    trade = M.long_flat_backtest(c.close[first : last + 1], hold_for(signal, rule.horizon), rule.fee)
    return SymbolRun(y[labelled], p[labelled], trade)


def summarise(y: np.ndarray, p: np.ndarray, threshold: float, trades: Iterable[M.TradeResult]) -> Evaluation:
    tr = list(trades)
    n = len(y)

    def mean(xs: list[float]) -> float:
        return float(np.mean(xs)) if xs else float("nan")

    if not n:
        nan = float("nan")
        return Evaluation(
            0, nan, nan, nan, nan, nan, mean([t.strategy_return for t in tr]), mean([t.buy_hold_return for t in tr])
        )
    return Evaluation(
        n=n,
        auc=M.auc(y, p),
        accuracy=float(np.mean((p > threshold) == (y > 0.5))),
        base_rate=float(np.mean(y)),
        brier=M.brier(y, p),
        ece=M.ece(y, p),
        strategy_return=mean([t.strategy_return for t in tr]),
        buy_hold_return=mean([t.buy_hold_return for t in tr]),
        exposure=mean([t.exposure for t in tr]),
        trades=sum(t.trades for t in tr),
        reliability=M.reliability(y, p),
    )


def evaluate(
    candles: dict[str, Candles], predict: Predict, rule: Rule, start_ms: int | None = None, end_ms: int | None = None
) -> dict[str, Evaluation]:
    """Per symbol, then ``""`` for all symbols together."""
    out: dict[str, Evaluation] = {}
    ys, ps, trades = [], [], []
    for symbol, c in sorted(candles.items()):
        run = run_symbol(c, predict, rule, start_ms, end_ms)
        if run is None:
            continue
        out[symbol] = summarise(run.y, run.p, rule.threshold, [run.trade])
        ys.append(run.y)
        ps.append(run.p)
        trades.append(run.trade)
    y = np.concatenate(ys) if ys else np.empty(0)
    p = np.concatenate(ps) if ps else np.empty(0)
    out[""] = summarise(y, p, rule.threshold, trades)
    return out


def evaluate_folder(
    folder: Path,
    predict: Predict,
    rule: Rule,
    timeframe: str,
    start_ms: int | None = None,
    end_ms: int | None = None,
    symbols: list[str] | None = None,
) -> dict[str, Evaluation]:
    return evaluate(load_folder(folder, timeframe, symbols), predict, rule, start_ms, end_ms)


FIGURES = ("n", "auc", "accuracy", "base_rate", "brier", "ece", "strategy_return", "buy_hold_return")


def _fmt(v: float | int) -> str:
    if isinstance(v, int):
        return str(v)
    return "nan" if math.isnan(v) else f"{v:.6f}"


def format_lines(results: dict[str, Evaluation], reliability: bool = True) -> list[str]:
    """``SYMBOL.name: value`` per symbol, then the overall figures unprefixed, then the overall
    reliability table (one ``reliability.LO-HI`` line per bin)."""
    lines = []
    for symbol, e in results.items():
        if not symbol:
            continue
        lines += [f"{symbol}.{k}: {_fmt(getattr(e, k))}" for k in FIGURES]
    total = results.get("")
    if total is not None:
        lines += [f"{k}: {_fmt(getattr(total, k))}" for k in FIGURES]
        lines += [
            f"majority_accuracy: {_fmt(total.majority_accuracy)}",
            f"brier_base: {_fmt(total.brier_base)}",
            f"exposure: {_fmt(total.exposure)}",
            f"trades: {total.trades}",
        ]
        if reliability:
            for r in (r for r in total.reliability if r.n):
                lines.append(
                    f"reliability.{r.lo:.1f}-{r.hi:.1f}: n={r.n} forecast={_fmt(r.mean_forecast)} "
                    f"observed={_fmt(r.observed)}"
                )
    return lines
