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
from ..words import message_text

MIN_PCT, MAX_PCT = Decimal("0.1"), Decimal("50")  # a move alert outside these never makes sense
MAX_AWAY = Decimal("0.5")  # a price alert more than 50 % from the last price is a typo


def _repolish(w: QWidget) -> None:
    w.style().unpolish(w)
    w.style().polish(w)


def alert_text(a: Alert) -> str:
    if a.kind is AlertKind.CROSS_ABOVE:
        return _("{symbol} crosses above {price}").format(symbol=a.symbol, price=fmt_decimal(a.price or Decimal(0)))
    if a.kind is AlertKind.CROSS_BELOW:
        return _("{symbol} crosses below {price}").format(symbol=a.symbol, price=fmt_decimal(a.price or Decimal(0)))
    return _("{symbol} moves {pct}% within {m} min").format(
        symbol=a.symbol, pct=fmt_decimal(a.pct or Decimal(0)), m=a.window_s // 60
    )


class AlertsPanel(QWidget):
    def __init__(self, ctx: UiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.kind = QComboBox()
        self.value = QLineEdit()
        self.minutes = QLineEdit("5")
        self.minutes.setMaximumWidth(50)
        self.add_btn = QPushButton()
        self.remove_btn = QPushButton()
        self.message = QLabel()
        self.message.setObjectName("error")
        self.message.setWordWrap(True)
        self._pct_form = False
        self.model = RowsModel(
            [
                Column(lambda: _("Alert"), alert_text),
                Column(
                    lambda: _("State"),
                    lambda a: (
                        _("active")
                        if a.active
                        else _("fired {when}").format(
                            when=datetime.fromtimestamp((a.fired_ms or 0) / 1000).strftime("%H:%M:%S")
                        )
                    ),
                ),
            ],
            key=lambda a: a.alert_id,
        )
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.verticalHeader().setVisible(False)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.notes = RowsModel(
            [
                Column(lambda: _("Time"), lambda n: datetime.fromtimestamp(n.ts_ms / 1000).strftime("%H:%M:%S")),
                Column(
                    lambda: _("Notification"),
                    lambda n: f"{_(n.title)}: " + (message_text("", n.template, n.params) if n.template else n.text(_)),
                ),
            ],
            max_rows=200,
        )
        notes_view = QTableView()
        notes_view.setModel(self.notes)
        notes_view.verticalHeader().setVisible(False)
        notes_view.horizontalHeader().setStretchLastSection(True)
        form = QHBoxLayout()
        form.addWidget(self.kind)
        form.addWidget(self.value, 1)
        self.minutes_label = QLabel()
        form.addWidget(self.minutes_label)
        form.addWidget(self.minutes)
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
        self.value.textChanged.connect(self._edited)
        self.minutes.textChanged.connect(self._edited)
        self.value.returnPressed.connect(self.add_from_form)
        ctx.selection.symbolChanged.connect(lambda _s: self.validate())
        ctx.bridge.alertsChanged.connect(self._alerts_changed)
        ctx.bridge.notification.connect(self.on_notification)
        ctx.selection.priceClicked.connect(
            lambda p: self.value.setText(str(p)) if self.kind.currentData() != "pct_move" else None
        )
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
        self.minutes_label.setText(_("min"))
        self._kind_changed()
        self.model.refresh()
        self.notes.refresh()

    def _kind_changed(self) -> None:
        pct = self.kind.currentData() == AlertKind.PCT_MOVE.value
        if pct != self._pct_form and self.value.text():
            self.value.clear()  # a price is never a percentage, nor the other way round
        self._pct_form = pct
        self.value.setPlaceholderText(_("percent, e.g. 1.5") if pct else _("Price"))
        self.minutes.setVisible(pct)
        self.minutes_label.setVisible(pct)
        self.validate()

    def _alerts_changed(self, _event: object) -> None:
        self.reload()
        self.validate()

    def reload(self) -> None:
        self.model.set_rows(sorted(self.ctx.alerts.alerts.values(), key=lambda a: -a.created_ms))

    def request(self) -> tuple[AlertKind, Decimal, int] | str:
        """The alert the form describes (kind, price or percent, window in minutes), or what is
        wrong with it, in words: checked like the ticket checks an order."""
        kind = AlertKind(self.kind.currentData())
        text = self.value.text().strip().replace(",", "")
        if not text:
            return ""
        try:
            value = Decimal(text)
            if not value.is_finite() or value <= 0:
                raise InvalidOperation
        except InvalidOperation:
            return _("Enter a number above zero")
        minutes = 5
        if kind is AlertKind.PCT_MOVE:
            if not MIN_PCT <= value <= MAX_PCT:
                return _("A move of {pct} % is not plausible: enter {lo} to {hi} %").format(
                    pct=fmt_decimal(value), lo=fmt_decimal(MIN_PCT), hi=fmt_decimal(MAX_PCT)
                )
            try:
                minutes = int(self.minutes.text().strip())
            except ValueError:
                minutes = 0
            if not 1 <= minutes <= 1440:
                return _("Enter the window in whole minutes, 1 to 1440")
        else:
            inst, last = self.ctx.instrument(), self.ctx.last_price()
            if inst is not None and value % inst.tick_size:
                return _("Price {price} is not a multiple of the tick size {tick} {quote}").format(
                    price=fmt_decimal(value), tick=fmt_decimal(inst.tick_size), quote=inst.quote
                )
            if last is not None and last > 0:
                if abs(value / last - 1) > MAX_AWAY:
                    return _("Price {price} is more than {pct} % away from the last price {last}").format(
                        price=fmt_decimal(value), pct=fmt_decimal(MAX_AWAY * 100), last=fmt_decimal(last)
                    )
                if kind is AlertKind.CROSS_ABOVE and value <= last:
                    return _("The price is above {price} already: choose “crosses below” or a higher price").format(
                        price=fmt_decimal(value)
                    )
                if kind is AlertKind.CROSS_BELOW and value >= last:
                    return _("The price is below {price} already: choose “crosses above” or a lower price").format(
                        price=fmt_decimal(value)
                    )
        if self.existing(self.ctx.selection.symbol, kind, value, minutes * 60) is not None:
            return _("This alert exists already")
        return kind, value, minutes

    def existing(self, symbol: str, kind: AlertKind, value: Decimal, window_s: int = 300) -> Alert | None:
        """An active alert that would fire exactly when this one would."""
        for a in self.ctx.alerts.alerts.values():
            if not a.active or a.symbol != symbol or a.kind is not kind:
                continue
            if kind is AlertKind.PCT_MOVE and a.pct == value and a.window_s == window_s:
                return a
            if kind is not AlertKind.PCT_MOVE and a.price == value:
                return a
        return None

    def validate(self) -> bool:
        req = self.request()
        ok = not isinstance(req, str)
        self.message.setText(req if isinstance(req, str) else "")
        self.add_btn.setEnabled(ok)
        return ok

    def add_from_form(self) -> Alert | None:
        req = self.request()
        if isinstance(req, str):
            self.message.setText(req or _("Enter a number above zero"))
            return None
        kind, value, minutes = req
        sym = self.ctx.selection.symbol
        if kind is AlertKind.PCT_MOVE:
            alert = self.ctx.alerts.add(sym, kind, pct=value, window_s=minutes * 60)
        else:
            alert = self.ctx.alerts.add(sym, kind, price=value)
        self.value.clear()
        self.message.setText(_("Alert added: {alert}").format(alert=alert_text(alert)))
        self.message.setObjectName("muted")
        _repolish(self.message)
        return alert

    def _edited(self) -> None:
        if self.message.objectName() != "error":
            self.message.setObjectName("error")
            _repolish(self.message)
        self.validate()

    def remove_selected(self) -> None:
        for i in sorted({ix.row() for ix in self.view.selectionModel().selectedRows()}, reverse=True):
            self.ctx.alerts.remove(self.model.rows[i].alert_id)

    def on_notification(self, n: Notification) -> None:
        self.notes.prepend_many([n])
