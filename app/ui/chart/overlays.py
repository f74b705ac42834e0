"""Text drawn over a pane in pixels (not data coordinates): the legend with the read-out of the bar
under the cursor and the indicator values, and the labels of order, alert and position lines,
pushed apart so that lines at nearby prices do not print over each other."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import pyqtgraph as pg
from pyqtgraph.GraphicsScene.mouseEvents import HoverEvent, MouseClickEvent
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen

from .painting import safe_paint

PAD = 6.0


class LegendItem(pg.GraphicsObject):
    """Lines of coloured runs of text at the top left of a ViewBox."""

    def __init__(self, vb: pg.ViewBox) -> None:
        super().__init__(vb)
        self.vb = vb
        self.lines: list[list[tuple[str, QColor]]] = []
        self.font = QFont()
        self.font.setPointSizeF(8.5)
        self.fill = QColor(0, 0, 0, 0)
        self.setZValue(900)
        vb.sigResized.connect(self._resized)  # a method, not a lambda: gone with this item

    def _resized(self, *_: object) -> None:
        self.prepareGeometryChange()

    def set_lines(self, lines: list[list[tuple[str, QColor]]]) -> None:
        if lines != self.lines:
            self.prepareGeometryChange()
            self.lines = lines
            self.update()

    def text(self) -> str:
        return "\n".join("".join(t for t, _c in line) for line in self.lines)

    def boundingRect(self) -> QRectF:
        fm = QFontMetricsF(self.font)
        return QRectF(0, 0, self.vb.width(), PAD + len(self.lines) * (fm.height() + 1) + PAD)

    @safe_paint
    def paint(self, p: QPainter, *args: object) -> None:
        if not self.lines:
            return
        fm = QFontMetricsF(self.font)
        p.setFont(self.font)
        y = PAD
        for line in self.lines:
            x = PAD
            width = sum(fm.horizontalAdvance(t) for t, _c in line)
            if self.fill.alpha():
                p.fillRect(QRectF(x - 3, y - 1, width + 6, fm.height() + 2), self.fill)
            for text, color in line:
                p.setPen(color)
                p.drawText(QPointF(x, y + fm.ascent()), text)
                x += fm.horizontalAdvance(text)
            y += fm.height() + 1


@dataclass(slots=True)
class PriceLabel:
    price: float
    text: str
    color: QColor
    close_key: str = ""  # non-empty: the label has a ✕ that reports this key when clicked
    locked: bool = False  # a padlock: the line cannot be dragged (an OCO or bracket leg)
    dashed: bool = False  # an outlined label (a trigger, an alert) rather than a filled one


CLOSE_W = 16.0  # the ✕ button at the right end of a label


class PriceLabels(pg.GraphicsObject):
    """Labels for horizontal lines (orders, triggers, alerts, the position) at the left of the
    pane, each on its line; labels that would overlap are pushed apart vertically (as the axis
    tags are), never sideways into the candles. A label may carry a ✕ (cancel the order, remove
    the alert) and a padlock (a line that cannot be dragged)."""

    def __init__(self, vb: pg.ViewBox, on_close: Callable[[str], None] | None = None) -> None:
        super().__init__(vb)
        self.vb = vb
        self.on_close = on_close
        self.labels: dict[str, PriceLabel] = {}
        self.font = QFont()
        self.font.setPointSizeF(8.5)
        self.fill = QColor(20, 23, 28, 200)
        self.setZValue(800)
        self.setAcceptHoverEvents(True)
        self._placed: list[tuple[QRectF, PriceLabel]] = []
        vb.sigRangeChanged.connect(self._moved)
        vb.sigResized.connect(self._moved)

    def _moved(self, *_: object) -> None:
        self.prepareGeometryChange()
        self.update()

    def set(self, key: str, label: PriceLabel | None) -> None:
        self.prepareGeometryChange()
        if label is None:
            if self.labels.pop(key, None) is not None:
                self.update()
            return
        self.labels[key] = label
        self.update()

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self.vb.width(), self.vb.height())

    def shape(self) -> QPainterPath:
        """Only the ✕ buttons take the mouse; everywhere else the chart gets it (drag, click)."""
        path = QPainterPath()
        for rect, lab in self.layout():
            if lab.close_key:
                path.addRect(self.close_rect(rect))
        return path

    @staticmethod
    def close_rect(rect: QRectF) -> QRectF:
        return QRectF(rect.right() - CLOSE_W, rect.top(), CLOSE_W, rect.height())

    def _width(self, fm: QFontMetricsF, lab: PriceLabel) -> float:
        return fm.horizontalAdvance(lab.text) + 8 + (CLOSE_W if lab.close_key else 0) + (12 if lab.locked else 0)

    def layout(self) -> list[tuple[QRectF, PriceLabel]]:
        """Where each label goes: centred on its line at the left, overlapping ones pushed apart
        vertically, all kept inside the pane."""
        fm = QFontMetricsF(self.font)
        h = fm.height() + 2
        height = self.vb.height()
        items = []
        for lab in self.labels.values():
            y = self.mapFromItem(self.vb, self.vb.mapFromView(QPointF(0, lab.price))).y()
            if -h <= y <= height + h:
                items.append((y, lab))
        placed = [
            (QRectF(PAD, y - h / 2, self._width(fm, lab), h), lab) for y, lab in sorted(items, key=lambda i: i[0])
        ]
        for (prev, _a), (rect, _b) in itertools.pairwise(placed):
            if rect.top() < prev.bottom() + 1:
                rect.moveTop(prev.bottom() + 1)
        if placed and placed[-1][0].bottom() > height:
            placed[-1][0].moveBottom(height)
            for (rect, _a), (nxt, _b) in itertools.pairwise(reversed(placed)):
                if nxt.bottom() + 1 > rect.top():
                    nxt.moveBottom(rect.top() - 1)
        if placed and placed[0][0].top() < 0:
            shift = -placed[0][0].top()
            for rect, _l in placed:
                rect.translate(0, shift)
        self._placed = placed
        return placed

    def close_at(self, pos: QPointF) -> str:
        for rect, lab in self._placed or self.layout():
            if lab.close_key and self.close_rect(rect).contains(pos):
                return lab.close_key
        return ""

    def mouseClickEvent(self, ev: MouseClickEvent) -> None:  # pyqtgraph's click (press and release in place)
        key = self.close_at(ev.pos())
        if key and ev.button() == Qt.MouseButton.LeftButton and self.on_close is not None:
            ev.accept()
            self.on_close(key)

    def hoverEvent(self, ev: HoverEvent) -> None:
        over = not ev.isExit() and bool(self.close_at(ev.pos()))
        if over:
            self.setCursor(Qt.CursorShape.PointingHandCursor)
        else:
            self.unsetCursor()

    @safe_paint
    def paint(self, p: QPainter, *args: object) -> None:
        if not self.labels:
            return
        p.setFont(self.font)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        fm = QFontMetricsF(self.font)
        for rect, lab in self.layout():
            path = QPainterPath()
            path.addRoundedRect(rect, 2, 2)
            p.fillPath(path, self.fill)
            if lab.dashed:
                p.setPen(QPen(lab.color, 1, Qt.PenStyle.DotLine))
                p.drawPath(path)
            x = rect.left() + 4
            if lab.locked:
                _padlock(p, QPointF(x + 4, rect.center().y()), lab.color)
                x += 12
            p.setPen(lab.color)
            p.drawText(QPointF(x, rect.top() + 1 + fm.ascent()), lab.text)
            if lab.close_key:
                c = self.close_rect(rect)
                p.setPen(QPen(lab.color, 1.4))
                m = c.height() * 0.3
                p.drawLine(QPointF(c.left() + m, c.top() + m), QPointF(c.right() - m, c.bottom() - m))
                p.drawLine(QPointF(c.left() + m, c.bottom() - m), QPointF(c.right() - m, c.top() + m))


def _padlock(p: QPainter, centre: QPointF, color: QColor) -> None:
    """A small padlock (drawn, so it needs no emoji font): a body and its shackle."""
    p.save()
    p.setPen(QPen(color, 1.2))
    p.setBrush(Qt.BrushStyle.NoBrush)
    body = QRectF(centre.x() - 3.5, centre.y() - 1, 7, 5.5)
    p.drawArc(QRectF(centre.x() - 2.5, centre.y() - 5.5, 5, 8), 0, 180 * 16)
    p.fillRect(body, color)
    p.restore()


class TopRule(pg.GraphicsObject):
    """A one-pixel line along the top of a pane, separating it from the pane above."""

    def __init__(self, vb: pg.ViewBox) -> None:
        super().__init__(vb)
        self.vb = vb
        self.color = QColor("#2a303a")
        self.setZValue(950)
        vb.sigResized.connect(self._resized)  # a method, not a lambda: gone with this item

    def _resized(self, *_: object) -> None:
        self.prepareGeometryChange()

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self.vb.width(), 1)

    @safe_paint
    def paint(self, p: QPainter, *args: object) -> None:
        p.setPen(self.color)
        p.drawLine(QPointF(0, 0.5), QPointF(self.vb.width(), 0.5))
