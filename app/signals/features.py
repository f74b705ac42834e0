"""The model's features from OHLCV candles, in batch (training, evaluation) and one closed bar at
a time (the app), with bit-for-bit the same results.

Every feature of bar t is a function of the bars t-168 … t only (``WINDOW`` bars) and of nothing
else: no state that reaches further back, no bar after t. A window never spans a gap: after a gap
the features are missing until ``WINDOW`` bars of the new segment have closed.

Why the two paths agree exactly: per-bar values are computed by the same numpy calls on arrays
(``np.log`` of a one-element array gives what it gives inside a long one); a sum over a window is
always accumulated newest to oldest, one bar at a time — in batch as a chain of vector additions,
incrementally by one ``np.cumsum`` over the window held newest first (a left-to-right chain too,
whose prefixes are the sums of every window length at once); every other step is one of +, -, *,
/, sqrt, max, min, which IEEE 754 rounds the same way wherever they run. The incremental path
costs O(window) per bar and never looks at history beyond the window.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .candles import Candles

FEATURE_SET = "ohlcv_v1"
FEATURE_DOCS: dict[str, str] = {
    "ret_1": "log return of the last bar",
    "ret_4": "log return over the last 4 bars",
    "ret_12": "log return over the last 12 bars",
    "ret_24": "log return over the last 24 bars",
    "ret_72": "log return over the last 72 bars",
    "ret_168": "log return over the last 168 bars",
    "vol_24": "root mean square of the 1-bar log returns over 24 bars",
    "vol_168": "root mean square of the 1-bar log returns over 168 bars",
    "mom_z_24": "ret_24 / (vol_168 * sqrt(24)): the move over 24 bars in units of its usual size (0 if flat)",
    "range_24": "mean of log(high/low) over 24 bars",
    "rsi_14": "sum of gains / sum of |moves| over 14 bars (Cutler's RSI on 0..1; 0.5 when flat)",
    "pos_168": "where the close sits between the window's lowest low (0) and highest high (1)",
    "vlm_z_168": "log(1+volume) as a z-score against the last 168 bars (0 if constant)",
    "vlm_24_168": "mean log(1+volume) over 24 bars minus that over 168 bars",
    "clv": "close location in the bar: -1 at the low, +1 at the high (0 if high == low)",
    "hour_sin": "sin(2 pi h / 24), h the UTC hour of the bar's open",
    "hour_cos": "cos(2 pi h / 24)",
}
FEATURES: tuple[str, ...] = tuple(FEATURE_DOCS)  # the order the model's input has
FEATURE_SETS: dict[str, tuple[str, ...]] = {FEATURE_SET: FEATURES}
LOOKBACK = 168  # returns in the longest window
WINDOW = LOOKBACK + 1  # bars a feature row depends on (the bar itself and 168 before it)

_HOUR_MS = 3_600_000
_HOUR_ANGLE = 2.0 * np.pi * np.arange(24) / 24.0
HOUR_SIN = np.sin(_HOUR_ANGLE)
HOUR_COS = np.cos(_HOUR_ANGLE)
_SQRT_24 = float(np.sqrt(24.0))

# Per-bar values kept in the window, one row each: log high, log low, log close, then the series
# that windows sum: squared return, log range, gain, |return|, log(1+volume) and its square.
_LH, _LL, _LC, _R2, _HL, _GAIN, _MOVE, _LV, _LV2 = range(9)
_ROWS = 9
# The window sums the features use: (row, number of bars).
_SUMS = ((_R2, 24), (_R2, 168), (_HL, 24), (_GAIN, 14), (_MOVE, 14), (_LV, 24), (_LV, 168), (_LV2, 168))
_LAGS = (1, 4, 12, 24, 72, 168)


def bar_values(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray, prev_close_log: np.ndarray
) -> np.ndarray:
    """(9, n): the per-bar rows above; ``prev_close_log`` is each bar's previous log close (NaN
    when there is none). The same numpy calls serve one bar and a million."""
    out = np.empty((_ROWS, len(close)))
    out[_LH] = np.log(high)
    out[_LL] = np.log(low)
    out[_LC] = np.log(close)
    r = out[_LC] - prev_close_log
    out[_R2] = r * r
    out[_HL] = out[_LH] - out[_LL]
    out[_GAIN] = np.where(r > 0.0, r, 0.0)
    out[_MOVE] = np.abs(r)
    lv = np.log1p(volume)
    out[_LV] = lv
    out[_LV2] = lv * lv
    return out


def _ratio_vec(num: np.ndarray, den: np.ndarray, default: float) -> np.ndarray:
    out = np.full(np.shape(num), default)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _ratio_one(num: float, den: float, default: float) -> float:
    return num / den if den > 0 else default


def _finish(
    out: Any,
    lc: Any,
    lh: Any,
    ll: Any,
    lv: Any,
    past_lc: Sequence[Any],
    sums: Sequence[Any],
    hi: Any,
    lo: Any,
    hour: Any,
    sqrt: Callable[[Any], Any],
    ratio: Callable[[Any, Any, float], Any],
    nonneg: Callable[[Any], Any],
) -> None:
    """Fill ``out[..., j]`` with feature j. One formula for both paths: in batch every argument is an
    array over the rows, incrementally a float (``sqrt``, ``ratio``, ``nonneg`` fit the kind), and
    IEEE 754 rounds each step the same way on both. ``past_lc``: the log close ``_LAGS`` bars back;
    ``sums``: the newest-first window sums listed in ``_SUMS``, in that order."""
    r2_24, r2_168, hl_24, gain_14, move_14, lv_24, lv_168, lv2_168 = sums
    for j, past in enumerate(past_lc):
        out[..., j] = lc - past
    vol_24 = sqrt(r2_24 / 24.0)
    vol_168 = sqrt(r2_168 / 168.0)
    out[..., 6] = vol_24
    out[..., 7] = vol_168
    out[..., 8] = ratio(lc - past_lc[3], vol_168 * _SQRT_24, 0.0)
    out[..., 9] = hl_24 / 24.0
    out[..., 10] = ratio(gain_14, move_14, 0.5)
    out[..., 11] = ratio(lc - lo, hi - lo, 0.5)
    mean_lv = lv_168 / 168.0
    sd_lv = sqrt(nonneg(lv2_168 / 168.0 - mean_lv * mean_lv))
    out[..., 12] = ratio(lv - mean_lv, sd_lv, 0.0)
    out[..., 13] = lv_24 / 24.0 - mean_lv
    out[..., 14] = ratio((lc - ll) - (lh - lc), lh - ll, 0.0)
    out[..., 15] = HOUR_SIN[hour]
    out[..., 16] = HOUR_COS[hour]


def _hour(open_ms: np.ndarray) -> np.ndarray:
    return (np.asarray(open_ms, dtype=np.int64) // _HOUR_MS) % 24


def batch_features(c: Candles) -> tuple[np.ndarray, np.ndarray]:
    """(X, valid): one feature row per candle (n, len(FEATURES)); ``valid`` is False where the
    window is incomplete (the first ``LOOKBACK`` bars of each segment), and those rows are NaN."""
    size = len(c)
    X = np.full((size, len(FEATURES)), np.nan)
    valid = c.since_segment_start() >= LOOKBACK
    if size < WINDOW:
        return X, valid & False
    prev = np.empty(size)
    prev[0] = np.nan
    prev[1:] = np.log(c.close[:-1])
    v = bar_values(c.high, c.low, c.close, c.volume, prev)
    first = LOOKBACK  # rows from here on have WINDOW bars behind them (windows over gaps masked below)
    m = size - first

    def newest_first_sum(x: np.ndarray, n: int) -> np.ndarray:
        acc = x[first:].copy()
        for k in range(1, n):
            acc += x[first - k : first - k + m]
        return acc

    sums = [newest_first_sum(v[row], n) for row, n in _SUMS]
    past = [v[_LC, first - k : first - k + m] for k in _LAGS]
    win = np.lib.stride_tricks.sliding_window_view
    hi = win(v[_LH], WINDOW).max(axis=1)
    lo = win(v[_LL], WINDOW).min(axis=1)
    _finish(
        X[first:],
        v[_LC, first:],
        v[_LH, first:],
        v[_LL, first:],
        v[_LV, first:],
        past,
        sums,
        hi,
        lo,
        _hour(c.open_ms[first:]),
        np.sqrt,
        _ratio_vec,
        lambda x: np.maximum(x, 0.0),
    )
    X[~valid] = np.nan
    return X, valid


# Where the incremental path reads its window sums in the newest-first running sums (row, n - 1).
_SUM_ROWS = np.array([row for row, _ in _SUMS])
_SUM_COLS = np.array([n - 1 for _, n in _SUMS])
_LAG_COLS = np.array(_LAGS)


class IncrementalFeatures:
    """The features of each new closed bar of one symbol, from the last ``WINDOW`` bars only.

    ``update`` takes the bar's open time and OHLCV as floats and returns its feature row (a new
    array) once the window is full, else None. A bar that does not follow the previous one by
    exactly one timeframe starts a new segment (the window restarts); a bar at or before the last
    one seen is ignored (a repeat)."""

    def __init__(self, tf_ms: int) -> None:
        self.tf_ms = tf_ms
        # Newest first: each bar's values are written twice, at p and p + WINDOW, with p counting
        # down, so the last WINDOW bars are always the contiguous slice [p, p + WINDOW), newest at p.
        self._buf = np.zeros((_ROWS, 2 * WINDOW))
        self._pos = 0
        self._count = 0
        self._prev_lc = math.nan
        self.last_open_ms: int | None = None
        self._hlc = np.empty(3)
        self._vol = np.empty(1)

    def reset(self) -> None:
        self._count = 0
        self.last_open_ms = None

    @property
    def ready(self) -> bool:
        return self._count >= WINDOW

    @property
    def bars_needed(self) -> int:
        """Closed bars still needed before the first feature row."""
        return max(0, WINDOW - self._count)

    def update(self, open_ms: int, high: float, low: float, close: float, volume: float) -> np.ndarray | None:
        last = self.last_open_ms
        if last is not None and open_ms <= last:
            return None
        if last is None or open_ms != last + self.tf_ms:
            self._count = 0  # a gap (or the first bar): never build a window across it
            self._prev_lc = math.nan
        self.last_open_ms = open_ms
        # The per-bar rows of ``bar_values`` for one bar: the logarithms by the same numpy calls
        # (one array of three: each element is computed alone, as in a long array), the rest by
        # the same IEEE operations on floats.
        hlc = self._hlc
        hlc[0], hlc[1], hlc[2] = high, low, close
        lh, ll, lc = np.log(hlc).tolist()
        self._vol[0] = volume
        lv = float(np.log1p(self._vol)[0])
        r = lc - self._prev_lc
        self._prev_lc = lc
        p = (self._pos - 1) % WINDOW
        buf = self._buf
        buf[:, p] = (lh, ll, lc, r * r, lh - ll, r if r > 0.0 else 0.0, abs(r), lv, lv * lv)
        buf[:, p + WINDOW] = buf[:, p]
        self._pos = p
        self._count += 1
        if self._count < WINDOW:
            return None
        w = buf[:, p : p + WINDOW]  # newest first
        run = np.cumsum(w[_R2:], axis=1)  # newest-first running sums of the summed rows
        sums = run[_SUM_ROWS - _R2, _SUM_COLS].tolist()
        past = w[_LC, _LAG_COLS].tolist()
        out = _Row()
        _finish(
            out,
            lc,
            lh,
            ll,
            lv,
            past,
            sums,
            float(w[_LH].max()),
            float(w[_LL].min()),
            (open_ms // _HOUR_MS) % 24,
            math.sqrt,
            _ratio_one,
            _nonneg,
        )
        return np.array(out.values)


def _nonneg(v: float) -> float:
    return v if v > 0.0 else 0.0


class _Row:
    """Collects ``out[..., j] = value`` of ``_finish`` as floats (cheaper than numpy item writes)."""

    __slots__ = ("values",)

    def __init__(self) -> None:
        self.values = [0.0] * len(FEATURES)

    def __setitem__(self, key: tuple[Any, int], value: float) -> None:
        self.values[key[1]] = float(value)
