"""Order book ladder (cumulative depth, spread, click-to-price) and recent trades."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QAbstractTableModel, QEvent, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QStackedWidget, QToolButton, QVBoxLayout, QWidget

from app.domain.market import BookLevel, BookSnapshot, Trade
from app.i18n import _, fmt_decimal

from ..context import UiContext
from ..format import fmt_fixed
from ..models import Column, RowsModel, make_table
from ..theme import colors

LEVELS = 10
MAX_LEVELS = 20


def grouped(levels: Iterable[BookLevel], step: Decimal | None, rounding: str) -> list[tuple[Decimal, Decimal]]:
    """(price, quantity) levels, summed into buckets of ``step`` (None: as they are)."""
    if step is None:
        return [(lvl.price, lvl.quantity) for lvl in levels]
    out: list[tuple[Decimal, Decimal]] = []
    for lvl in levels:
        bucket = (lvl.price / step).to_integral_value(rounding=rounding) * step
        if out and out[-1][0] == bucket:
            out[-1] = (bucket, out[-1][1] + lvl.quantity)
        else:
            out.append((bucket, lvl.quantity))
    return out


class LadderModel(QAbstractTableModel):
    """Asks on top (best at the bottom of them), the spread, then bids (best first)."""

    def __init__(self) -> None:
        super().__init__()
        self.levels = LEVELS  # per side: as many as the panel shows without scrolling
        self.asks: list[tuple[Decimal, Decimal, Decimal]] = []
        self.bids: list[tuple[Decimal, Decimal, Decimal]] = []
        self.spread: Decimal | None = None
        self.price_places = 2
        self.qty_places = 5
        self.max_cum = Decimal(1)

    def set_book(self, b: BookSnapshot, price_places: int, qty_places: int, group: Decimal | None = None) -> None:
        """Show ``b``; with ``group`` (a price step above the tick) levels are summed into buckets
        of that size: bids round down, asks round up, so a bucket never looks better than it is."""
        self.beginResetModel()
        if group is not None:
            exponent = group.normalize().as_tuple().exponent
            if isinstance(exponent, int):  # always: a step is finite (not "n"/"F")
                price_places = max(0, -exponent)
        self.price_places, self.qty_places = price_places, qty_places

        def cum(levels: list[tuple[Decimal, Decimal]]) -> list[tuple[Decimal, Decimal, Decimal]]:
            out: list[tuple[Decimal, Decimal, Decimal]] = []
            total = Decimal(0)
            for price, qty in levels[: self.levels]:
                total += qty
                out.append((price, qty, total))
            return out

        self.bids = cum(grouped(b.bids, group, ROUND_FLOOR))
        self.asks = list(reversed(cum(grouped(b.asks, group, ROUND_CEILING))))
        self.spread = (b.best_ask - b.best_bid) if b.best_ask is not None and b.best_bid is not None else None
        self.max_cum = max([r[2] for r in self.bids + self.asks] or [Decimal(1)])
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return len(self.asks) + 1 + len(self.bids)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 3

    def row(self, r: int) -> tuple[str, tuple[Decimal, Decimal, Decimal] | None]:
        if r < len(self.asks):
            return "ask", self.asks[r]
        if r == len(self.asks):
            return "spread", None
        return "bid", self.bids[r - len(self.asks) - 1]

    def price_at(self, r: int) -> Decimal | None:
        _kind, lvl = self.row(r)
        return lvl[0] if lvl else None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        kind, lvl = self.row(index.row())
        c = colors()
        if role == Qt.ItemDataRole.DisplayRole:
            if lvl is None:
                if index.column() == 0 and self.spread is not None:
                    return _("Spread {spread}").format(spread=fmt_fixed(self.spread, self.price_places))
                return ""
            price, qty, total = lvl
            if index.column() == 0:
                return fmt_fixed(price, self.price_places)
            return fmt_fixed(qty if index.column() == 1 else total, self.qty_places)
        if role == Qt.ItemDataRole.ForegroundRole:
            if kind == "spread":
                return QColor(c.muted)
            return QColor(c.sell if kind == "ask" else c.buy) if index.column() == 0 else None
        if role == Qt.ItemDataRole.BackgroundRole and lvl is not None and index.column() == 2:
            share = float(lvl[2] / self.max_cum) if self.max_cum else 0.0
            col = QColor(c.sell if kind == "ask" else c.buy)
            col.setAlpha(int(25 + 60 * share))
            return QBrush(col)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return [_("Price"), _("Amount"), _("Total")][section]
        return None


class DepthChart(pg.PlotWidget):
    """Cumulative bids (left, rising towards lower prices) and asks as two filled steps."""

    def __init__(self) -> None:
        super().__init__()
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.getPlotItem().hideAxis("left")
        self.getPlotItem().showAxis("right")
        self.bids = self.plot(stepMode="right", fillLevel=0)
        self.asks = self.plot(stepMode="left", fillLevel=0)
        self.set_theme()

    def set_theme(self) -> None:
        c = colors()
        self.setBackground(c.panel)
        for curve, color in ((self.bids, c.buy), (self.asks, c.sell)):
            q = QColor(color)
            curve.setPen(pg.mkPen(q, width=1.5))
            q.setAlpha(70)
            curve.setBrush(QBrush(q))
        for axis in ("right", "bottom"):
            self.getAxis(axis).setTextPen(pg.mkPen(c.muted))
            self.getAxis(axis).setPen(pg.mkPen(c.border))

    def set_book(
        self, bids: list[tuple[Decimal, Decimal, Decimal]], asks: list[tuple[Decimal, Decimal, Decimal]]
    ) -> None:
        """Rows as the ladder has them: bids best first, asks best last (floats: drawing only)."""
        b = list(reversed(bids))
        a = list(reversed(asks))
        self.bids.setData([float(p) for p, _q, _c in b], [float(c) for _p, _q, c in b])
        self.asks.setData([float(p) for p, _q, _c in a], [float(c) for _p, _q, c in a])

    def points(self) -> tuple[int, int]:
        bx, ax = self.bids.getData()[0], self.asks.getData()[0]
        return (0 if bx is None else len(bx)), (0 if ax is None else len(ax))


class BookPanel(QWidget):
    """The ladder shows as many levels a side as fit its height, so the spread and the best bids
    and asks are always in view (no scrolling in a short dock); prices can be grouped into
    larger steps, and a depth chart shows the same book as cumulative curves."""

    GROUP_STEPS = (1, 10, 100, 1000)  # multiples of the tick
    # The depth chart. The name hides QPaintDevice.depth(), which nothing calls on the panel;
    # tests/gui read ``book.depth``, so it keeps the name.
    depth: DepthChart

    def __init__(self, ctx: UiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.model = LadderModel()
        self.view = make_table(self.model)
        self.view.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.clicked.connect(self._clicked)
        self.view.viewport().installEventFilter(self)
        self._last: BookSnapshot | None = None
        self.group = QComboBox()
        self.group.setToolTip("")
        self.group.currentIndexChanged.connect(lambda _i: self._redraw())
        self.depth_btn = QToolButton()
        self.depth_btn.setCheckable(True)
        self.depth_btn.toggled.connect(self._show_depth)
        self.depth = DepthChart()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.depth)
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        bar.addWidget(self.group)
        bar.addStretch(1)
        bar.addWidget(self.depth_btn)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addLayout(bar)
        lay.addWidget(self.stack, 1)
        ctx.bridge.bookUpdated.connect(self.on_book)
        ctx.selection.symbolChanged.connect(self._symbol_changed)
        self.retranslate()

    def retranslate(self) -> None:
        inst = self.ctx.instrument()
        tick = inst.tick_size if inst is not None else Decimal("0.01")
        current = max(0, self.group.currentIndex())
        self.group.blockSignals(True)
        self.group.clear()
        for k in self.GROUP_STEPS:
            self.group.addItem(_("Group {step}").format(step=fmt_decimal(tick * k)), k)
        self.group.setCurrentIndex(current)
        self.group.blockSignals(False)
        self.group.setToolTip(_("Add up the levels into price steps of this size"))
        self.depth_btn.setText(_("Depth"))
        self.depth_btn.setToolTip(_("Show the book as a depth chart"))

    def group_step(self) -> Decimal | None:
        inst = self.ctx.instrument()
        k = self.group.currentData() or 1
        return None if inst is None or k == 1 else inst.tick_size * k

    def _show_depth(self, on: bool) -> None:
        self.stack.setCurrentWidget(self.depth if on else self.view)
        self._redraw()

    def _redraw(self) -> None:
        if self._last is not None:
            self.on_book(self._last)

    def _symbol_changed(self, _symbol: str) -> None:
        self._last = None
        self.model.set_book(BookSnapshot("", "", (), (), 0), 2, 5)
        self.depth.set_book([], [])
        self.retranslate()  # the steps follow the new symbol's tick

    def on_book(self, b: BookSnapshot) -> None:
        if b.symbol != self.ctx.selection.symbol:
            return
        self._last = b
        inst = self.ctx.instrument()
        self.model.set_book(b, inst.price_decimals if inst else 2, inst.qty_decimals if inst else 5, self.group_step())
        if self.depth_btn.isChecked():
            self.depth.set_book(self.model.bids, self.model.asks)

    def fit_levels(self) -> None:
        rows = self.view.viewport().height() // max(1, self.view.verticalHeader().defaultSectionSize())
        levels = max(1, min(MAX_LEVELS, (rows - 1) // 2))
        if levels != self.model.levels:
            self.model.levels = levels
            if self._last is not None:
                self.on_book(self._last)

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:
        if obj is self.view.viewport() and ev.type() == QEvent.Type.Resize:
            self.fit_levels()
        return super().eventFilter(obj, ev)

    def _clicked(self, index: QModelIndex) -> None:
        price = self.model.price_at(index.row())
        if price is not None:
            self.ctx.selection.priceClicked.emit(price)


class TradesPanel(QWidget):
    def __init__(self, ctx: UiContext) -> None:
        super().__init__()
        self.ctx = ctx
        c = colors

        def places() -> tuple[int, int]:
            inst = ctx.instrument()
            return (inst.price_decimals, inst.qty_decimals) if inst else (2, 5)

        self.model = RowsModel(
            [
                Column(lambda: _("Time"), lambda t: datetime.fromtimestamp(t.ts_ms / 1000).strftime("%H:%M:%S")),
                Column(
                    lambda: _("Price"),
                    lambda t: fmt_fixed(t.price, places()[0]),
                    True,
                    lambda t: c().buy if t.taker_side.value == "buy" else c().sell,
                ),
                Column(lambda: _("Amount"), lambda t: fmt_fixed(t.quantity, places()[1]), True),
            ],
            max_rows=60,
        )
        self.view = make_table(self.model)
        self.view.clicked.connect(lambda i: ctx.selection.priceClicked.emit(self.model.rows[i.row()].price))
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.view)
        ctx.bridge.tradesUpdated.connect(self.on_trades)
        ctx.selection.symbolChanged.connect(lambda _s: self.model.set_rows([]))

    def on_trades(self, symbol: str, trades: list[Trade]) -> None:
        if symbol == self.ctx.selection.symbol:
            self.model.prepend_many(trades[-60:])
