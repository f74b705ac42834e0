"""Open orders (cancel one, cancel all; OCO/bracket legs grouped), order history and fills."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from PySide6.QtCore import QModelIndex
from PySide6.QtWidgets import (
    QHBoxLayout,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from qasync import asyncSlot

from app.domain.instrument import Instrument
from app.domain.order import Fill, Order
from app.i18n import _, fmt_decimal

from .. import dialogs
from ..context import UiContext
from ..models import Column, RowsModel, make_table
from ..theme import colors
from ..words import order_type_text, side_text, status_text


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000).strftime("%m-%d %H:%M:%S") if ms else ""


def _num(v: Decimal | None, places: int | None = None) -> str:
    return "" if v is None else fmt_decimal(v, places)


def _side_color(o: Order | Fill) -> str:
    return colors().buy if o.side.value == "buy" else colors().sell


def _trigger(o: Order) -> Decimal | None:
    """The price that sets the order off: its stop price, or a trailing stop's current trigger."""
    if o.type.value == "trailing_stop":
        return o.trailing_trigger()
    return o.stop_price


def _trail(o: Order, quote: str) -> str:
    if not o.trail_value:
        return ""
    pct = o.trail_mode is not None and o.trail_mode.value == "percent"
    return f"{fmt_decimal(o.trail_value)} {'%' if pct else quote}"


def order_columns(ctx: UiContext, *, cancel: bool = False) -> list[Column]:
    def inst(o: Order) -> Instrument | None:
        return ctx.orders.instruments.get((o.venue, o.symbol))

    def px(o: Order, v: Decimal | None) -> str:
        i = inst(o)
        return _num(v, i.price_decimals if i else None)

    def qty(o: Order, v: Decimal) -> str:
        i = inst(o)
        return _num(v, i.qty_decimals if i else None)

    def trail(o: Order) -> str:
        i = inst(o)
        return _trail(o, i.quote if i else "")

    def group(o: Order) -> str:
        if not o.list_id:
            return ""
        ol = ctx.orders.order_list(o.list_id)
        kind = ol.kind.value.upper() if ol else ""
        role = ""
        if ol is not None:
            role = {ol.entry_id: _("entry"), ol.limit_id: _("limit leg"), ol.stop_id: _("stop leg")}.get(
                o.client_order_id, ""
            )
        return f"{kind} {o.list_id[-6:]} · {role}".strip()

    cols = [
        Column(lambda: _("Time"), lambda o: _when(o.created_ms)),
        Column(lambda: _("Symbol"), lambda o: o.symbol),
        Column(lambda: _("Side"), lambda o: side_text(o.side), color=_side_color),
        Column(lambda: _("Type"), lambda o: order_type_text(o.type)),
        Column(lambda: _("Price"), lambda o: px(o, o.price), True),
        Column(lambda: _("Trigger"), lambda o: px(o, _trigger(o)), True),
        Column(lambda: _("Trail"), trail, True),
        Column(lambda: _("Amount"), lambda o: qty(o, o.quantity), True),
        Column(lambda: _("Filled"), lambda o: qty(o, o.filled_qty), True),
        Column(lambda: _("Status"), lambda o: status_text(o.status)),
        Column(lambda: _("Group"), group),
    ]
    if cancel:
        cols.append(Column(lambda: "", lambda o: "✕ " + _("Cancel"), color=lambda o: colors().sell))
    cols.append(Column(lambda: _("Id"), lambda o: o.client_order_id))
    return cols


