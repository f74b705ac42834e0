"""The order ticket: every order type of the core, amounts by quantity, by value or by % of the
balance, prices that step by the tick, and live validation against the exchange's filters and
the risk rules — the reason is shown next to the field before the user can submit."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut, QWheelEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from qasync import asyncSlot

from app.domain.enums import OrderType, Side, TimeInForce, TrailingMode
from app.domain.instrument import Instrument, Problem
from app.domain.money import fmt
from app.domain.order import Order, OrderRequest
from app.domain.order_list import BracketRequest, OcoRequest, OrderList, validate_bracket, validate_oco
from app.engine.events import OrderDenied
from app.engine.risk import Denial
from app.i18n import _, fmt_decimal

from .. import dialogs
from ..context import UiContext
from ..format import fmt_money
from ..words import message_text

# Ticket kinds: the core's order types plus the two order lists.
KINDS = [
    "market",
    "limit",
    "stop_market",
    "stop_limit",
    "take_profit_market",
    "take_profit_limit",
    "trailing_stop",
    "oco",
    "bracket",
]


def kind_text(kind: str) -> str:
    return {
        "market": _("Market"),
        "limit": _("Limit"),
        "stop_market": _("Stop market"),
        "stop_limit": _("Stop limit"),
        "take_profit_market": _("Take profit market"),
        "take_profit_limit": _("Take profit limit"),
        "trailing_stop": _("Trailing stop"),
        "oco": _("OCO"),
        "bracket": _("Bracket"),
    }[kind]


def kind_tip(kind: str) -> str:
    return {
        "oco": _("One cancels the other: a take-profit limit and a stop; when one fills the other is cancelled"),
        "bracket": _("An entry order; once it fills, a take-profit and a stop-loss order (OCO) protect it"),
    }.get(kind, "")


class DecimalEdit(QLineEdit):
    """A number field that keeps the text exact and steps by ``step`` with arrows or the wheel."""

    stepped = Signal()

    def __init__(self, placeholder: str = "") -> None:
        super().__init__()
        self.step = Decimal("0.01")
        self.setPlaceholderText(placeholder)
        self.setAlignment(Qt.AlignmentFlag.AlignRight)

    def value(self) -> Decimal | None:
        """None when empty; raises ValueError when not a number."""
        text = self.text().strip().replace(",", "").replace(" ", "")
        if not text:
            return None
        try:
            d = Decimal(text)
        except InvalidOperation as exc:
            raise ValueError(text) from exc
        if not d.is_finite():
            raise ValueError(text)
        return d

    def set_value(self, v: Decimal | None) -> None:
        self.setText("" if v is None else fmt(v))

    def _step_by(self, n: int) -> None:
        try:
            cur = self.value() or Decimal(0)
        except ValueError:
            return
        nxt = (cur / self.step).to_integral_value() * self.step + n * self.step
        if nxt > 0:
            exponent = self.step.as_tuple().exponent  # an int: a step is finite (not "n"/"F")
            self.set_value(nxt.quantize(self.step) if isinstance(exponent, int) and exponent < 0 else nxt)
            self.stepped.emit()

    def keyPressEvent(self, e: QKeyEvent) -> None:
        if e.key() == Qt.Key.Key_Up:
            self._step_by(10 if e.modifiers() & Qt.KeyboardModifier.ShiftModifier else 1)
        elif e.key() == Qt.Key.Key_Down:
            self._step_by(-10 if e.modifiers() & Qt.KeyboardModifier.ShiftModifier else -1)
        else:
            super().keyPressEvent(e)

    def wheelEvent(self, e: QWheelEvent) -> None:
        if self.hasFocus():
            self._step_by(1 if e.angleDelta().y() > 0 else -1)
            e.accept()
        else:
            super().wheelEvent(e)


class OrderTicket(QWidget):
    """Buy/Sell, the order type, its prices (each with a Last button; the limit price also with
    the best bid/ask), the amount with a % of available slider, what the order costs, and the
    reason it cannot be sent. The submit button stays visible however short the dock is."""

    submitted = Signal(object)  # what was sent (Order or OrderList), for tests and the status bar
    heightWanted = Signal(int)  # the form grew or shrank (OCO and bracket have more fields)

    def __init__(self, ctx: UiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.side = Side.BUY
        self._symbol = ctx.selection.symbol
        self._shown: set[str] = set()
        self._wanted = 0
        self.buy_btn = QPushButton()
        self.sell_btn = QPushButton()
        for b, name in ((self.buy_btn, "side_buy"), (self.sell_btn, "side_sell")):
            b.setCheckable(True)
            b.setObjectName(name)
            b.setMinimumHeight(30)
        self.buy_btn.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.buy_btn)
        group.addButton(self.sell_btn)
        group.setExclusive(True)
        self.buy_btn.clicked.connect(lambda: self.set_side(Side.BUY))
        self.sell_btn.clicked.connect(lambda: self.set_side(Side.SELL))

        self.kind = _combo()
        for k in KINDS:
            self.kind.addItem(kind_text(k), k)
        self.kind.setCurrentIndex(1)
        self.price = DecimalEdit()
        self.trigger = DecimalEdit()
        self.stop_limit = DecimalEdit()
        self.take_profit = DecimalEdit()
        self.trail = DecimalEdit()
        self.trail_mode = _combo()
        self.entry_kind = _combo()
        self.tif = _combo()
        for code in ("gtc", "ioc", "fok"):
            self.tif.addItem(code.upper(), code)
        self.post_only = QCheckBox()
        self.amount = DecimalEdit()
        self.amount_unit = _combo(6)
        self.available = QLabel()
        self.available.setObjectName("muted")
        self.pct = QSlider(Qt.Orientation.Horizontal)
        self.pct.setRange(0, 100)
        self.pct.setSingleStep(5)
        self.pct.setPageStep(25)
        self.pct.setTickInterval(25)
        self.pct.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.pct.setMinimumHeight(22)
        self.pct_label = QLabel("0 %")
        self.pct_label.setObjectName("muted")
        self.pct_label.setMinimumWidth(40)
        self.pct_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.estimate = QLabel()
        self.estimate.setObjectName("muted")
        self.estimate.setWordWrap(True)
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.submit_btn = QPushButton()
        self.submit_btn.setMinimumHeight(36)
        self.submit_btn.clicked.connect(self.submit)
        self.status = QLabel()
        self.status.setObjectName("muted")
        self.status.setWordWrap(True)
        for lbl in (self.estimate, self.error, self.status, self.available):
            lbl.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # wrap, never widen

        # Price buttons: the last trade price into any price field; the best bid (buy) or ask
        # (sell) into the limit price, to join the book.
        self.last_btns: dict[str, QToolButton] = {}
        self.best_btn = QToolButton()
        self.best_btn.clicked.connect(self.use_best)
        boxes: dict[str, QWidget] = {}
        for key, edit in (
            ("price", self.price),
            ("stop_price", self.trigger),
            ("stop_limit_price", self.stop_limit),
            ("take_profit", self.take_profit),
        ):
            btn = QToolButton()
            btn.clicked.connect(lambda _c=False, e=edit: self.use_last(e))
            self.last_btns[key] = btn
            extra = [self.best_btn] if key == "price" else []
            boxes[key] = _row(edit, btn, *extra)
        boxes["quantity"] = _row(self.amount, self.amount_unit)
        boxes["trail_value"] = _row(self.trail, self.trail_mode)
        boxes["tif"] = _row(self.tif, self.post_only)

        self.form = QFormLayout()
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.setVerticalSpacing(4)
        self.rows: dict[str, tuple[QLabel, QWidget]] = {}
        for key, widget in (
            ("kind", self.kind),
            ("entry", self.entry_kind),
            ("price", boxes["price"]),
            ("stop_price", boxes["stop_price"]),
            ("stop_limit_price", boxes["stop_limit_price"]),
            ("take_profit", boxes["take_profit"]),
            ("trail_value", boxes["trail_value"]),
            ("tif", boxes["tif"]),
            ("quantity", boxes["quantity"]),
        ):
            label = QLabel()
            self.form.addRow(label, widget)
            self.rows[key] = (label, widget)
        pct_row = QHBoxLayout()
        pct_row.setContentsMargins(0, 0, 0, 0)
        pct_row.addWidget(self.pct, 1)
        pct_row.addWidget(self.pct_label)

        sides = QHBoxLayout()
        sides.setContentsMargins(0, 0, 0, 0)
        sides.addWidget(self.buy_btn)
        sides.addWidget(self.sell_btn)
        self.body = QWidget()
        body = self._body_layout = QVBoxLayout(self.body)
        body.setContentsMargins(8, 6, 8, 2)
        body.setSpacing(5)
        body.addLayout(sides)
        body.addLayout(self.form)
        body.addWidget(self.available)
        body.addLayout(pct_row)
        body.addWidget(self.estimate)
        self.form_scroll = QScrollArea()
        self.form_scroll.setWidgetResizable(True)
        self.form_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.form_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.form_scroll.setWidget(self.body)
        self.form_scroll.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        pinned = QVBoxLayout()
        pinned.setContentsMargins(8, 0, 8, 6)
        pinned.setSpacing(4)
        pinned.addWidget(self.error)
        pinned.addWidget(self.submit_btn)
        pinned.addWidget(self.status)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.form_scroll, 1)
        lay.addLayout(pinned)
        lay.addStretch(0)

        for w in (self.price, self.trigger, self.stop_limit, self.take_profit, self.trail):
            w.textChanged.connect(self.validate)
        self.amount.textChanged.connect(self._amount_edited)
        self.pct.valueChanged.connect(self._slider_moved)
        for c in (self.kind, self.trail_mode, self.entry_kind, self.tif, self.amount_unit):
            c.currentIndexChanged.connect(self._layout_changed)
        self.post_only.toggled.connect(self.validate)
        ctx.selection.priceClicked.connect(self.take_price)
        ctx.selection.symbolChanged.connect(self._symbol_changed)
        ctx.selection.sideRequested.connect(lambda s: self.set_side(Side(s), focus=True))
        ctx.bridge.orderDenied.connect(self._denied)
        # The verdict follows the account and the market, not only the fields: the kill switch,
        # re-arming, balances that change, and the last price (once a second).
        ctx.bridge.riskStateChanged.connect(lambda _e: self.validate())
        ctx.bridge.portfolioChanged.connect(lambda _v: self.validate())
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.validate)
        self._timer.start()
        QShortcut(QKeySequence("Ctrl+Return"), self, self.submit)
        self.retranslate()

    # -- texts ------------------------------------------------------------------------------------
    def labels(self) -> dict[str, str]:
        """The form's labels for the current order type, named as traders name them."""
        kind = self.current_kind()
        labels = {
            "kind": _("Order type"),
            "entry": _("Entry"),
            "price": _("Limit price"),
            "stop_price": _("Stop price"),
            "stop_limit_price": _("Stop-limit price"),
            "take_profit": _("Take-profit price"),
            "trail_value": _("Trailing distance"),
            "tif": _("Time in force"),
            "quantity": _("Amount"),
        }
        if kind in ("take_profit_market", "take_profit_limit"):
            labels["stop_price"] = _("Trigger price")
        if kind == "oco":
            labels["price"] = _("Take-profit limit")
            labels["stop_limit_price"] = _("Stop-limit price (optional)")
        if kind == "bracket":
            labels["price"], labels["stop_price"] = _("Entry price"), _("Stop-loss price")
        return labels

    def retranslate(self) -> None:
        inst = self.ctx.instrument()
        base, quote = (inst.base, inst.quote) if inst else ("", "")
        for key, (label, _w) in self.rows.items():
            label.setText(self.labels()[key])
        self.buy_btn.setText(_("Buy"))
        self.sell_btn.setText(_("Sell"))
        for i, k in enumerate(KINDS):
            self.kind.setItemText(i, kind_text(k))
            self.kind.setItemData(i, kind_tip(k) or None, Qt.ItemDataRole.ToolTipRole)
        self.kind.setToolTip(kind_tip(self.current_kind()))
        self._fill_combo(self.trail_mode, [(quote or _("Amount"), "amount"), (_("Percent"), "percent")])
        self._fill_combo(self.entry_kind, [(_("Market"), "market"), (_("Limit"), "limit")])
        self._fill_combo(
            self.amount_unit,
            [(base or _("Base"), "base"), (quote or _("Quote"), "quote"), (_("% of available"), "pct")],
        )
        self.post_only.setText(_("Post-only"))
        for btn in self.last_btns.values():
            btn.setText(_("Last"))
            btn.setToolTip(_("Use the last trade price"))
        for edit in (self.price, self.trigger, self.stop_limit, self.take_profit):
            edit.setPlaceholderText(quote)
        self.trail.setPlaceholderText(quote if self.trail_mode.currentData() == "amount" else "%")
        self.amount.setPlaceholderText(base)
        self.pct.setToolTip(_("Share of what is available"))
        self._layout_changed()

    @staticmethod
    def _fill_combo(combo: QComboBox, items: list[tuple[str, str]]) -> None:
        current = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        for text, data in items:
            combo.addItem(text, data)
        idx = combo.findData(current)
        combo.setCurrentIndex(max(0, idx))
        combo.blockSignals(False)

    # -- state ------------------------------------------------------------------------------------
    def current_kind(self) -> str:
        return self.kind.currentData() or "limit"

    def set_kind(self, kind: str) -> None:
        self.kind.setCurrentIndex(KINDS.index(kind))

    def set_side(self, side: Side, focus: bool = False) -> None:
        self.side = side
        (self.buy_btn if side is Side.BUY else self.sell_btn).setChecked(True)
        self._layout_changed()
        if focus:
            self.amount.setFocus()

    def _price_target(self) -> DecimalEdit | None:
        kind = self.current_kind()
        if kind == "trailing_stop":
            return None
        if kind in ("stop_market", "take_profit_market"):
            return self.trigger
        if kind == "bracket" and self.entry_kind.currentData() != "limit":
            return None
        return self.price

    def take_price(self, price: Decimal | float) -> None:
        """A price clicked in the book or on the chart goes to the field the order type uses."""
        target = self._price_target()
        if target is None:
            return
        inst = self.ctx.instrument()
        p = Decimal(str(price))
        target.set_value(inst.round_price(p) if inst is not None else p)

    def use_last(self, edit: DecimalEdit) -> None:
        last = self.ctx.last_price()
        if last is not None:
            edit.set_value(last)

    def use_best(self) -> None:
        """Join the book: the best bid for a buy, the best ask for a sell."""
        bid, ask = self.ctx.best_prices()
        px = bid if self.side is Side.BUY else ask
        if px is not None:
            self.price.set_value(px)

    def _symbol_changed(self, symbol: str) -> None:
        """Another symbol: prices of the old one mean nothing here (and would be far outside the
        band); the limit price starts at the new symbol's last price."""
        if symbol == self._symbol:
            return
        self._symbol = symbol
        for edit in (self.price, self.trigger, self.stop_limit, self.take_profit):
            edit.blockSignals(True)
            edit.clear()
            edit.blockSignals(False)
        last = self.ctx.last_price(symbol)
        if last is not None and self.current_kind() not in (
            "market",
            "stop_market",
            "take_profit_market",
            "trailing_stop",
        ):
            self.price.blockSignals(True)
            self.price.set_value(last)
            self.price.blockSignals(False)
        self.retranslate()

    def _layout_changed(self) -> None:
        kind = self.current_kind()
        inst = self.ctx.instrument()
        show = {
            "kind": True,
            "entry": kind == "bracket",
            "price": kind in ("limit", "stop_limit", "take_profit_limit", "oco")
            or (kind == "bracket" and self.entry_kind.currentData() == "limit"),
            "stop_price": kind
            in ("stop_market", "stop_limit", "take_profit_market", "take_profit_limit", "oco", "bracket"),
            "stop_limit_price": kind == "oco",
            "take_profit": kind == "bracket",
            "trail_value": kind == "trailing_stop",
            "tif": kind == "limit",
            "quantity": True,
        }
        self._shown = {k for k, on in show.items() if on}
        labels = self.labels()
        for key, (label, widget) in self.rows.items():
            label.setText(labels[key])
            label.setVisible(show[key])
            widget.setVisible(show[key])
        self.kind.setToolTip(kind_tip(kind))
        self.best_btn.setText(_("Bid") if self.side is Side.BUY else _("Ask"))
        self.best_btn.setToolTip(
            _("Use the best bid (join the buyers)")
            if self.side is Side.BUY
            else _("Use the best ask (join the sellers)")
        )
        if inst is not None:
            for w in (self.price, self.trigger, self.stop_limit, self.take_profit):
                w.step = inst.tick_size
            self.trail.step = inst.tick_size if self.trail_mode.currentData() == "amount" else Decimal("0.1")
            unit = self.amount_unit.currentData()
            self.amount.step = inst.lot_step if unit == "base" else Decimal(1)
        self.post_only.setEnabled(self.tif.currentData() == "gtc")
        self.validate()
        self._body_layout.activate()
        # The form scrolls only when the dock is too short for it; error and submit stay below it.
        self.form_scroll.setMaximumHeight(self.body.sizeHint().height() + 2)
        want = self.sizeHint().height()
        if want != self._wanted:
            self._wanted = want
            self.heightWanted.emit(want)

    def sizeHint(self) -> QSize:
        """As tall as the form of the current order type with the error, submit and status lines."""
        pinned = self.error.fontMetrics().lineSpacing() * 2 + self.submit_btn.minimumHeight() + 14
        return QSize(340, self.body.sizeHint().height() + pinned)

    # -- amounts ------------------------------------------------------------------------------------
    def _reference(self) -> Decimal | None:
        """The price an amount in quote or in % is converted at: the order's own price, else last."""
        for key, edit in (("price", self.price), ("stop_price", self.trigger)):
            if key in self._shown:
                try:
                    v = edit.value()
                except ValueError:
                    v = None
                if v is not None and v > 0:
                    return v
        return self.ctx.last_price()

    def max_quantity(self, ref: Decimal | None = None) -> Decimal | None:
        """The largest amount (base units) the available balance pays for: a buy spends the quote
        asset with the taker fee on top, a sell sells the base asset."""
        inst = self.ctx.instrument()
        if inst is None:
            return None
        if self.side is Side.SELL:
            return inst.round_qty(self.ctx.available(inst.base))
        ref = ref or self._reference()
        if ref is None or ref <= 0:
            return None
        return inst.round_qty(self.ctx.available(inst.quote) / ref / (1 + inst.taker_fee))

    def set_percent(self, pct: int) -> None:
        """The amount as ``pct`` % of what is available (in base units)."""
        inst = self.ctx.instrument()
        top = self.max_quantity()
        if inst is None or top is None:
            return
        self.amount_unit.setCurrentIndex(self.amount_unit.findData("base"))
        qty = inst.round_qty(top * Decimal(pct) / 100)
        self.amount.set_value(qty if qty > 0 else None)
        self._show_pct(pct)

    def _slider_moved(self, value: int) -> None:
        """The slider snaps to 5 % steps (25, 50, 75 and 100 are its ticks; Page Up/Down jump there)."""
        if self.pct.isSliderDown() or self.pct.hasFocus():
            self.set_percent(int(round(value / 5) * 5))

    def _amount_edited(self) -> None:
        self.validate()

    def _show_pct(self, pct: int | None) -> None:
        self.pct.blockSignals(True)
        self.pct.setValue(0 if pct is None else max(0, min(100, pct)))
        self.pct.blockSignals(False)
        self.pct_label.setText("" if pct is None else f"{pct} %")

    # -- building requests ------------------------------------------------------------------------
    def _qty(self, inst: Instrument, ref: Decimal | None) -> Decimal | None:
        amount = self.amount.value()
        if amount is None:
            return None
        unit = self.amount_unit.currentData()
        if unit == "base":
            return amount
        if ref is None or ref <= 0:
            raise ValueError("no price")
        if unit == "quote":
            return inst.round_qty(amount / ref)
        pct = amount / 100
        if self.side is Side.BUY:
            free = self.ctx.available(inst.quote)
            return inst.round_qty(free * pct / ref / (1 + inst.taker_fee))
        return inst.round_qty(self.ctx.available(inst.base) * pct)

    def build(self) -> OrderRequest | OcoRequest | BracketRequest:
        """The request the ticket describes; raises ``ValueError`` naming the bad field."""
        inst = self.ctx.instrument()
        if inst is None:
            raise ValueError("symbol")
        kind = self.current_kind()
        v, sym = self.ctx.venue, inst.symbol

        def read(field: str, edit: DecimalEdit) -> Decimal | None:
            try:
                return edit.value()
            except ValueError as exc:
                raise ValueError(field) from exc

        def need(field: str, edit: DecimalEdit) -> Decimal:
            val = read(field, edit)
            if val is None:
                raise LookupError(field)
            return val

        last = self.ctx.last_price()
        if kind == "oco":
            limit_px, stop_px = need("price", self.price), need("stop_price", self.trigger)
            sl = read("stop_limit_price", self.stop_limit)
            qty = self._read_qty(inst, limit_px)
            return OcoRequest(v, sym, self.side, qty, limit_px, stop_px, sl, tag="ticket")
        if kind == "bracket":
            entry_type = OrderType.LIMIT if self.entry_kind.currentData() == "limit" else OrderType.MARKET
            entry_px = need("price", self.price) if entry_type is OrderType.LIMIT else None
            tp, sl = need("take_profit", self.take_profit), need("stop_price", self.trigger)
            qty = self._read_qty(inst, entry_px or last)
            return BracketRequest(v, sym, self.side, qty, entry_type, entry_px, tp, sl, tag="ticket")
        otype = OrderType(kind)
        price = need("price", self.price) if otype.has_limit_price else None
        stop = need("stop_price", self.trigger) if otype.has_trigger and otype is not OrderType.TRAILING_STOP else None
        trail_mode = trail = None
        if otype is OrderType.TRAILING_STOP:
            trail = need("trail_value", self.trail)
            trail_mode = TrailingMode(self.trail_mode.currentData() or "amount")
        ref = price or stop or last
        qty = self._read_qty(inst, ref)
        tif = TimeInForce(self.tif.currentData() or "gtc") if otype is OrderType.LIMIT else TimeInForce.GTC
        return OrderRequest(
            v,
            sym,
            self.side,
            otype,
            qty,
            price=price,
            stop_price=stop,
            tif=tif,
            post_only=otype is OrderType.LIMIT and self.post_only.isChecked() and tif is TimeInForce.GTC,
            trail_mode=trail_mode,
            trail_value=trail,
            tag="ticket",
        )

    def _read_qty(self, inst: Instrument, ref: Decimal | None) -> Decimal:
        try:
            qty = self._qty(inst, ref)
        except (ValueError, ArithmeticError) as exc:
            raise ValueError("quantity") from exc
        if qty is None:
            raise LookupError("quantity")
        return qty

    def problems(self) -> list[Problem | Denial]:
        """What stops this order, as the exchange and the risk engine would say it."""
        try:
            req = self.build()
        except LookupError as exc:
            return [
                Problem(
                    str(exc.args[0]),
                    "ticket.missing",
                    "Enter the {what}",
                    {"what": self._field_name(str(exc.args[0])).lower()},
                )
            ]
        except ValueError as exc:
            field = str(exc.args[0]) if exc.args else ""
            return [Problem(field, "ticket.not_a_number", "{what} is not a number", {"what": self._field_name(field)})]
        om = self.ctx.orders
        inst = self.ctx.instrument()
        assert inst is not None  # build() raised ValueError("symbol") without one
        last = self.ctx.last_price()
        if isinstance(req, OrderRequest):
            return om.precheck(req)
        if isinstance(req, OcoRequest):
            probs: list[Problem | Denial] = list(validate_oco(req, inst, last))
            return probs or om.precheck(req.legs()[0])
        probs = list(validate_bracket(req, inst, last))
        return probs or om.precheck(req.entry())

    def _field_name(self, field: str) -> str:
        names = self.labels()
        names.update({"trail_value": _("Trailing distance"), "symbol": _("Symbol")})
        return names.get(field, field)

    def problem_text(self, p: Problem | Denial) -> str:
        inst = self.ctx.instrument()
        return message_text(
            p.key, p.template, p.params, ccy=self.ctx.session.portfolio.ccy if inst else "", fields=self.labels()
        )

    def validate(self) -> bool:
        inst = self.ctx.instrument()
        probs = self.problems() if inst is not None else []
        targets = {
            "price": self.price,
            "stop_price": self.trigger,
            "stop_limit_price": self.stop_limit,
            "take_profit": self.take_profit,
            "trail_value": self.trail,
            "quantity": self.amount,
        }
        invalid = None
        if probs:
            p = probs[0]
            self.error.setText(self.problem_text(p))
            # A field not filled in yet is a hint, not an error.
            self.error.setObjectName("muted" if p.key == "ticket.missing" else "error")
            if p.key != "ticket.missing":
                invalid = targets.get(p.field)
        else:
            self.error.setText("")
        for w in targets.values():
            if bool(w.property("invalid")) != (w is invalid):
                w.setProperty("invalid", w is invalid)
                _repolish(w)
        _repolish(self.error)
        self.submit_btn.setEnabled(not probs and inst is not None)
        self._update_available()
        self._update_estimate()
        word = _("Buy") if self.side is Side.BUY else _("Sell")
        self.submit_btn.setText(f"{word} {inst.base}" if inst else word)
        name = "buy" if self.side is Side.BUY else "sell"
        if self.submit_btn.objectName() != name:
            self.submit_btn.setObjectName(name)
            _repolish(self.submit_btn)
        return not probs

    def _update_available(self) -> None:
        inst = self.ctx.instrument()
        if inst is None:
            self.available.setText("")
            return
        asset = inst.quote if self.side is Side.BUY else inst.base
        free = self.ctx.available(asset)
        self.available.setText(
            _("Available {amount}").format(amount=fmt_money(free, asset, self.ctx.places(asset), down=True))
        )
        top = self.max_quantity()
        try:
            qty = self.amount.value() if self.amount_unit.currentData() == "base" else None
        except ValueError:
            qty = None
        if qty is None or not top:
            self._show_pct(None if qty is None else 0)
        else:
            self._show_pct(int(min(Decimal(100), qty / top * 100)))

    def _update_estimate(self) -> None:
        inst = self.ctx.instrument()
        try:
            req = self.build()
        except (LookupError, ValueError):
            self.estimate.setText("")
            return
        if inst is None:
            return
        if isinstance(req, OrderRequest):
            qty, ref = req.quantity, req.reference_price(self.ctx.last_price())
        elif isinstance(req, OcoRequest):
            qty, ref = req.quantity, req.limit_price
        else:
            qty, ref = req.quantity, req.entry_price or self.ctx.last_price()
        if ref is None:
            self.estimate.setText("")
            return
        value = qty * ref
        fee = value * max(inst.taker_fee, inst.maker_fee)
        qp = self.ctx.places(inst.quote)
        text = _("≈ {qty} {base} · cost {value} · fee ≈ {fee}").format(
            qty=fmt_decimal(qty),
            base=inst.base,
            value=fmt_money(value, inst.quote, qp),
            fee=fmt_money(fee, inst.quote, qp),
        )
        home = self.ctx.session.portfolio.ccy
        rate = self.ctx.session.portfolio.price_of(inst.quote) if home != inst.quote else None
        if rate is not None and rate != 1:
            hp = self.ctx.places(home)
            text += "\n" + _("≈ {value} · fee ≈ {fee} in {ccy}").format(
                value=fmt_money(value * rate, home, hp), fee=fmt_money(fee * rate, home, hp), ccy=home
            )
        self.estimate.setText(text)

    # -- submit -----------------------------------------------------------------------------------
    @asyncSlot()
    async def submit(self) -> None:
        if not self.validate():
            return
        req = self.build()
        if not await self.confirm_stale():
            return
        if self.ctx.mode == "live" and self.ctx.confirm_orders and not await self.confirm_live(req):
            return
        if not self.validate():  # the world moved while a question was open
            return
        req = self.build()
        om = self.ctx.orders
        self.status.setText(_("Sending…"))
        result: Order | OrderList | None
        if isinstance(req, OcoRequest):
            result = await om.submit_oco(req)
        elif isinstance(req, BracketRequest):
            result = await om.submit_bracket(req)
        else:
            result = await om.submit(req)
        if result is not None:
            self.status.setText(_("Order sent"))
            self.submitted.emit(result)
        self.validate()

    async def confirm_stale(self) -> bool:
        """With no market data for a while, prices on screen may be old: a second confirmation."""
        sym = self.ctx.selection.symbol
        stale = self.ctx.stale_for(sym)
        if stale is None:
            return True
        text = (
            _("No market data for {symbol} has arrived yet: prices are unknown.").format(symbol=sym)
            if stale == float("inf")
            else _("No market data for {symbol} for {s} s: prices may have moved.").format(symbol=sym, s=int(stale))
        )
        answer = await dialogs.ask(
            self,
            _("Market data is stale"),
            text + "\n\n" + _("Send the order anyway?"),
            accept=_("Send order"),
            reject=_("Cancel"),
            danger=True,
        )
        return answer.yes

    async def confirm_live(self, req: object) -> bool:
        """Ask before a live order (the market keeps moving meanwhile); the user may stop the
        questions for this session only."""
        answer = await dialogs.ask(
            self,
            _("Confirm order"),
            _("Send this order to the exchange?") + "\n\n" + self.estimate.text(),
            accept=_("Send order"),
            reject=_("Cancel"),
            checkbox=_("Don't ask again until the app is closed"),
            danger=True,
        )
        if answer and answer.checked:
            self.ctx.confirm_orders = False
        return answer.yes

    def _denied(self, e: OrderDenied) -> None:
        text = message_text(e.key, e.template, e.params, ccy=self.ctx.session.portfolio.ccy, fields=self.labels())
        self.status.setText(_("Refused: {reason}").format(reason=text))


def _combo(min_chars: int = 10) -> QComboBox:
    """A combo box that does not widen the ticket to its longest item."""
    c = QComboBox()
    c.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    c.setMinimumContentsLength(min_chars)
    return c


def _row(*widgets: QWidget) -> QWidget:
    box = QWidget()
    lay = QHBoxLayout(box)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.setSpacing(4)
    for i, w in enumerate(widgets):
        lay.addWidget(w, 1 if i == 0 else 0)
    return box


def _repolish(w: QWidget) -> None:
    w.style().unpolish(w)
    w.style().polish(w)
