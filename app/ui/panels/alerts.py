"""Alerts: price-cross and percent-move alerts, created here or from the chart; the list of
notifications (alerts fired, fills, rejections)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.engine.alerts import Alert, AlertKind, Notification
from app.i18n import _, fmt_decimal

from ..context import UiContext
from ..models import Column, RowsModel


def alert_text(a: Alert) -> str:
    if a.kind is AlertKind.CROSS_ABOVE:
        return _("{symbol} crosses above {price}").format(symbol=a.symbol, price=fmt_decimal(a.price or Decimal(0)))
    if a.kind is AlertKind.CROSS_BELOW:
        return _("{symbol} crosses below {price}").format(symbol=a.symbol, price=fmt_decimal(a.price or Decimal(0)))
    return _("{symbol} moves {pct}% within {m} min").format(symbol=a.symbol, pct=fmt_decimal(a.pct or Decimal(0)),
                                                           m=a.window_s // 60)


class AlertsPanel(QWidget):
    def __init__(self, ctx: UiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.kind = QComboBox()
        self.value = QLineEdit()
        self.window = QLineEdit("5")
        self.window.setMaximumWidth(50)
        self.add_btn = QPushButton()
        self.remove_btn = QPushButton()
        self.message = QLabel()
        self.message.setObjectName("error")
        self.model = RowsModel([
            Column(lambda: _("Alert"), alert_text),
            Column(lambda: _("State"), lambda a: _("active") if a.active else _("fired {when}").format(
                when=datetime.fromtimestamp((a.fired_ms or 0) / 1000).strftime("%H:%M:%S"))),
        ], key=lambda a: a.alert_id)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.verticalHeader().setVisible(False)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.notes = RowsModel([
            Column(lambda: _("Time"), lambda n: datetime.fromtimestamp(n.ts_ms / 1000).strftime("%H:%M:%S")),
            Column(lambda: _("Notification"), lambda n: f"{_(n.title)}: {n.text(_)}"),
        ], max_rows=200)
        notes_view = QTableView()
        notes_view.setModel(self.notes)
        notes_view.verticalHeader().setVisible(False)
        notes_view.horizontalHeader().setStretchLastSection(True)
        form = QHBoxLayout()
        form.addWidget(self.kind)
        form.addWidget(self.value, 1)
        self.window_label = QLabel()
        form.addWidget(self.window_label)
        form.addWidget(self.window)
        form.addWidget(self.add_btn)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.message)
        lay.addWidget(self.view, 2)
        lay.addWidget(self.remove_btn)
        lay.addWidget(notes_view, 1)
        self.add_btn.clicked.connect(self.add_from_form)
        self.remove_btn.clicked.connect(self.remove_selected)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        ctx.bridge.alertsChanged.connect(lambda _e: self.reload())
        ctx.bridge.notification.connect(self.on_notification)
        ctx.selection.priceClicked.connect(lambda p: self.value.setText(str(p)) if self.kind.currentData() != "pct_move" else None)
        self.retranslate()
        self.reload()

    def retranslate(self) -> None:
        cur = self.kind.currentData()
        self.kind.blockSignals(True)
        self.kind.clear()
        self.kind.addItem(_("Price crosses above"), AlertKind.CROSS_ABOVE.value)
        self.kind.addItem(_("Price crosses below"), AlertKind.CROSS_BELOW.value)
        self.kind.addItem(_("Moves by % within"), AlertKind.PCT_MOVE.value)
        self.kind.setCurrentIndex(max(0, self.kind.findData(cur)))
        self.kind.blockSignals(False)
        self.add_btn.setText(_("Add alert"))
        self.remove_btn.setText(_("Remove selected alert"))
        self.window_label.setText(_("min"))
        self._kind_changed()
        self.model.refresh()
        self.notes.refresh()

    def _kind_changed(self) -> None:
        pct = self.kind.currentData() == AlertKind.PCT_MOVE.value
        self.value.setPlaceholderText(_("percent, e.g. 1.5") if pct else _("price"))
        self.window.setVisible(pct)
        self.window_label.setVisible(pct)

    def reload(self) -> None:
        self.model.set_rows(sorted(self.ctx.alerts.alerts.values(), key=lambda a: -a.created_ms))

    def add_from_form(self) -> Alert | None:
        kind = AlertKind(self.kind.currentData())
        try:
            value = Decimal(self.value.text().strip().replace(",", ""))
            if not value.is_finite() or value <= 0:
                raise InvalidOperation
            minutes = int(self.window.text() or "5")
            if minutes <= 0:
                raise ValueError
        except (InvalidOperation, ValueError):
            self.message.setText(_("Enter a number above zero"))
            return None
        self.message.setText("")
        sym = self.ctx.selection.symbol
        if kind is AlertKind.PCT_MOVE:
            alert = self.ctx.alerts.add(sym, kind, pct=value, window_s=minutes * 60)
        else:
            alert = self.ctx.alerts.add(sym, kind, price=value)
        self.value.clear()
        return alert

    def remove_selected(self) -> None:
        for i in sorted({ix.row() for ix in self.view.selectionModel().selectedRows()}, reverse=True):
            self.ctx.alerts.remove(self.model.rows[i].alert_id)

    def on_notification(self, n: Notification) -> None:
        self.notes.prepend_many([n])
