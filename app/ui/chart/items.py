"""Graphics items that draw only what is visible: candles (or, zoomed out, one high-low stroke per
block of bars from the min/max pyramid), volume, indicator lines and histograms.

Paths are built from numpy arrays in C (``pg.arrayToQPath``) and kept until the view or the
closed bars change, so repaints for the crosshair or a live tick reuse them. The forming bar is
drawn on its own, so a tick never rebuilds the rest of the screen.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen

from .painting import safe_paint
from .palette import over
from .series import OhlcSeries

BODY_MAX_BARS_PER_PX = 1 / 3  # candle bodies need 3 px per bar; closer than that, strokes
BODY_HALF_WIDTH = 0.36  # of a bar slot
ENVELOPE_MAX_BLOCK = 64  # lines: min/max per block up to this block size, then a sample per block


def cosmetic_pen(color: QColor, width: float = 1.0, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    pen = QPen(color)
    pen.setCosmetic(True)
    pen.setWidthF(width)
    pen.setStyle(style)
    return pen


def segments(x: np.ndarray, y0: np.ndarray, y1: np.ndarray) -> QPainterPath:
    """Disconnected vertical segments x × [y0, y1] as one path."""
    xs = np.repeat(np.asarray(x, float), 2)
    ys = np.empty(len(xs))
    ys[0::2], ys[1::2] = y0, y1
    connect = np.zeros(len(xs), dtype=np.int32)
    connect[0::2] = 1
    return pg.arrayToQPath(xs, ys, connect=connect, finiteCheck=False)


def boxes(x: np.ndarray, y0: np.ndarray, y1: np.ndarray, half: float) -> QPainterPath:
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


class ViewItem(pg.GraphicsObject):
    """An item whose bounds are the visible area of its ViewBox: it paints only what is in view."""

    def __init__(self) -> None:
        super().__init__()
        self.paints = 0
        self.builds = 0  # how often the cached paths were rebuilt (tests and benchmarks look)

    def boundingRect(self) -> QRectF:
        vb = self.getViewBox()
        if vb is None:
            return QRectF()
        (x0, x1), (y0, y1) = vb.viewRange()
        return QRectF(x0 - 1, y0, x1 - x0 + 2, y1 - y0)

    def viewRangeChanged(self) -> None:
        self.prepareGeometryChange()

    def view_state(self) -> tuple[float, float, float] | None:
        """(x0, x1, bars per pixel) of the view, or None without a view."""
        vb = self.getViewBox()
        if vb is None:
            return None
        (x0, x1), _yr = vb.viewRange()
        return x0, x1, (x1 - x0) / max(1.0, vb.width())


class OhlcItem(ViewItem):
    """Shared by candles and volume: picks the level of detail and caches the closed bars."""

    def __init__(self, series: OhlcSeries) -> None:
        super().__init__()
        self.series = series
        self.up = QColor("#26a69a")
        self.down = QColor("#ef5350")
        self._key: tuple | None = None
        self._cached: list[tuple[QPen | None, QBrush | None, QPainterPath]] = []
        self.lod_level = -1  # -1: candle bodies; k >= 0: strokes for blocks of 2**k bars

    def set_colors(self, up: QColor, down: QColor) -> None:
        self.up, self.down = QColor(up), QColor(down)
        self._key = None
        self.update()

    def data_changed(self) -> None:
        self.update()

    @safe_paint
    def paint(self, p: QPainter, *args: object) -> None:
        s = self.series
        st = self.view_state()
        if st is None or s.n == 0:
            return
        x0, x1, bpp = st
        i0, i1 = max(0, math.floor(x0)), min(s.n - 1, math.ceil(x1))
        if i1 < i0:
            return
        self.paints += 1
        bodies = bpp <= BODY_MAX_BARS_PER_PX
        k = 0 if bodies else max(0, int(math.log2(max(bpp, 1.0))))
        self.lod_level = -1 if bodies else k
        ua, ub, last = i0 >> k, i1 >> k, (s.n - 1) >> k
        closed_end = min(ub, last - 1)
        key = (k, bodies, ua, closed_end, s.closed_version, self.up.rgba(), self.down.rgba())
        if key != self._key:
            self._cached = self.build(ua, closed_end, k, bodies) if closed_end >= ua else []
            self._key = key
            self.builds += 1
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        parts = list(self._cached)
        if ua <= last <= ub:
            parts += self.build(last, last, k, bodies)  # the forming bar (or its block)
        for pen, brush, path in parts:
            p.setPen(pen if pen is not None else Qt.PenStyle.NoPen)
            p.setBrush(brush if brush is not None else Qt.BrushStyle.NoBrush)
            p.drawPath(path)

    def block_direction(self, ua: int, ub: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Block starts and whether each block of 2**k bars closed at or above its open."""
        s = self.series
        size = 1 << k
        starts = np.arange(ua, ub + 1) * size
        ends = np.minimum(starts + size - 1, s.n - 1)
        return starts, s.c[ends] >= s.o[starts]

    def build(self, ua: int, ub: int, k: int, bodies: bool) -> list[tuple[QPen | None, QBrush | None, QPainterPath]]:
        raise NotImplementedError


