"""The user's working orders as horizontal lines on the price pane: a label on each line (with a ✕
that cancels the order), a price tag on the axis, and dragging a line proposes a new price
(reported when the mouse is released). A stop-limit has two lines, its trigger dotted; legs of
an OCO or bracket are drawn locked (a padlock, no drag)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from .axes import AxisTags, Tag, format_price
from .overlays import PriceLabel, PriceLabels


@dataclass(frozen=True, slots=True)
class OrderLine:
    client_order_id: str
    side: str  # "buy" | "sell"
    label: str  # e.g. "Buy Limit 0.01", already translated (the price is on the axis tag)
    price: float  # drawing only
    draggable: bool = True
    line_id: str = ""  # an order with two lines (a stop-limit's trigger and limit) gives each its id
    trigger: bool = False  # a trigger price (dotted), not where the order rests
    locked: bool = False  # a leg of an OCO or bracket: drawn with a padlock, not draggable
    cancellable: bool = True  # the label's ✕ cancels the order

    @property
    def key(self) -> str:
        return self.line_id or self.client_order_id


class OrderLines:
    """Keeps one InfiniteLine per order in sync with the latest ``OrderLine`` list."""

    def __init__(
        self,
        plot: pg.PlotItem,
        labels: PriceLabels,
        tags: AxisTags,
        moved: Callable[[str, float], None],
        round_price: Callable[[float], float],
        decimals: Callable[[], int],
    ) -> None:
        self.plot, self.labels, self.tags = plot, labels, tags
        self.moved, self.round_price, self.decimals = moved, round_price, decimals
        self.items: dict[str, pg.InfiniteLine] = {}
        self.specs: dict[str, OrderLine] = {}
        # Prices a line was dragged to while the move waits for the user's confirmation: the line
        # stays where it was dropped until the answer (``settle``).
        self.proposed: dict[str, float] = {}
        self.colors = {"buy": QColor("#26a69a"), "sell": QColor("#ef5350")}
        self.tag_text = QColor("#ffffff")

    def set_colors(self, buy: QColor, sell: QColor, tag_text: QColor) -> None:
        self.colors = {"buy": QColor(buy), "sell": QColor(sell)}
        self.tag_text = QColor(tag_text)
        for spec in self.specs.values():
            self._style(spec)

    def set(self, lines: list[OrderLine]) -> None:
        keep = {ln.key for ln in lines}
        for cid in list(self.items):
            if cid not in keep:
                self.plot.removeItem(self.items.pop(cid))
                self.specs.pop(cid, None)
                self.labels.set(f"order:{cid}", None)
                self.tags.set(f"order:{cid}", None)
        for ln in lines:
            item = self.items.get(ln.key)
            if item is None:
                item = pg.InfiniteLine(angle=0, movable=ln.draggable)
                item.client_order_id = ln.key
                item.setZValue(50)
                item.sigDragged.connect(self._dragging)
                item.sigPositionChangeFinished.connect(self._released)
                self.plot.addItem(item, ignoreBounds=True)
                self.items[ln.key] = item
            pending = ln.key in self.proposed
            item.setMovable(ln.draggable and not ln.locked and not pending)
            at = self.proposed.get(ln.key, ln.price)
            if not item.moving:  # never pull a line out of the user's hand mid-drag
                item.blockSignals(True)
                item.setValue(at)
                item.blockSignals(False)
            self.specs[ln.key] = ln
            self._style(ln)
            self._show(ln, at)
        for cid in [c for c in self.proposed if c not in keep]:
            del self.proposed[cid]

    def settle(self, client_order_id: str) -> None:
        """The proposed move was answered: the line follows the order again (``set`` redraws it)."""
        self.proposed.pop(client_order_id, None)
        spec = self.specs.get(client_order_id)
        item = self.items.get(client_order_id)
        if spec is not None and item is not None:
            item.setMovable(spec.draggable and not spec.locked)
            item.blockSignals(True)
            item.setValue(spec.price)
            item.blockSignals(False)
            self._show(spec, spec.price)

    def _style(self, ln: OrderLine) -> None:
        item = self.items[ln.key]
        color = self.colors.get(ln.side, self.colors["buy"])
        style = Qt.PenStyle.DotLine if ln.trigger else Qt.PenStyle.DashLine
        item.setPen(pg.mkPen(color, width=1, style=style))
        movable = ln.draggable and not ln.locked
        item.setHoverPen(pg.mkPen(color, width=2.5 if movable else 1, style=style))
        if movable:
            item.setCursor(Qt.CursorShape.SizeVerCursor)
        elif ln.locked:
            item.setCursor(Qt.CursorShape.ForbiddenCursor)
        else:
            item.unsetCursor()
        self._show(ln, item.value())

    def _show(self, ln: OrderLine, price: float) -> None:
        color = self.colors.get(ln.side, self.colors["buy"])
        text = ln.label
        if abs(price - ln.price) > 1e-12:
            text = f"{ln.label}  → {format_price(price, self.decimals())}"
        close = f"cancel:{ln.client_order_id}" if ln.cancellable else ""
        self.labels.set(
            f"order:{ln.key}", PriceLabel(price, text, color, close_key=close, locked=ln.locked, dashed=ln.trigger)
        )
        self.tags.set(
            f"order:{ln.key}", Tag(price, format_price(price, self.decimals()), color, self.tag_text, order=2)
        )

    def prices(self) -> list[float]:
        return [it.value() for it in self.items.values()]

    def _dragging(self, item: pg.InfiniteLine) -> None:
        cid = item.client_order_id
        self._show(self.specs[cid], self.round_price(item.value()))

    def _released(self, item: pg.InfiniteLine) -> None:
        cid = item.client_order_id
        spec = self.specs.get(cid)
        if spec is None:
            return
        price = self.round_price(item.value())
        if abs(price - spec.price) < 1e-12:  # no move (or a cancelled drag): snap back quietly
            item.blockSignals(True)
            item.setValue(spec.price)
            item.blockSignals(False)
            self._show(spec, spec.price)
            return
        item.blockSignals(True)
        item.setValue(price)
        item.blockSignals(False)
        self.proposed[cid] = price
        item.setMovable(False)  # one question per line at a time
        self._show(spec, price)
        self.moved(cid, price)
