"""Indicator values for the chart: computed in full (vectorised, ``app.signals.indicators``) when
a history loads, then kept up to date for the forming or a new bar in O(window) per tick."""

from __future__ import annotations

import math

import numpy as np

from app.signals import indicators as ind

from .series import OhlcSeries

SESSION_MS = 86_400_000  # VWAP restarts at 00:00 UTC, as crypto venues count their day


def _nan(cap: int) -> np.ndarray:
    return np.full(cap, np.nan)


def _ema_at(out: np.ndarray, x: np.ndarray, i: int, n: int, alpha: float, first: int) -> None:
    """The EMA recurrence for index i alone (x valid from ``first``; seeded with a mean)."""
    seed_at = first + n - 1
    if i < seed_at:
        out[i] = np.nan
    elif i == seed_at:
        out[i] = float(np.mean(x[first : i + 1]))
    else:
        prev = out[i - 1]
        out[i] = prev + alpha * (x[i] - prev)


class Study:
    """One indicator: named output arrays as long as the series' capacity, NaN while warming up."""

    key = ""
    outputs: tuple[str, ...] = ()
    defaults: dict[str, float] = {}

    def __init__(self, **params: float) -> None:
        unknown = set(params) - set(self.defaults)
        if unknown:
            raise ValueError(f"{self.key}: unknown parameter(s) {', '.join(sorted(unknown))}")
        self.params = {**self.defaults, **params}
        self.out: dict[str, np.ndarray] = {}
        self.breaks: np.ndarray | None = None  # indices where a line must not join the previous point

    def param_text(self) -> str:
        """The parameters as a legend shows them after the name: "20", "20 2", "12 26 9"."""
        return " ".join(f"{v:g}" for v in self.params.values())

    def _ensure(self, cap: int) -> None:
        for name in self.outputs:
            arr = self.out.get(name)
            if arr is None or len(arr) != cap:
                new = _nan(cap)
                if arr is not None:
                    m = min(len(arr), cap)
                    new[:m] = arr[:m]
                self.out[name] = new

    def compute(self, s: OhlcSeries) -> None:
        self.out = {}
        self._ensure(len(s.t))
        self._compute(s)

    def update(self, s: OhlcSeries, i: int) -> None:
        """Bar i (the last) was replaced or appended; the values before it are final."""
        self._ensure(len(s.t))
        self._update(s, i)

    def _compute(self, s: OhlcSeries) -> None:
        raise NotImplementedError

    def _update(self, s: OhlcSeries, i: int) -> None:
        raise NotImplementedError

    def value(self, name: str, i: int) -> float:
        arr = self.out.get(name)
        return float(arr[i]) if arr is not None and 0 <= i < len(arr) else math.nan


class Sma(Study):
    key, outputs, defaults = "sma", ("sma",), {"n": 20}

    def _compute(self, s: OhlcSeries) -> None:
        self.out["sma"][: s.n] = ind.sma(s.c[: s.n], int(self.params["n"]))

    def _update(self, s: OhlcSeries, i: int) -> None:
        n = int(self.params["n"])
        self.out["sma"][i] = float(np.mean(s.c[i - n + 1 : i + 1])) if i >= n - 1 else np.nan


class Ema(Study):
    key, outputs, defaults = "ema", ("ema",), {"n": 50}

    def _compute(self, s: OhlcSeries) -> None:
        self.out["ema"][: s.n] = ind.ema(s.c[: s.n], int(self.params["n"]))

    def _update(self, s: OhlcSeries, i: int) -> None:
        n = int(self.params["n"])
        _ema_at(self.out["ema"], s.c, i, n, 2.0 / (n + 1), 0)


class Bollinger(Study):
    key, outputs, defaults = "bollinger", ("mid", "upper", "lower"), {"n": 20, "k": 2.0}

    def _compute(self, s: OhlcSeries) -> None:
        mid, up, lo = ind.bollinger(s.c[: s.n], int(self.params["n"]), self.params["k"])
        self.out["mid"][: s.n], self.out["upper"][: s.n], self.out["lower"][: s.n] = mid, up, lo

    def _update(self, s: OhlcSeries, i: int) -> None:
        n, k = int(self.params["n"]), self.params["k"]
        if i < n - 1:
            for name in self.outputs:
                self.out[name][i] = np.nan
            return
        w = s.c[i - n + 1 : i + 1]
        m, sd = float(w.mean()), float(w.std())
        self.out["mid"][i], self.out["upper"][i], self.out["lower"][i] = m, m + k * sd, m - k * sd