class OrdersPanel(QWidget):
    def __init__(self, ctx: UiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.open_model = RowsModel(order_columns(ctx, cancel=True), key=lambda o: o.client_order_id)
        self.cancel_column = len(self.open_model.columns) - 2
        self.history_model = RowsModel(order_columns(ctx), key=lambda o: o.client_order_id, max_rows=500)
        self.fills_model = RowsModel(
            [
                Column(lambda: _("Time"), lambda f: _when(f.ts_ms)),
                Column(lambda: _("Symbol"), lambda f: f.symbol),
                Column(lambda: _("Side"), lambda f: side_text(f.side), color=_side_color),
                Column(lambda: _("Price"), lambda f: fmt_decimal(f.price), True),
                Column(lambda: _("Amount"), lambda f: fmt_decimal(f.quantity), True),
                Column(lambda: _("Fee"), lambda f: f"{fmt_decimal(f.fee)} {f.fee_asset}", True),
                Column(lambda: _("Role"), lambda f: _("maker") if f.liquidity.value == "maker" else _("taker")),
                Column(lambda: _("Order"), lambda f: f.client_order_id),
            ],
            key=lambda f: f.trade_id,
            max_rows=1000,
        )
        self.open_view = make_table(self.open_model, stretch=False, rows=True)
        self.open_view.setMouseTracking(True)
        self.open_view.clicked.connect(self._clicked)
        self.open_view.doubleClicked.connect(self._double_clicked)
        self.open_view.setToolTip(_("✕ Cancel cancels the order at once; a double-click asks first"))
        self.cancel_btn = QPushButton(_("Cancel selected"))
        self.cancel_all_btn = QPushButton(_("Cancel all"))
        self.cancel_btn.clicked.connect(self.cancel_selected)
        self.cancel_all_btn.clicked.connect(self.cancel_all)
        open_tab = QWidget()
        ol = QVBoxLayout(open_tab)
        ol.setContentsMargins(0, 0, 0, 0)
        ol.addWidget(self.open_view)
        bar = QHBoxLayout()
        bar.addStretch(1)
        bar.addWidget(self.cancel_btn)
        bar.addWidget(self.cancel_all_btn)
        ol.addLayout(bar)
        self.tabs = QTabWidget()
        self.tabs.addTab(open_tab, _("Open orders"))
        self.tabs.addTab(make_table(self.history_model, stretch=False, rows=True), _("Order history"))
        self.tabs.addTab(make_table(self.fills_model, stretch=False, rows=True), _("Fills"))
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.tabs)
        ctx.bridge.orderUpdated.connect(self.on_order)
        ctx.bridge.fillReceived.connect(lambda f, _o: self.fills_model.upsert(f))
        self.reload()

    def reload(self) -> None:
        store = self.ctx.session.store
        self.open_model.set_rows(sorted(self.ctx.orders.open_orders(), key=lambda o: (o.list_id or "", o.created_ms)))
        self.history_model.set_rows(store.load_orders(venue=self.ctx.venue, limit=500))
        self.fills_model.set_rows(list(reversed(store.load_fills(venue=self.ctx.venue)[-1000:])))
        self._update_title()

    def on_order(self, o: Order) -> None:
        if o.is_open:
            self.open_model.upsert(o, front=False)
        else:
            self.open_model.remove(o.client_order_id)
        self.history_model.upsert(o)
        self._update_title()

    def _update_title(self) -> None:
        self.tabs.setTabText(0, _("Open orders ({n})").format(n=len(self.open_model.rows)))

    def selected_orders(self) -> list[Order]:
        rows = {i.row() for i in self.open_view.selectionModel().selectedRows()}
        return [self.open_model.rows[r] for r in sorted(rows) if r < len(self.open_model.rows)]

    def _clicked(self, index: QModelIndex) -> None:
        if index.column() == self.cancel_column and index.row() < len(self.open_model.rows):
            self.cancel_order(self.open_model.rows[index.row()].client_order_id)

    @asyncSlot(str)
    async def cancel_order(self, client_order_id: str) -> None:
        await self.ctx.orders.cancel(client_order_id)

    def _double_clicked(self, index: QModelIndex) -> None:
        if index.column() != self.cancel_column and index.row() < len(self.open_model.rows):
            self.confirm_cancel(self.open_model.rows[index.row()].client_order_id)

    @asyncSlot(str)
    async def confirm_cancel(self, client_order_id: str) -> None:
        """A double-click on an open order cancels it after a question (as in vn.py)."""
        o = self.ctx.orders.get(client_order_id)
        if o is None or not o.is_open:
            return
        text = _("Cancel {side} {type} {qty} {symbol}?").format(
            side=side_text(o.side), type=order_type_text(o.type), qty=fmt_decimal(o.remaining), symbol=o.symbol
        )
        if o.list_id:
            text += "\n" + _("It is part of a group: the other orders of the group are cancelled too.")
        if await dialogs.ask(self, _("Cancel order"), text, accept=_("Cancel order"), reject=_("Keep it")):
            await self.ctx.orders.cancel(client_order_id)

    @asyncSlot()
    async def cancel_selected(self) -> None:
        for o in self.selected_orders():
            await self.ctx.orders.cancel(o.client_order_id)

    @asyncSlot()
    async def cancel_all(self) -> None:
        await self.ctx.orders.cancel_all(self.ctx.venue)

    def retranslate(self) -> None:
        for m in (self.open_model, self.history_model, self.fills_model):
            m.refresh()
        self.cancel_btn.setText(_("Cancel selected"))
        self.cancel_all_btn.setText(_("Cancel all"))
        self.open_view.setToolTip(_("✕ Cancel cancels the order at once; a double-click asks first"))
        self.tabs.setTabText(1, _("Order history"))
        self.tabs.setTabText(2, _("Fills"))
        self._update_title()
