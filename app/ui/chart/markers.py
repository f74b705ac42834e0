"""Fills and model signals as markers of constant pixel size: a buy fill is a ▲ whose tip
touches its price from below, a sell fill a ▼ from above; signals are arrows with their label."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen

from .items import ViewItem
from .painting import safe_paint
from .series import OhlcSeries

SIZE = 7.0  # half width of a marker, pixels
MAX_LABELS = 80  # more signals than this on screen: markers only, no text


class MarkerItem(ViewItem):
    """Markers at (bar time, price). Kinds: "buy", "sell" (fills), "long", "short", "flat"
    (signals). Times are mapped to bars when drawn, so markers follow new bars and histories."""

    KINDS = ("buy", "sell", "long", "short", "flat")

    def __init__(self, series: OhlcSeries) -> None:
        super().__init__()
        self.series = series
        self._t: list[int] = []
        self._price: list[float] = []
        self._kind: list[int] = []
        self.labels: list[str] = []
        self.colors = {k: QColor("#888888") for k in self.KINDS}
        self.outline = QColor("#000000")
        self.label_fill = QColor(20, 23, 28, 200)
        self.font = QFont()
        self.font.setPointSizeF(8.0)
        self._arrays: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
        self._arrays_key: tuple[int, int, int] | None = None

    def __len__(self) -> int:
        return len(self._t)

    def add(self, t_ms: int, price: float, kind: str, label: str = "") -> None:
        if kind not in self.KINDS:
            raise ValueError(f"unknown marker kind {kind!r}")
        self._t.append(int(t_ms))
        self._price.append(float(price))
        self._kind.append(self.KINDS.index(kind))
        self.labels.append(label)
        self._arrays_key = None
        self.update()

    def clear(self) -> None:
        self._t.clear()
        self._price.clear()
        self._kind.clear()
        self.labels.clear()
        self._arrays_key = None
        self.update()

    def remove_kinds(self, kinds: tuple[str, ...]) -> None:
        codes = {self.KINDS.index(k) for k in kinds}
        keep = [i for i, k in enumerate(self._kind) if k not in codes]
        self._t = [self._t[i] for i in keep]
        self._price = [self._price[i] for i in keep]
        self._kind = [self._kind[i] for i in keep]
        self.labels = [self.labels[i] for i in keep]
        self._arrays_key = None
        self.update()

    def count(self, kinds: tuple[str, ...]) -> int:
        codes = {self.KINDS.index(k) for k in kinds}
        return sum(1 for k in self._kind if k in codes)

    def kinds(self) -> list[str]:
        return [self.KINDS[k] for k in self._kind]

    def set_colors(self, colors: dict[str, QColor], outline: QColor, label_fill: QColor) -> None:
        self.colors = dict(colors)
        self.outline = QColor(outline)
        self.label_fill = QColor(label_fill)
        self.update()

    def positions(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(bar index, price, kind code, order added) of the markers within the history, by bar."""
        s = self.series
        key = (len(self._t), s.n, s.closed_version)
        arrays = self._arrays
        if arrays is None or key != self._arrays_key:
            t = np.asarray(self._t, dtype=np.int64)
            idx = s.index_of(t) if s.n else np.full(len(t), -1)
            keep = np.flatnonzero(idx >= 0)
            order = keep[np.argsort(idx[keep], kind="stable")]
            arrays = self._arrays = (
                idx[order],
                np.asarray(self._price)[order],
                np.asarray(self._kind, dtype=np.int8)[order],
                order,
            )
            self._arrays_key = key
        return arrays

    @safe_paint
    def paint(self, p: QPainter, *args: object) -> None:
        st = self.view_state()
        if st is None or not self._t:
            return
        x0, x1, _bpp = st
        idx, price, kind, order = self.positions()
        a = int(np.searchsorted(idx, math.floor(x0), side="left"))
        b = int(np.searchsorted(idx, math.ceil(x1), side="right"))
        if b <= a:
            return
        self.paints += 1
        tr = p.transform()  # view → device; the chart never rotates, so this is scale + shift
        dx = tr.m11() * idx[a:b] + tr.m31()
        dy = tr.m22() * price[a:b] + tr.m32()
        kinds = kind[a:b]
        p.save()
        p.resetTransform()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setPen(QPen(self.outline, 1.0))
        for code, name in enumerate(self.KINDS):
            m = kinds == code
            if not m.any():
                continue
            p.setBrush(QBrush(self.colors[name]))
            p.drawPath(_glyphs(dx[m], dy[m], name))
        if b - a <= MAX_LABELS:
            p.setFont(self.font)
            fm = QFontMetricsF(self.font)
            for j in np.flatnonzero(kinds >= 2):
                text = self.labels[int(order[a + j])]
                if not text:
                    continue
                name = self.KINDS[int(kinds[j])]
                w = fm.horizontalAdvance(text)
                below = name == "long"
                y = dy[j] + (2.6 * SIZE + fm.ascent() if below else -2.6 * SIZE - fm.descent())
                p.fillRect(QRectF(dx[j] - w / 2 - 3, y - fm.ascent() - 1, w + 6, fm.height() + 2), self.label_fill)
                p.setPen(self.colors[name])
                p.drawText(QPointF(dx[j] - w / 2, y), text)
        p.restore()


def _glyphs(x: np.ndarray, y: np.ndarray, kind: str) -> QPainterPath:
    """Closed triangles (or diamonds for "flat") in device pixels, as one path."""
    s = SIZE
    if kind in ("buy", "long"):  # ▲ under the price, tip on it
        off = 0.0 if kind == "buy" else 3.0
        px = np.stack([x, x + s, x - s, x], axis=1)
        py = np.stack([y + off, y + off + 1.6 * s, y + off + 1.6 * s, y + off], axis=1)
    elif kind in ("sell", "short"):  # ▼ over the price
        off = 0.0 if kind == "sell" else 3.0
        px = np.stack([x, x + s, x - s, x], axis=1)
        py = np.stack([y - off, y - off - 1.6 * s, y - off - 1.6 * s, y - off], axis=1)
    else:  # ◆ on the price
        px = np.stack([x, x + s, x, x - s, x], axis=1)
        py = np.stack([y - s, y, y + s, y, y - s], axis=1)
    connect = np.ones(px.shape, dtype=np.int32)
    connect[:, -1] = 0
    return pg.arrayToQPath(px.ravel(), py.ravel(), connect=connect.ravel(), finiteCheck=False)