class CandleItem(OhlcItem):
    def build(self, ua: int, ub: int, k: int, bodies: bool) -> list[tuple[QPen | None, QBrush | None, QPainterPath]]:
        s = self.series
        out: list[tuple[QPen | None, QBrush | None, QPainterPath]] = []
        pens = {True: cosmetic_pen(self.up), False: cosmetic_pen(self.down)}
        if not bodies:
            starts, rising = self.block_direction(ua, ub, k)
            lows, highs = s.lows.levels[k][ua : ub + 1], s.highs.levels[k][ua : ub + 1]
            x = starts + ((1 << k) - 1) / 2
            for up in (True, False):
                m = rising == up
                if m.any():
                    out.append((pens[up], None, segments(x[m], lows[m], highs[m])))
            return out
        idx = np.arange(ua, ub + 1)
        o, h, lo, c = s.o[ua : ub + 1], s.h[ua : ub + 1], s.l[ua : ub + 1], s.c[ua : ub + 1]
        rising = c >= o
        for up in (True, False):
            m = rising == up
            if not m.any():
                continue
            color = self.up if up else self.down
            out.append((pens[up], None, segments(idx[m], lo[m], h[m])))
            out.append(
                (
                    pens[up],
                    QBrush(color),
                    boxes(idx[m].astype(float), np.minimum(o[m], c[m]), np.maximum(o[m], c[m]), BODY_HALF_WIDTH),
                )
            )
        return out


class VolumeItem(OhlcItem):
    """Volume columns in the candle colours, toned down (``alpha`` over ``background``)."""

    def __init__(self, series: OhlcSeries) -> None:
        super().__init__(series)
        self.alpha = 110
        self.background = QColor("#14171c")

    def build(self, ua: int, ub: int, k: int, bodies: bool) -> list[tuple[QPen | None, QBrush | None, QPainterPath]]:
        s = self.series
        out: list[tuple[QPen | None, QBrush | None, QPainterPath]] = []
        colors = {}
        for up in (True, False):
            c = QColor(self.up if up else self.down)
            c.setAlpha(self.alpha)
            colors[up] = over(c, self.background)
        if not bodies:
            starts, rising = self.block_direction(ua, ub, k)
            vm = s.vols.levels[k][ua : ub + 1]
            x = starts + ((1 << k) - 1) / 2
            for up in (True, False):
                m = rising == up
                if m.any():
                    out.append((cosmetic_pen(colors[up]), None, segments(x[m], np.zeros(int(m.sum())), vm[m])))
            return out
        idx = np.arange(ua, ub + 1).astype(float)
        v = s.v[ua : ub + 1]
        rising = s.c[ua : ub + 1] >= s.o[ua : ub + 1]
        for up in (True, False):
            m = rising == up
            if m.any():
                out.append((None, QBrush(colors[up]), boxes(idx[m], np.zeros(int(m.sum())), v[m], BODY_HALF_WIDTH)))
        return out


