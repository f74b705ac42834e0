"""Graphics items that draw only the visible bars: candles (or, zoomed out, one high-low stroke
per pixel column from the min/max pyramid) and volume."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QPainter, QPen

from .series import OhlcSeries

LOD_BARS_PER_PX = 0.5  # more bars than one per two pixels: draw strokes, not bodies


def _segments(x: np.ndarray, y0: np.ndarray, y1: np.ndarray):
    """One QPainterPath of disconnected vertical segments, built in C from numpy arrays."""
    xs = np.repeat(x, 2).astype(float)
    ys = np.empty(len(x) * 2)
    ys[0::2], ys[1::2] = y0, y1
    connect = np.zeros(len(xs), dtype=np.int32)
    connect[0::2] = 1
    return pg.arrayToQPath(xs, ys, connect=connect, finiteCheck=False)


def _boxes(x: np.ndarray, y0: np.ndarray, y1: np.ndarray, half: float):
    """Closed rectangles [x-half, x+half] × [y0, y1] as one path."""
    n = len(x)
    xs = np.empty((n, 5))
    ys = np.empty((n, 5))
    xs[:, 0] = xs[:, 3] = xs[:, 4] = x - half
    xs[:, 1] = xs[:, 2] = x + half
    ys[:, 0] = ys[:, 1] = ys[:, 4] = y0
    ys[:, 2] = ys[:, 3] = y1
    connect = np.ones((n, 5), dtype=np.int32)
    connect[:, 4] = 0
    return pg.arrayToQPath(xs.ravel(), ys.ravel(), connect=connect.ravel(), finiteCheck=False)


class _VisibleItem(pg.GraphicsObject):
    def __init__(self, series: OhlcSeries) -> None:
        super().__init__()
        self.series = series
        self.up = QColor("#26a69a")
        self.down = QColor("#ef5350")
        self.paints = 0

    def set_colors(self, up: str, down: str) -> None:
        self.up, self.down = QColor(up), QColor(down)
        self.update()

    def visible_range(self) -> tuple[int, int, float]:
        """First and last visible bar, and bars per pixel."""
        vb = self.getViewBox()
        s = self.series
        if vb is None or s.n == 0:
            return 0, -1, 1.0
        (x0, x1), _yr = vb.viewRange()
        width_px = max(1.0, vb.width())
        i0 = max(0, int(np.floor(x0)))
        i1 = min(s.n - 1, int(np.ceil(x1)))
        return i0, i1, (x1 - x0) / width_px

    def data_changed(self) -> None:
        self.prepareGeometryChange()
        self.update()


class CandleItem(_VisibleItem):
    def boundingRect(self) -> QRectF:
        s = self.series
        if s.n == 0:
            return QRectF()
        vb = self.getViewBox()
        if vb is not None:
            (x0, x1), (y0, y1) = vb.viewRange()
            return QRectF(x0 - 1, y0, x1 - x0 + 2, y1 - y0)
        return QRectF(-1, 0, s.n + 1, 1)

    def paint(self, p: QPainter, *args: object) -> None:
        s = self.series
        i0, i1, bpp = self.visible_range()
        if i1 < i0:
            return
        self.paints += 1
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        pen_up = QPen(self.up)
        pen_up.setCosmetic(True)
        pen_down = QPen(self.down)
        pen_down.setCosmetic(True)
        if bpp > LOD_BARS_PER_PX:
            # Level of detail: one stroke per block of bars, coloured by the block's direction.
            k = s.level_for(bpp)
            size = 1 << k
            a, b = i0 >> k, i1 >> k
            lows, highs = s.lows[k][a : b + 1], s.highs[k][a : b + 1]
            starts = np.arange(a, b + 1) * size
            ends = np.minimum(starts + size - 1, s.n - 1)
            rising = s.c[ends] >= s.o[np.minimum(starts, s.n - 1)]
            x = starts + (size - 1) / 2
            for mask, pen in ((rising, pen_up), (~rising, pen_down)):
                if mask.any():
                    p.setPen(pen)
                    p.drawPath(_segments(x[mask], lows[mask], highs[mask]))
            return
        idx = np.arange(i0, i1 + 1)
        o, h, l, c = s.o[i0 : i1 + 1], s.h[i0 : i1 + 1], s.l[i0 : i1 + 1], s.c[i0 : i1 + 1]  # noqa: E741
        rising = c >= o
        for mask, color, pen in ((rising, self.up, pen_up), (~rising, self.down, pen_down)):
            if not mask.any():
                continue
            p.setPen(pen)
            p.drawPath(_segments(idx[mask], l[mask], h[mask]))
            p.setBrush(pg.mkBrush(color))
            lo, hi = np.minimum(o[mask], c[mask]), np.maximum(o[mask], c[mask])
            p.drawPath(_boxes(idx[mask].astype(float), lo, hi, 0.35))


class VolumeItem(_VisibleItem):
    def boundingRect(self) -> QRectF:
        vb = self.getViewBox()
        if vb is None or self.series.n == 0:
            return QRectF()
        (x0, x1), (y0, y1) = vb.viewRange()
        return QRectF(x0 - 1, y0, x1 - x0 + 2, y1 - y0)

    def paint(self, p: QPainter, *args: object) -> None:
        s = self.series
        i0, i1, bpp = self.visible_range()
        if i1 < i0:
            return
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        up, down = QColor(self.up), QColor(self.down)
        up.setAlpha(140)
        down.setAlpha(140)
        if bpp > LOD_BARS_PER_PX:
            k = s.level_for(bpp)
            size = 1 << k
            a, b = i0 >> k, i1 >> k
            x = np.arange(a, b + 1) * size + (size - 1) / 2
            vm = s.vmax[k][a : b + 1]
            pen = QPen(up)
            pen.setCosmetic(True)
            p.setPen(pen)
            p.drawPath(_segments(x, np.zeros(len(x)), vm))
            return
        idx = np.arange(i0, i1 + 1).astype(float)
        v = s.v[i0 : i1 + 1]
        rising = s.c[i0 : i1 + 1] >= s.o[i0 : i1 + 1]
        p.setPen(pg.mkPen(None))
        for mask, color in ((rising, up), (~rising, down)):
            if mask.any():
                p.setBrush(pg.mkBrush(color))
                p.drawPath(_boxes(idx[mask], np.zeros(int(mask.sum())), v[mask], 0.35))


class LineItem(pg.GraphicsObject):
    """An indicator line over bar indices that draws only its visible part, at most about two
    points per pixel (a moving average is smooth, so striding loses nothing visible)."""

    def __init__(self, color: str) -> None:
        super().__init__()
        self.y = np.empty(0)
        self.pen = QPen(QColor(color))
        self.pen.setWidth(1)  # one-pixel cosmetic lines take the rasterizer's fast path
        self.pen.setCosmetic(True)

    def set_y(self, y: np.ndarray) -> None:
        self.y = y
        self.prepareGeometryChange()
        self.update()

    @property
    def yData(self) -> np.ndarray:
        return self.y

    def boundingRect(self) -> QRectF:
        vb = self.getViewBox()
        if vb is None or len(self.y) == 0:
            return QRectF()
        (x0, x1), (y0, y1) = vb.viewRange()
        return QRectF(x0 - 1, y0, x1 - x0 + 2, y1 - y0)

    def paint(self, p: QPainter, *args: object) -> None:
        vb = self.getViewBox()
        if vb is None or len(self.y) == 0:
            return
        (x0, x1), _yr = vb.viewRange()
        i0 = max(0, int(np.floor(x0)) - 1)
        i1 = min(len(self.y) - 1, int(np.ceil(x1)) + 1)
        if i1 <= i0:
            return
        step = max(1, int((i1 - i0) / max(1.0, vb.width()) / 2))
        idx = np.arange(i0, i1 + 1, step)
        y = self.y[idx]
        ok = np.isfinite(y)
        if ok.sum() < 2:
            return
        connect = (ok[:-1] & ok[1:]).astype(np.int32)
        connect = np.append(connect, 0)
        yy = np.where(ok, y, 0.0)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.setPen(self.pen)
        p.drawPath(pg.arrayToQPath(idx.astype(float), yy, connect=connect, finiteCheck=False))
