"""Technical indicators on float64 numpy arrays (features and drawing only; never money).

Arrays in, arrays of the same length out; values that are still warming up are NaN. Inputs are
expected finite (``ema`` also accepts leading NaN, which is how ``macd`` feeds its signal line).
Everything is vectorised: a million points take a few milliseconds per indicator.

Conventions (those of TA-Lib and StockCharts):

- EMA: alpha = 2/(n+1), seeded at index n-1 with the simple mean of the first n values.
- RSI: Wilder's smoothing (alpha = 1/n) of gains and losses, seeded with their simple mean over
  the first n changes, so the first value is at index n. No movement at all gives 50.
- Bollinger: population standard deviation (ddof=0) of the last n values.
- VWAP: cumulative volume-weighted typical price (high+low+close)/3, restarting at each session.
"""

from __future__ import annotations

import numpy as np

# Rolling windows are summed per block of this many windows, relative to a value inside the
# block: the sums stay small, so the variance keeps its precision on a long, high-priced series
# (a global cumulative sum of squares of 60,000-dollar prices would lose it).
_BLOCK = 1024


def _f64(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def _rolling_sums(x: np.ndarray, n: int, squares: bool) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """For each full window of n values: the sum of (x - r) and, if asked, of (x - r)**2, where r
    is a reference value of the window's block (returned too, one per window)."""
    windows = len(x) - n + 1
    block = max(_BLOCK, n)
    nb = -(-windows // block)
    span = block + n - 1
    padded = np.empty(nb * block + n - 1)
    padded[: len(x)] = x
    padded[len(x) :] = x[-1]
    seg = np.lib.stride_tricks.sliding_window_view(padded, span)[::block]  # (nb, span), a view
    ref = seg[:, :1]
    dev = seg - ref
    c1 = np.zeros((nb, span + 1))
    np.cumsum(dev, axis=1, out=c1[:, 1:])
    s1 = (c1[:, n : n + block] - c1[:, :block]).ravel()[:windows]
    s2 = None
    if squares:
        np.cumsum(dev * dev, axis=1, out=c1[:, 1:])
        s2 = (c1[:, n : n + block] - c1[:, :block]).ravel()[:windows]
    refs = np.repeat(ref[:, 0], block)[:windows]
    return s1, s2, refs


def sma(x: np.ndarray, n: int) -> np.ndarray:
    """Simple moving average of the last n values."""
    x = _f64(x)
    out = np.full(len(x), np.nan)
    if n <= 0 or len(x) < n:
        return out
    s1, _s2, refs = _rolling_sums(x, n, squares=False)
    out[n - 1 :] = refs + s1 / n
    return out


def _scan(u: np.ndarray, b: float) -> np.ndarray:
    """y[i] = u[i] + b * y[i-1] (y[0] = u[0]) for 0 <= b < 1, by doubling steps: after the pass
    with step s every y[i] holds the terms back to i-2s+1. Stops once b**s is below float
    precision, so the number of passes is about log2(40 / (1 - b)), at most log2(len)."""
    y = u.copy()
    tmp = np.empty_like(y)
    size = len(y)
    step, coef = 1, b
    while step < size and coef > 1e-18:
        np.multiply(y[: size - step], coef, out=tmp[: size - step])
        y[step:] += tmp[: size - step]
        step *= 2
        coef *= coef
    return y


def _smooth(x: np.ndarray, n: int, alpha: float) -> np.ndarray:
    """Exponential smoothing with the given alpha, seeded with the mean of the first n finite
    values (leading NaN skipped); NaN before the seed."""
    out = np.full(len(x), np.nan)
    finite = np.flatnonzero(np.isfinite(x))
    if n <= 0 or len(finite) == 0:
        return out
    first = int(finite[0])
    seed_at = first + n - 1
    if seed_at >= len(x):
        return out
    u = alpha * x[seed_at:]
    u[0] = x[first : seed_at + 1].mean()
    out[seed_at:] = _scan(u, 1.0 - alpha)
    return out


def ema(x: np.ndarray, n: int) -> np.ndarray:
    """Exponential moving average, alpha = 2/(n+1), seeded with the SMA of the first n values."""
    return _smooth(_f64(x), n, 2.0 / (n + 1))


def bollinger(x: np.ndarray, n: int = 20, k: float = 2.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(middle, upper, lower): the SMA of n values and k population standard deviations around it."""
    x = _f64(x)
    mid = np.full(len(x), np.nan)
    sd = np.full(len(x), np.nan)
    if n > 0 and len(x) >= n:
        s1, s2, refs = _rolling_sums(x, n, squares=True)
        mean_dev = s1 / n
        mid[n - 1 :] = refs + mean_dev
        sd[n - 1 :] = np.sqrt(np.maximum(s2 / n - mean_dev * mean_dev, 0.0))  # type: ignore[operator]
    return mid, mid + k * sd, mid - k * sd


def vwap(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray, session_starts: np.ndarray | None = None
) -> np.ndarray:
    """Cumulative VWAP of the typical price, restarting at each index in ``session_starts``
    (never, when None). NaN until a session has traded some volume."""
    tp = (_f64(high) + _f64(low) + _f64(close)) / 3.0
    vol = _f64(volume)
    size = len(tp)
    out = np.full(size, np.nan)
    if size == 0:
        return out
    cpv = np.cumsum(tp * vol)
    cv = np.cumsum(vol)
    if session_starts is not None and len(session_starts):
        starts = np.unique(np.asarray(session_starts, dtype=np.int64))
        starts = starts[(starts > 0) & (starts < size)]
        if len(starts):
            flags = np.zeros(size, dtype=np.int64)
            flags[starts] = 1
            session = np.cumsum(flags)  # 0 before the first start, then 1, 2, ...
            base_pv = np.concatenate(([0.0], cpv[starts - 1]))
            base_v = np.concatenate(([0.0], cv[starts - 1]))
            cpv = cpv - base_pv[session]
            cv = cv - base_v[session]
    np.divide(cpv, cv, out=out, where=cv > 0)
    return out


def wilder(x: np.ndarray, n: int) -> np.ndarray:
    """Wilder's smoothing (an EMA with alpha = 1/n), seeded with the mean of the first n values."""
    return _smooth(_f64(x), n, 1.0 / n) if n > 0 else np.full(len(x), np.nan)


def rsi(close: np.ndarray, n: int = 14) -> np.ndarray:
    """Relative strength index with Wilder's smoothing; the first value is at index n."""
    close = _f64(close)
    out = np.full(len(close), np.nan)
    if n <= 0 or len(close) <= n:
        return out
    d = np.diff(close)
    avg_gain = wilder(np.maximum(d, 0.0), n)[n - 1 :]
    avg_loss = wilder(np.maximum(-d, 0.0), n)[n - 1 :]
    out[n:] = rsi_from_averages(avg_gain, avg_loss)
    return out


def rsi_from_averages(avg_gain: np.ndarray, avg_loss: np.ndarray) -> np.ndarray:
    """100 - 100 / (1 + gain/loss), written as 100 * gain / (gain + loss); 50 when both are 0."""
    total = avg_gain + avg_loss
    r = np.full(np.shape(total), 50.0)
    np.divide(100.0 * avg_gain, total, out=r, where=total > 0)
    return r


def macd(
    close: np.ndarray, fast: int = 12, slow: int = 26, signal: int = 9
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(macd, signal, histogram): EMA(fast) - EMA(slow), its EMA over ``signal`` values, and
    their difference."""
    close = _f64(close)
    line = ema(close, fast) - ema(close, slow)
    sig = ema(line, signal)
    return line, sig, line - sig