class Vwap(Study):
    key, outputs, defaults = "vwap", ("vwap",), {}

    def _compute(self, s: OhlcSeries) -> None:
        n = s.n
        day = s.t[:n] // SESSION_MS
        starts = np.flatnonzero(np.diff(day)) + 1
        tp = (s.h[:n] + s.l[:n] + s.c[:n]) / 3.0
        self.out["vwap"][:n] = ind.vwap(s.h[:n], s.l[:n], s.c[:n], s.v[:n], starts)
        # Running sums of the current session, to extend it bar by bar.
        start = int(starts[-1]) if len(starts) else 0
        self._pv = float(np.dot(tp[start:], s.v[start:n]))
        self._vol = float(s.v[start:n].sum())
        self._last = n - 1
        self._last_pv = float(tp[-1] * s.v[n - 1]) if n else 0.0
        self._last_vol = float(s.v[n - 1]) if n else 0.0
        self.breaks = starts

    def _update(self, s: OhlcSeries, i: int) -> None:
        tp = (s.h[i] + s.l[i] + s.c[i]) / 3.0
        pv, vol = float(tp * s.v[i]), float(s.v[i])
        if i == self._last:  # the forming bar changed: take its old share out
            self._pv -= self._last_pv
            self._vol -= self._last_vol
        elif i > 0 and s.t[i] // SESSION_MS != s.t[i - 1] // SESSION_MS:
            self._pv = self._vol = 0.0
            self.breaks = np.append(self.breaks if self.breaks is not None else np.empty(0, np.int64), i)
        self._pv += pv
        self._vol += vol
        self._last, self._last_pv, self._last_vol = i, pv, vol
        self.out["vwap"][i] = self._pv / self._vol if self._vol > 0 else np.nan


class Rsi(Study):
    key, outputs, defaults = "rsi", ("rsi", "_gain", "_loss"), {"n": 14}

    def _compute(self, s: OhlcSeries) -> None:
        n, size = int(self.params["n"]), s.n
        self.out["rsi"][:size] = ind.rsi(s.c[:size], n)
        if size > n:
            d = np.diff(s.c[:size])
            self.out["_gain"][n:size] = ind.wilder(np.maximum(d, 0.0), n)[n - 1 :]
            self.out["_loss"][n:size] = ind.wilder(np.maximum(-d, 0.0), n)[n - 1 :]

    def _update(self, s: OhlcSeries, i: int) -> None:
        n = int(self.params["n"])
        gain, loss, out = self.out["_gain"], self.out["_loss"], self.out["rsi"]
        if i < n:
            gain[i] = loss[i] = out[i] = np.nan
            return
        if i == n:
            d = np.diff(s.c[: n + 1])
            gain[i], loss[i] = float(np.maximum(d, 0).mean()), float(np.maximum(-d, 0).mean())
        else:
            change = float(s.c[i] - s.c[i - 1])
            gain[i] = gain[i - 1] + (max(change, 0.0) - gain[i - 1]) / n
            loss[i] = loss[i - 1] + (max(-change, 0.0) - loss[i - 1]) / n
        out[i] = float(
            ind.rsi_from_averages(np.asarray(gain[i], dtype=np.float64), np.asarray(loss[i], dtype=np.float64))
        )


class Macd(Study):
    key = "macd"
    outputs = ("macd", "signal", "hist", "_fast", "_slow")
    defaults = {"fast": 12, "slow": 26, "signal": 9}

    def _compute(self, s: OhlcSeries) -> None:
        fast, slow, sig = (int(self.params[k]) for k in ("fast", "slow", "signal"))
        c = s.c[: s.n]
        self.out["_fast"][: s.n] = ind.ema(c, fast)
        self.out["_slow"][: s.n] = ind.ema(c, slow)
        line, signal, hist = ind.macd(c, fast, slow, sig)
        self.out["macd"][: s.n], self.out["signal"][: s.n], self.out["hist"][: s.n] = line, signal, hist

    def _update(self, s: OhlcSeries, i: int) -> None:
        fast, slow, sig = (int(self.params[k]) for k in ("fast", "slow", "signal"))
        o = self.out
        _ema_at(o["_fast"], s.c, i, fast, 2.0 / (fast + 1), 0)
        _ema_at(o["_slow"], s.c, i, slow, 2.0 / (slow + 1), 0)
        o["macd"][i] = o["_fast"][i] - o["_slow"][i]
        _ema_at(o["signal"], o["macd"], i, sig, 2.0 / (sig + 1), max(fast, slow) - 1)
        o["hist"][i] = o["macd"][i] - o["signal"][i]


STUDIES: dict[str, type[Study]] = {cls.key: cls for cls in (Sma, Ema, Bollinger, Vwap, Rsi, Macd)}