def decimate(y: np.ndarray, n: int, i0: int, i1: int, bpp: float) -> tuple[str, np.ndarray, np.ndarray, np.ndarray]:
    """The visible part of an indicator in O(pixels) points, aligned to blocks of 2**k bars so
    panning does not make it shimmer.

    Returns ("raw", x, y, y) — every bar, or one sample per block when blocks are large — or
    ("env", x, lo, hi): the lowest and highest value of each block.
    """
    i0, i1 = max(0, i0), min(n - 1, i1)
    if i1 < i0:
        e = np.empty(0)
        return "raw", e, e, e
    x: np.ndarray  # bar indices, or block centres (float) for an envelope
    if bpp <= 1.0:
        x = np.arange(i0, i1 + 1)
        return "raw", x, y[i0 : i1 + 1], y[i0 : i1 + 1]
    size = 1 << math.ceil(math.log2(bpp) - 1e-9)  # a block per pixel or less: 1-2 points per pixel
    a = (i0 // size) * size
    b = min(n, (i1 // size + 1) * size)
    if size > ENVELOPE_MAX_BLOCK:
        x = np.arange(a, b, size)
        return "raw", x, y[x], y[x]
    seg = y[a:b]
    nb = -(-len(seg) // size)
    if len(seg) != nb * size:
        seg = np.concatenate((seg, np.full(nb * size - len(seg), np.nan)))
    lo = hi = seg.reshape(nb, size)
    while lo.shape[1] > 1:  # halving pairwise: far faster than a reduce along a short axis
        lo = np.fmin(lo[:, 0::2], lo[:, 1::2])
        hi = np.fmax(hi[:, 0::2], hi[:, 1::2])
    x = a + np.arange(nb) * size + (size - 1) / 2
    return "env", x, lo[:, 0], hi[:, 0]


class LineItem(ViewItem):
    """An indicator line over bar indices, drawn for the visible range only, with at most about
    two points per pixel column (the block's low and high), broken at NaN and at ``breaks``."""

    def __init__(self, color: QColor, width: float = 1.0, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> None:
        super().__init__()
        self.y = np.empty(0)
        self.n = 0
        self.breaks: np.ndarray | None = None
        self.version = 0
        self.pen = cosmetic_pen(color, width, style)
        self._key: tuple | None = None
        self._dkey: tuple | None = None
        self._dec: tuple[str, np.ndarray, np.ndarray, np.ndarray, float] | None = None
        self._path = QPainterPath()

    def set_color(self, color: QColor) -> None:
        self.pen.setColor(color)
        self.update()

    def set_data(self, y: np.ndarray, n: int, breaks: np.ndarray | None = None) -> None:
        """``y`` may be longer than ``n`` (a buffer with room to grow); only y[:n] is drawn."""
        self.y, self.n, self.breaks = y, n, breaks
        self.version += 1
        self.update()

    @property
    def yData(self) -> np.ndarray:
        return self.y[: self.n]

    def _decimated(self) -> tuple[str, np.ndarray, np.ndarray, np.ndarray, float] | None:
        """The visible part, decimated; cached with the view and the data version."""
        st = self.view_state()
        if st is None:
            return None
        x0, x1, bpp = st
        i0, i1 = math.floor(x0) - 1, math.ceil(x1) + 1
        key = (i0, i1, round(bpp, 6), self.version)
        if key != self._dkey:
            self._dec = (*decimate(self.y, self.n, i0, i1, bpp), bpp)
            self._dkey = key
        return self._dec

    def visible_extent(self) -> tuple[float, float] | None:
        dec = self._decimated()
        if dec is None or len(dec[2]) == 0:
            return None
        a, b = np.fmin.reduce(dec[2]), np.fmax.reduce(dec[3])
        return (float(a), float(b)) if np.isfinite(a) and np.isfinite(b) else None

    @safe_paint
    def paint(self, p: QPainter, *args: object) -> None:
        if self.n < 2:
            return
        dec = self._decimated()
        if dec is None:
            return
        if self._dkey != self._key:
            self._path = self._build(*dec)
            self._key = self._dkey
            self.builds += 1
        self.paints += 1
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.setPen(self.pen)
        p.drawPath(self._path)

    def _build(self, mode: str, x: np.ndarray, lo: np.ndarray, hi: np.ndarray, bpp: float) -> QPainterPath:
        if len(x) < 2:
            return QPainterPath()
        if mode == "env":
            xs = np.repeat(x, 2)
            ys = np.empty(len(xs))
            ys[0::2], ys[1::2] = lo, hi
        else:
            xs, ys = x.astype(float), lo
        ok = np.isfinite(ys)
        connect = np.zeros(len(xs), dtype=np.int32)
        connect[:-1] = ok[:-1] & ok[1:]
        if mode == "raw" and self.breaks is not None and len(self.breaks) and bpp <= 1.0:
            # No line across a restart (a new VWAP session).
            starts = self.breaks[(self.breaks > x[0]) & (self.breaks <= x[-1])]
            connect[(starts - int(x[0]) - 1).astype(np.int64)] = 0
        return pg.arrayToQPath(xs, np.where(ok, ys, 0.0), connect=connect, finiteCheck=False)


class HistogramItem(ViewItem):
    """Bars from zero (the MACD histogram): rising and falling columns in four shades, like
    terminals traders know; zoomed out, one stroke per block from its low to its high."""

    def __init__(self) -> None:
        super().__init__()
        self.y = np.empty(0)
        self.n = 0
        self.version = 0
        self.colors = [QColor("#26a69a"), QColor("#26a69a"), QColor("#ef5350"), QColor("#ef5350")]
        self._key: tuple | None = None
        self._parts: list[tuple[QColor, QPainterPath, bool]] = []

    def set_colors(self, up: QColor, down: QColor) -> None:
        weak_up, weak_down = QColor(up), QColor(down)
        weak_up.setAlpha(120)
        weak_down.setAlpha(120)
        self.colors = [QColor(up), weak_up, QColor(down), weak_down]
        self._key = None
        self.update()

    def set_data(self, y: np.ndarray, n: int) -> None:
        self.y, self.n = y, n
        self.version += 1
        self.update()

    @property
    def yData(self) -> np.ndarray:
        return self.y[: self.n]

    @safe_paint
    def paint(self, p: QPainter, *args: object) -> None:
        st = self.view_state()
        if st is None or self.n == 0:
            return
        x0, x1, bpp = st
        i0, i1 = math.floor(x0) - 1, math.ceil(x1) + 1
        key = (i0, i1, round(bpp, 6), self.version, tuple(c.rgba() for c in self.colors))
        if key != self._key:
            self._parts = self._build(i0, i1, bpp)
            self._key = key
            self.builds += 1
        self.paints += 1
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        for color, path, filled in self._parts:
            if filled:
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(QBrush(color))
            else:
                p.setPen(cosmetic_pen(color))
                p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawPath(path)

    def _build(self, i0: int, i1: int, bpp: float) -> list[tuple[QColor, QPainterPath, bool]]:
        mode, x, lo, hi = decimate(self.y, self.n, i0, i1, bpp)
        ok = np.isfinite(lo) & np.isfinite(hi)
        x, lo, hi = x[ok], lo[ok], hi[ok]
        if len(x) == 0:
            return []
        if mode == "raw" and bpp <= BODY_MAX_BARS_PER_PX:
            prev = np.empty(len(lo))
            prev[0] = lo[0]
            prev[1:] = lo[:-1]
            shade = np.where(lo >= 0, np.where(lo >= prev, 0, 1), np.where(lo <= prev, 2, 3))
            return [
                (
                    self.colors[c],
                    boxes(
                        x[shade == c].astype(float), np.zeros(int((shade == c).sum())), lo[shade == c], BODY_HALF_WIDTH
                    ),
                    True,
                )
                for c in range(4)
                if (shade == c).any()
            ]
        y0, y1 = np.minimum(lo, 0.0), np.maximum(hi, 0.0)
        positive = hi >= -lo
        return [
            (
                self.colors[0 if pos else 2],
                segments(x[positive == pos], y0[positive == pos], y1[positive == pos]),
                False,
            )
            for pos in (True, False)
            if (positive == pos).any()
        ]


class BandItem(ViewItem):
    """A filled band between two lines (Bollinger), decimated like the lines."""

    def __init__(self, color: QColor) -> None:
        super().__init__()
        self.upper = self.lower = np.empty(0)
        self.n = 0
        self.version = 0
        self.brush = QBrush(color)
        self._key: tuple | None = None
        self._path = QPainterPath()

    def set_color(self, color: QColor) -> None:
        self.brush = QBrush(color)
        self.update()

    def set_data(self, upper: np.ndarray, lower: np.ndarray, n: int) -> None:
        self.upper, self.lower, self.n = upper, lower, n
        self.version += 1
        self.update()

    @safe_paint
    def paint(self, p: QPainter, *args: object) -> None:
        st = self.view_state()
        if st is None or self.n < 2:
            return
        x0, x1, bpp = st
        i0, i1 = math.floor(x0) - 1, math.ceil(x1) + 1
        key = (i0, i1, round(bpp, 6), self.version)
        if key != self._key:
            _m, x, _lo, hi = decimate(self.upper, self.n, i0, i1, bpp)
            _m, _x, lo, _hi = decimate(self.lower, self.n, i0, i1, bpp)
            ok = np.isfinite(hi) & np.isfinite(lo)
            path = QPainterPath()
            if ok.sum() >= 2:
                x, hi, lo = x[ok].astype(float), hi[ok], lo[ok]
                xs = np.concatenate((x, x[::-1], x[:1]))
                ys = np.concatenate((hi, lo[::-1], hi[:1]))
                path = pg.arrayToQPath(xs, ys, connect="all", finiteCheck=False)
            self._path = path
            self._key = key
            self.builds += 1
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(self.brush)
        p.drawPath(self._path)


class GridItem(ViewItem):
    """Grid lines on the ticks of the time axis and the value axis (either may be hidden in this
    pane; the ticks are the same). Drawn here because pyqtgraph's axis grid is slow to paint."""

    def __init__(self, time_axis: pg.AxisItem, value_axis: pg.AxisItem, color: QColor) -> None:
        super().__init__()
        self.time_axis, self.value_axis = time_axis, value_axis
        self.pen = cosmetic_pen(color)

    def set_color(self, color: QColor) -> None:
        self.pen = cosmetic_pen(color)
        self.update()

    @safe_paint
    def paint(self, p: QPainter, *args: object) -> None:
        vb = self.getViewBox()
        if vb is None or vb.width() < 2 or vb.height() < 2:  # a pane being shown: no size yet
            return
        (x0, x1), (y0, y1) = vb.viewRange()
        xs = [v for _s, values in self.time_axis.tickValues(x0, x1, vb.width()) for v in values]
        fixed = getattr(self.value_axis, "_tickLevels", None)  # set with setTicks (the RSI pane)
        if fixed:
            ys = [v for v, _label in fixed[0]]
        else:
            levels = self.value_axis.tickValues(y0, y1, vb.height())
            ys = list(levels[0][1]) if levels else []
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.setPen(self.pen)
        path = QPainterPath()
        if xs:
            x = np.asarray(xs, float)
            path.addPath(segments(x, np.full(len(x), y0), np.full(len(x), y1)))
        for y in ys:
            path.moveTo(x0, y)
            path.lineTo(x1, y)
        p.drawPath(path)
