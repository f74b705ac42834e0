"""Order book ladder (cumulative depth, spread, click-to-price) and recent trades."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from PySide6.QtCore import QAbstractTableModel, QEvent, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.domain.market import BookSnapshot, Trade
from app.i18n import _, fmt_decimal

from ..context import UiContext
from ..models import Column, RowsModel, make_table
from ..theme import colors

LEVELS = 10
MAX_LEVELS = 20


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

    def set_book(self, b: BookSnapshot, price_places: int, qty_places: int) -> None:
        self.beginResetModel()
        self.price_places, self.qty_places = price_places, qty_places

        def cum(levels) -> list[tuple[Decimal, Decimal, Decimal]]:
            out, total = [], Decimal(0)
            for lvl in levels[: self.levels]:
                total += lvl.quantity
                out.append((lvl.price, lvl.quantity, total))
            return out

        self.bids = cum(b.bids)
        self.asks = list(reversed(cum(b.asks)))
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

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        kind, lvl = self.row(index.row())
        c = colors()
        if role == Qt.ItemDataRole.DisplayRole:
            if lvl is None:
                if index.column() == 0 and self.spread is not None:
                    return _("Spread {spread}").format(spread=fmt_decimal(self.spread, self.price_places))
                return ""
            price, qty, total = lvl
            if index.column() == 0:
                return fmt_decimal(price, self.price_places)
            return fmt_decimal(qty if index.column() == 1 else total, self.qty_places)
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

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return [_("Price"), _("Amount"), _("Total")][section]
        return None


class BookPanel(QWidget):
    """The ladder shows as many levels a side as fit its height, so the spread and the best bids
    and asks are always in view (no scrolling in a short dock)."""

    def __init__(self, ctx: UiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.model = LadderModel()
        self.view = make_table(self.model)
        self.view.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.clicked.connect(self._clicked)
        self.view.viewport().installEventFilter(self)
        self._last: BookSnapshot | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.view)
        ctx.bridge.bookUpdated.connect(self.on_book)
        ctx.selection.symbolChanged.connect(self._symbol_changed)

    def _symbol_changed(self, _symbol: str) -> None:
        self._last = None
        self.model.set_book(BookSnapshot("", "", (), (), 0), 2, 5)

    def on_book(self, b: BookSnapshot) -> None:
        if b.symbol != self.ctx.selection.symbol:
            return
        self._last = b
        inst = self.ctx.instrument()
        self.model.set_book(b, inst.price_decimals if inst else 2, inst.qty_decimals if inst else 5)

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

        self.model = RowsModel([
            Column(lambda: _("Time"), lambda t: datetime.fromtimestamp(t.ts_ms / 1000).strftime("%H:%M:%S")),
            Column(lambda: _("Price"), lambda t: fmt_decimal(t.price, places()[0]), True,
                   lambda t: c().buy if t.taker_side.value == "buy" else c().sell),
            Column(lambda: _("Amount"), lambda t: fmt_decimal(t.quantity, places()[1]), True),
        ], max_rows=60)
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
