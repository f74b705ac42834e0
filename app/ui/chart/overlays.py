"""Text drawn over a pane in pixels (not data coordinates): the legend with the read-out of the bar
under the cursor and the indicator values, and the labels of order and position lines, stacked so
that lines at nearby prices do not print over each other."""

from __future__ import annotations

from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath

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


class PriceLabels(pg.GraphicsObject):
    """Labels for horizontal lines (orders, the position), at the left of the pane on their line;
    a label that would overlap the one above moves right, into the next column."""

    COLUMN_PX = 260.0

    def __init__(self, vb: pg.ViewBox) -> None:
        super().__init__(vb)
        self.vb = vb
        self.labels: dict[str, PriceLabel] = {}
        self.font = QFont()
        self.font.setPointSizeF(8.5)
        self.fill = QColor(20, 23, 28, 200)
        self.setZValue(800)
        vb.sigRangeChanged.connect(self._moved)
        vb.sigResized.connect(self._moved)

    def _moved(self, *_: object) -> None:
        self.prepareGeometryChange()
        self.update()

    def set(self, key: str, label: PriceLabel | None) -> None:
        if label is None:
            if self.labels.pop(key, None) is not None:
                self.update()
            return
        self.labels[key] = label
        self.update()

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self.vb.width(), self.vb.height())

    def layout(self) -> list[tuple[QRectF, PriceLabel]]:
        """Where each label goes: just above its line, in the first column where it fits."""
        fm = QFontMetricsF(self.font)
        h = fm.height() + 2
        placed: list[tuple[QRectF, PriceLabel]] = []
        items = []
        for lab in self.labels.values():
            y = self.mapFromItem(self.vb, self.vb.mapFromView(QPointF(0, lab.price))).y()
            if -h <= y <= self.vb.height() + h:
                items.append((y, lab))
        for y, lab in sorted(items, key=lambda it: it[0]):
            w = fm.horizontalAdvance(lab.text) + 8
            col = 0
            while True:
                rect = QRectF(PAD + col * self.COLUMN_PX, y - h, w, h)
                if not any(rect.intersects(r) for r, _l in placed):
                    break
                col += 1
            placed.append((rect, lab))
        return placed

    @safe_paint
    def paint(self, p: QPainter, *args: object) -> None:
        if not self.labels:
            return
        p.setFont(self.font)
        fm = QFontMetricsF(self.font)
        for rect, lab in self.layout():
            path = QPainterPath()
            path.addRoundedRect(rect, 2, 2)
            p.fillPath(path, self.fill)
            p.setPen(lab.color)
            p.drawText(QPointF(rect.left() + 4, rect.top() + 1 + fm.ascent()), lab.text)


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
