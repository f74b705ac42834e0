"""Performance figures of a backtest from its equity series (floats, one value per bar at its close)
and its closed trades (``Decimal`` P&L).

Conventions: returns are per bar; Sharpe and Sortino are annualised with the number of bars in a
year of round-the-clock trading (8766 one-hour bars), risk-free rate 0; Sortino's downside is the
root mean square of the negative bar returns. Max drawdown is the largest fall from a running peak
as a fraction of that peak; its duration is the longest time spent below a peak (to the bar that
regains it, or to the end). Exposure is the share of bars whose close found a position. Win rate and
profit factor are over closed trades (an open trade at the end is not counted).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from .strategy import YEAR_MS
from .trades import TradeRecord


@dataclass(frozen=True)
class Metrics:
    total_return: float
    annual_return: float
    sharpe: float
    sortino: float
    max_drawdown: float  # a fraction, positive: 0.25 is a 25 % fall from a peak
    max_drawdown_bars: int
    max_drawdown_days: float
    win_rate: float
    profit_factor: float
    exposure: float
    trades: int
    buy_hold_return: float
    bars: int
    years: float

    def to_json(self) -> dict[str, Any]:
        """Finite numbers as they are; NaN and infinities as None (JSON has neither)."""
        return {k: (v if not isinstance(v, float) or math.isfinite(v) else None) for k, v in asdict(self).items()}


def drawdown(equity: np.ndarray) -> np.ndarray:
    """Fall from the running peak as a fraction of it, per bar (0 at a peak, negative below)."""
    if not len(equity):
        return np.empty(0)
    peak = np.maximum.accumulate(equity)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(peak > 0, equity / peak - 1.0, 0.0)


def _underwater(equity: np.ndarray, open_ms: np.ndarray) -> tuple[int, float]:
    """The longest time below a running peak: (bars, days)."""
    if len(equity) < 2:
        return 0, 0.0
    peak = np.maximum.accumulate(equity)
    idx = np.arange(len(equity))
    peak_at = np.maximum.accumulate(np.where(equity >= peak, idx, 0))
    bars = idx - peak_at
    worst = int(bars.argmax())
    return int(bars[worst]), float(open_ms[worst] - open_ms[peak_at[worst]]) / 86_400_000


def compute(
    equity: np.ndarray,
    open_ms: np.ndarray,
    close: np.ndarray,
    position: np.ndarray,
    trades: Sequence[TradeRecord],
    tf_ms: int,
    initial: Decimal,
    final: Decimal,
) -> Metrics:
    n = len(equity)
    bars_per_year = YEAR_MS / tf_ms
    years = n * tf_ms / YEAR_MS
    total = float(final / initial) - 1.0 if initial else math.nan
    if years > 0 and total > -1.0:
        annual = math.exp(math.log1p(total) / years) - 1.0
    else:
        annual = -1.0 if total <= -1.0 else math.nan
    sharpe = sortino = math.nan
    if n > 2:
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.diff(equity) / equity[:-1]
        r = r[np.isfinite(r)]
        if len(r) > 1:
            sd = float(r.std(ddof=1))
            mean = float(r.mean())
            sharpe = mean / sd * math.sqrt(bars_per_year) if sd > 0 else math.nan
            down = float(np.sqrt(np.mean(np.minimum(r, 0.0) ** 2)))
            sortino = mean / down * math.sqrt(bars_per_year) if down > 0 else math.nan
    dd = drawdown(equity)
    dd_bars, dd_days = _underwater(equity, open_ms)
    closed = [t for t in trades if not t.is_open]
    wins = [t.pnl for t in closed if t.pnl > 0]
    losses = [t.pnl for t in closed if t.pnl < 0]
    gross_win = float(sum(wins, Decimal(0)))
    gross_loss = -float(sum(losses, Decimal(0)))
    pf = gross_win / gross_loss if gross_loss > 0 else (math.inf if gross_win > 0 else math.nan)
    bh = float(close[-1] / close[0] - 1.0) if n and close[0] > 0 else math.nan
    return Metrics(
        total_return=total,
        annual_return=annual,
        sharpe=sharpe,
        sortino=sortino,
        max_drawdown=float(-dd.min()) if n else 0.0,
        max_drawdown_bars=dd_bars,
        max_drawdown_days=dd_days,
        win_rate=len(wins) / len(closed) if closed else math.nan,
        profit_factor=pf,
        exposure=float(np.mean(position != 0)) if n else 0.0,
        trades=len(closed),
        buy_hold_return=bh,
        bars=n,
        years=years,
    )
