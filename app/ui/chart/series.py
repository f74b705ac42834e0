"""Candle data for drawing: growable numpy columns and a min/max pyramid, so that any visible
range is summarised in O(pixels) and its extremes found in O(log n), whatever the history length."""

from __future__ import annotations

import numpy as np

APPENDED, REPLACED, IGNORED = "appended", "replaced", "ignored"


class Pyramid:
    """Block extremes of one column: level k holds, for each block of 2**k consecutive values,
    their minimum (``op=np.minimum``) or maximum. Level 0 is the column itself (a view)."""

    def __init__(self, op: np.ufunc) -> None:
        self.op = op
        self.pick = min if op is np.minimum else max  # the same on two scalars, much faster
        self.levels: list[np.ndarray] = []

    def build(self, base: np.ndarray, n: int) -> None:
        """Allocate levels for the capacity of ``base`` and fill them from its first n values."""
        cap = len(base)
        self.levels = [base]
        size = cap
        while size > 1:
            size = (size + 1) // 2
            self.levels.append(np.empty(size))
        m = n
        for k in range(1, len(self.levels)):
            prev, cur = self.levels[k - 1], self.levels[k]
            pairs = m // 2
            self.op(prev[0 : 2 * pairs : 2], prev[1 : 2 * pairs : 2], out=cur[:pairs])
            if m % 2:
                cur[pairs] = prev[m - 1]
            m = (m + 1) // 2

    def refresh(self, i: int, n: int) -> None:
        """Value i changed (or was appended; n is the new length): update its blocks."""
        pick = self.pick
        m = n
        for k in range(1, len(self.levels)):
            prev = self.levels[k - 1]
            j = i >> k
            a = 2 * j
            self.levels[k][j] = pick(prev[a], prev[a + 1]) if a + 1 < m else prev[a]
            m = (m + 1) // 2

    def query(self, i0: int, i1: int) -> float:
        """Extreme of values i0..i1 inclusive (bottom-up segment-tree walk)."""
        pick = self.pick
        lo, hi = i0, i1 + 1
        res = None
        k = 0
        levels = self.levels
        while lo < hi:
            lv = levels[k]
            if lo & 1:
                res = lv[lo] if res is None else pick(res, lv[lo])
                lo += 1
            if hi & 1:
                hi -= 1
                res = lv[hi] if res is None else pick(res, lv[hi])
            lo >>= 1
            hi >>= 1
            k += 1
        return float(res) if res is not None else float("nan")


class OhlcSeries:
    """OHLCV columns (float64, for drawing only) with capacity to grow, and pyramids of lows
    (min), highs (max) and volumes (max) for level-of-detail drawing and fast range queries.

    ``version`` changes with any data change; ``closed_version`` only when bars other than the
    last one change (a new history or a new bar), so drawings of the closed bars can be cached
    while the forming bar ticks.
    """

    def __init__(self) -> None:
        self.n = 0
        self.version = 0
        self.closed_version = 0
        self.t = np.empty(0, np.int64)
        self.o = self.h = self.l = self.c = self.v = np.empty(0)
        self.lows = Pyramid(np.minimum)
        self.highs = Pyramid(np.maximum)
        self.vols = Pyramid(np.maximum)
        self._alloc(0)
        self._build()  # a live bar may come before the history does

    # -- loading ----------------------------------------------------------------------------------
    def set(
        self,
        t: np.ndarray,
        o: np.ndarray,
        h: np.ndarray,
        l: np.ndarray,  # noqa: E741
        c: np.ndarray,
        v: np.ndarray,
    ) -> None:
        cols = [np.asarray(a) for a in (t, o, h, l, c, v)]
        n = len(cols[0])
        if any(len(a) != n for a in cols):
            raise ValueError("history columns differ in length")
        if n > 1 and np.any(np.diff(cols[0]) <= 0):
            raise ValueError("bar times must be strictly increasing")
        self._alloc(n)
        self.n = n
        self.t[:n] = cols[0]
        for dst, src in zip((self.o, self.h, self.l, self.c, self.v), cols[1:], strict=True):
            dst[:n] = src
        self._build()
        self.version += 1
        self.closed_version += 1

    def _alloc(self, n: int) -> None:
        cap = max(1024, int(n * 1.25) + 1024)
        self.t = np.zeros(cap, np.int64)
        self.o, self.h, self.l, self.c, self.v = (np.zeros(cap) for _ in range(5))

    def _build(self) -> None:
        self.lows.build(self.l, self.n)
        self.highs.build(self.h, self.n)
        self.vols.build(self.v, self.n)

    # -- live updates -----------------------------------------------------------------------------
    def update(self, t_ms: int, o: float, h: float, l: float, c: float, v: float) -> str:  # noqa: E741
        """Replace the forming bar (same open time) or append a newer one. An older bar is
        ignored: history is not rewritten live. Returns APPENDED, REPLACED or IGNORED."""
        n = self.n
        if n and t_ms == self.t[n - 1]:
            i, result = n - 1, REPLACED
        elif n and t_ms < self.t[n - 1]:
            return IGNORED
        else:
            if n == len(self.t):
                self._grow()
            i, result = n, APPENDED
            self.n = n + 1
            self.closed_version += 1
        self.t[i] = t_ms
        self.o[i], self.h[i], self.l[i], self.c[i], self.v[i] = o, h, l, c, v
        for p in (self.lows, self.highs, self.vols):
            p.refresh(i, self.n)
        self.version += 1
        return result

    def _grow(self) -> None:
        n = self.n
        old = (self.t, self.o, self.h, self.l, self.c, self.v)
        self._alloc(n)
        for dst, src in zip((self.t, self.o, self.h, self.l, self.c, self.v), old, strict=True):
            dst[:n] = src[:n]
        self._build()

    # -- queries ----------------------------------------------------------------------------------
    def clamp(self, i0: int, i1: int) -> tuple[int, int]:
        return max(0, i0), min(self.n - 1, i1)

    def range_minmax(self, i0: int, i1: int) -> tuple[float, float] | None:
        """Lowest low and highest high of bars i0..i1 (inclusive), in O(log n)."""
        i0, i1 = self.clamp(i0, i1)
        if i1 < i0:
            return None
        return self.lows.query(i0, i1), self.highs.query(i0, i1)

    def vmax_range(self, i0: int, i1: int) -> float:
        i0, i1 = self.clamp(i0, i1)
        return self.vols.query(i0, i1) if i1 >= i0 else 0.0

    def index_of(self, t_ms: np.ndarray | int) -> np.ndarray:
        """The bar each time falls in (the last bar whose open time is not after it); -1 before
        the first bar."""
        return np.searchsorted(self.t[: self.n], t_ms, side="right") - 1

    def bar_ms(self) -> int:
        """The usual spacing of bars (the median of the last few gaps), for times past the end."""
        if self.n < 2:
            return 60_000
        tail = self.t[max(0, self.n - 20) : self.n]
        return max(1, int(np.median(np.diff(tail))))
