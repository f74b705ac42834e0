"""Chart figures, offscreen, on a million synthetic candles with every indicator on:

- ``chart_1m_frame_p95_ms``: zoom from a few dozen bars out to the whole history and back, panning
  at each zoom; each step is a range change plus a full render (``widget.grab()``); p95 per frame.
- ``chart_append_ms``: median time for one live tick (``update_bar``: the forming candle, and a
  new bar now and then) plus a full render, at the live end.
- ``chart_crosshair_ms``: median time for a mouse move (crosshair, tags, read-out) plus a render.
- ``chart_1m_load_ms``: ``set_history`` of the million bars with every indicator on.

    python tests/perf/chart_bench.py        prints NAME: VALUE UNIT lines
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QPointF  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

N = 1_000_000


def candles(n: int = N, seed: int = 1) -> tuple[np.ndarray, ...]:
    """A geometric random walk of one-minute candles around 60,000."""
    rng = np.random.default_rng(seed)
    c = 60_000 * np.exp(np.cumsum(rng.standard_normal(n) * 0.001))
    o = np.empty(n)
    o[0], o[1:] = c[0], c[:-1]
    h = np.maximum(o, c) * (1 + rng.random(n) * 0.001)
    low = np.minimum(o, c) * (1 - rng.random(n) * 0.001)
    v = rng.lognormal(1, 1, n)
    t = 1_600_000_000_000 + np.arange(n, dtype=np.int64) * 60_000
    return t, o, h, low, c, v


def _p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


def run() -> list[tuple[str, float, str]]:
    app = QApplication.instance() or QApplication([])
    from app.ui.chart import ChartWidget

    w = ChartWidget()
    w.resize(1400, 800)
    for name in ChartWidget.INDICATORS:
        w.set_indicator(name, True)
    w.show()
    app.processEvents()
    t, o, h, low, c, v = candles()
    s = time.perf_counter()
    w.set_history(t, o, h, low, c, v)
    load_ms = (time.perf_counter() - s) * 1000
    w.grab()

    vb = w.price_plot.getViewBox()
    n = len(t)
    spans = [40, 80, 150, 300, 600, 1_200, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, n]
    frames: list[float] = []
    for span in spans + spans[::-1]:  # zoom out, then back in
        for shift in (0, span // 5, span // 2, span // 3):  # and pan around at each zoom
            start = max(0, n - span - shift)
            s = time.perf_counter()
            vb.setXRange(start - 0.5, start + span - 0.5, padding=0)
            w.grab()
            frames.append((time.perf_counter() - s) * 1000)

    w.show_last(150)
    w.grab()
    ticks: list[float] = []
    last_t, price = int(t[-1]), float(c[-1])
    rng = np.random.default_rng(7)
    hi = lo = price
    for i in range(200):
        if i % 25 == 24:  # a new bar now and then
            last_t += 60_000
            hi = lo = price
        price *= 1 + rng.standard_normal() * 2e-4
        hi, lo = max(hi, price), min(lo, price)
        s = time.perf_counter()
        w.update_bar(last_t, price, hi, lo, price, 1.0 + i % 25)
        w.grab()
        ticks.append((time.perf_counter() - s) * 1000)

    moves: list[float] = []
    scene_rect = w.price_plot.getViewBox().sceneBoundingRect()
    for i in range(100):
        pos = QPointF(
            scene_rect.left() + scene_rect.width() * (0.1 + 0.8 * i / 100),
            scene_rect.top() + scene_rect.height() * (0.2 + 0.6 * ((i * 37) % 100) / 100),
        )
        s = time.perf_counter()
        w._mouse_moved(pos)
        w.grab()
        moves.append((time.perf_counter() - s) * 1000)
    w.close()
    return [
        ("chart_1m_frame_p95_ms", _p95(frames), "ms"),
        ("chart_append_ms", statistics.median(ticks), "ms"),
        ("chart_crosshair_ms", statistics.median(moves), "ms"),
        ("chart_1m_load_ms", load_ms, "ms"),
    ]


if __name__ == "__main__":
    for name, value, unit in run():
        print(f"{name}: {value:.3f} {unit}")
