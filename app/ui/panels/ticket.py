"""The order ticket: every order type of the core, amounts by quantity, by value or by % of the
balance, prices that step by the tick, and live validation against the exchange's filters and
the risk rules — the reason is shown next to the field before the user can submit."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut, QWheelEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from qasync import asyncSlot

from app.domain.enums import OrderType, Side, TimeInForce, TrailingMode
from app.domain.instrument import Problem
from app.domain.money import fmt
from app.domain.order import OrderRequest
from app.domain.order_list import BracketRequest, OcoRequest, validate_bracket, validate_oco
from app.engine.events import OrderDenied
from app.engine.risk import Denial
from app.i18n import _, fmt_decimal

from .. import dialogs
from ..context import UiContext

# Ticket kinds: the core's order types plus the two order lists.
KINDS = ["market", "limit", "stop_market", "stop_limit", "take_profit_market", "take_profit_limit",
         "trailing_stop", "oco", "bracket"]


def kind_text(kind: str) -> str:
    return {
        "market": _("Market"), "limit": _("Limit"), "stop_market": _("Stop market"), "stop_limit": _("Stop limit"),
        "take_profit_market": _("Take profit market"), "take_profit_limit": _("Take profit limit"),
        "trailing_stop": _("Trailing stop"), "oco": _("OCO (one cancels the other)"),
        "bracket": _("Bracket (entry + take profit + stop loss)"),
    }[kind]


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
            self.set_value(nxt.quantize(self.step) if self.step.as_tuple().exponent < 0 else nxt)  # type: ignore[operator]
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
    submitted = Signal(object)  # what was sent (Order or OrderList), for tests and the status bar

    def __init__(self, ctx: UiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.side = Side.BUY
        self._problem_field = ""
        self.buy_btn = QPushButton()
        self.sell_btn = QPushButton()
        for b, name in ((self.buy_btn, "buy"), (self.sell_btn, "sell")):
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

        self.kind = QComboBox()
        for k in KINDS:
            self.kind.addItem(kind_text(k), k)
        self.kind.setCurrentIndex(1)
        self.price = DecimalEdit()
        self.trigger = DecimalEdit()
        self.stop_limit = DecimalEdit()
        self.take_profit = DecimalEdit()
        self.trail = DecimalEdit()
        self.trail_mode = QComboBox()
        self.entry_kind = QComboBox()
        self.tif = QComboBox()
        for code in ("gtc", "ioc", "fok"):
            self.tif.addItem(code.upper(), code)
        self.post_only = QCheckBox()
        self.amount = DecimalEdit()
        self.amount_unit = QComboBox()
        self.estimate = QLabel()
        self.estimate.setObjectName("muted")
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.submit_btn = QPushButton()
        self.submit_btn.setMinimumHeight(36)
        self.submit_btn.clicked.connect(self.submit)
        self.status = QLabel()
        self.status.setObjectName("muted")
        self.status.setWordWrap(True)

        sides = QHBoxLayout()
        sides.addWidget(self.buy_btn)
        sides.addWidget(self.sell_btn)
        self.form = QFormLayout()
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.rows: dict[str, tuple[QLabel, QWidget]] = {}
        amount_row = QHBoxLayout()
        amount_row.addWidget(self.amount, 1)
        amount_row.addWidget(self.amount_unit)
        amount_box = QWidget()
        amount_box.setLayout(amount_row)
        amount_row.setContentsMargins(0, 0, 0, 0)
        trail_row = QHBoxLayout()
        trail_row.setContentsMargins(0, 0, 0, 0)
        trail_row.addWidget(self.trail, 1)
        trail_row.addWidget(self.trail_mode)
        trail_box = QWidget()
        trail_box.setLayout(trail_row)
        tif_row = QHBoxLayout()
        tif_row.setContentsMargins(0, 0, 0, 0)
        tif_row.addWidget(self.tif)
        tif_row.addWidget(self.post_only)
        tif_box = QWidget()
        tif_box.setLayout(tif_row)
        for key, widget in (("kind", self.kind), ("entry", self.entry_kind), ("price", self.price),
                            ("stop_price", self.trigger), ("stop_limit_price", self.stop_limit),
                            ("take_profit", self.take_profit), ("trail_value", trail_box), ("tif", tif_box),
                            ("quantity", amount_box)):
            label = QLabel()
            self.form.addRow(label, widget)
            self.rows[key] = (label, widget)
        lay = QVBoxLayout(self)
        lay.addLayout(sides)
        lay.addLayout(self.form)
        lay.addWidget(self.estimate)
        lay.addWidget(self.error)
        lay.addWidget(self.submit_btn)
        lay.addWidget(self.status)
        lay.addStretch(1)

        for w in (self.price, self.trigger, self.stop_limit, self.take_profit, self.trail, self.amount):
            w.textChanged.connect(self.validate)
        for c in (self.kind, self.trail_mode, self.entry_kind, self.tif, self.amount_unit):
            c.currentIndexChanged.connect(self._layout_changed)
        self.post_only.toggled.connect(self.validate)
        ctx.selection.priceClicked.connect(self.take_price)
        ctx.selection.symbolChanged.connect(lambda _s: self._layout_changed())
        ctx.selection.sideRequested.connect(lambda s: self.set_side(Side(s), focus=True))
        ctx.bridge.orderDenied.connect(self._denied)
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=self.submit)
        self.retranslate()

    # -- texts ------------------------------------------------------------------------------------
    def retranslate(self) -> None:
        inst = self.ctx.instrument()
        base, quote = (inst.base, inst.quote) if inst else ("", "")
        labels = {"kind": _("Order type"), "entry": _("Entry"), "price": _("Limit price"),
                  "stop_price": _("Trigger price"), "stop_limit_price": _("Stop-limit price"),
                  "take_profit": _("Take profit"), "trail_value": _("Trailing distance"),
                  "tif": _("Time in force"), "quantity": _("Amount")}
        kind = self.current_kind()
        if kind == "oco":
            labels["price"], labels["stop_price"] = _("Limit (take profit)"), _("Stop trigger")
        if kind == "bracket":
            labels["price"], labels["stop_price"] = _("Entry price"), _("Stop loss")
        for key, (label, _w) in self.rows.items():
            label.setText(labels[key])
        self.buy_btn.setText(_("Buy"))
        self.sell_btn.setText(_("Sell"))
        for i, k in enumerate(KINDS):
            self.kind.setItemText(i, kind_text(k))
        self._fill_combo(self.trail_mode, [(_("Amount") + (f" ({quote})" if quote else ""), "amount"),
                                           (_("Percent"), "percent")])
        self._fill_combo(self.entry_kind, [(_("Market"), "market"), (_("Limit"), "limit")])
        self._fill_combo(self.amount_unit, [(base or _("Base"), "base"), (quote or _("Quote"), "quote"),
                                            (_("% of balance"), "pct")])
        self.post_only.setText(_("Post-only"))
        self.price.setPlaceholderText(quote)
        self.trigger.setPlaceholderText(quote)
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

    def take_price(self, price: Decimal | float) -> None:
        """A price clicked in the book or on the chart goes to the field the order type uses."""
        inst = self.ctx.instrument()
        p = Decimal(str(price))
        if inst is not None:
            p = inst.round_price(p)
        kind = self.current_kind()
        target = self.trigger if kind in ("stop_market", "take_profit_market") else self.price
        if kind == "trailing_stop":
            return
        target.set_value(p)

    def _layout_changed(self) -> None:
        kind = self.current_kind()
        inst = self.ctx.instrument()
        show = {
            "kind": True,
            "entry": kind == "bracket",
            "price": kind in ("limit", "stop_limit", "take_profit_limit", "oco")
            or (kind == "bracket" and self.entry_kind.currentData() == "limit"),
            "stop_price": kind in ("stop_market", "stop_limit", "take_profit_market", "take_profit_limit", "oco",
                                   "bracket"),
            "stop_limit_price": kind == "oco",
            "take_profit": kind == "bracket",
            "trail_value": kind == "trailing_stop",
            "tif": kind == "limit",
            "quantity": True,
        }
        for key, (label, widget) in self.rows.items():
            label.setVisible(show[key])
            widget.setVisible(show[key])
        if inst is not None:
            for w in (self.price, self.trigger, self.stop_limit, self.take_profit):
                w.step = inst.tick_size
            self.trail.step = inst.tick_size if self.trail_mode.currentData() == "amount" else Decimal("0.1")
            unit = self.amount_unit.currentData()
            self.amount.step = inst.lot_step if unit == "base" else Decimal(1)
        self.post_only.setEnabled(self.tif.currentData() == "gtc")
        self.validate()

    # -- building requests ------------------------------------------------------------------------
    def _qty(self, inst, ref: Decimal | None) -> Decimal | None:
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
            free = self.ctx.orders.available(self.ctx.venue, inst.quote)
            return inst.round_qty(free * pct / ref / (1 + inst.taker_fee))
        return inst.round_qty(self.ctx.orders.available(self.ctx.venue, inst.base) * pct)

    def build(self) -> OrderRequest | OcoRequest | BracketRequest:
        """The request the ticket describes; raises ``ValueError`` naming the bad field."""
        inst = self.ctx.instrument()
        if inst is None:
            raise ValueError("symbol")
        kind = self.current_kind()
        v, sym = self.ctx.venue, inst.symbol

        def read(field: str, edit: DecimalEdit, required: bool = True) -> Decimal | None:
            try:
                val = edit.value()
            except ValueError as exc:
                raise ValueError(field) from exc
            if val is None and required:
                raise LookupError(field)
            return val

        last = self.ctx.last_price()
        if kind == "oco":
            limit_px, stop_px = read("price", self.price), read("stop_price", self.trigger)
            sl = read("stop_limit_price", self.stop_limit, required=False)
            qty = self._read_qty(inst, limit_px)
            return OcoRequest(v, sym, self.side, qty, limit_px, stop_px, sl, tag="ticket")  # type: ignore[arg-type]
        if kind == "bracket":
            entry_type = OrderType.LIMIT if self.entry_kind.currentData() == "limit" else OrderType.MARKET
            entry_px = read("price", self.price) if entry_type is OrderType.LIMIT else None
            tp, sl = read("take_profit", self.take_profit), read("stop_price", self.trigger)
            qty = self._read_qty(inst, entry_px or last)
            return BracketRequest(v, sym, self.side, qty, entry_type, entry_px, tp, sl, tag="ticket")  # type: ignore[arg-type]
        otype = OrderType(kind)
        price = read("price", self.price) if otype.has_limit_price else None
        stop = read("stop_price", self.trigger) if otype.has_trigger and otype is not OrderType.TRAILING_STOP else None
        trail_mode = trail = None
        if otype is OrderType.TRAILING_STOP:
            trail = read("trail_value", self.trail)
            trail_mode = TrailingMode(self.trail_mode.currentData() or "amount")
        ref = price or stop or last
        qty = self._read_qty(inst, ref)
        tif = TimeInForce(self.tif.currentData() or "gtc") if otype is OrderType.LIMIT else TimeInForce.GTC
        return OrderRequest(v, sym, self.side, otype, qty, price=price, stop_price=stop, tif=tif,
                            post_only=otype is OrderType.LIMIT and self.post_only.isChecked() and tif is TimeInForce.GTC,
                            trail_mode=trail_mode, trail_value=trail, tag="ticket")

    def _read_qty(self, inst, ref: Decimal | None) -> Decimal:
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
            return [Problem(str(exc.args[0]), "ticket.missing", "Enter the {what}", {"what": self._field_name(str(exc.args[0]))})]
        except ValueError as exc:
            field = str(exc.args[0]) if exc.args else ""
            return [Problem(field, "ticket.not_a_number", "{what} is not a number", {"what": self._field_name(field)})]
        om = self.ctx.orders
        inst = self.ctx.instrument()
        last = self.ctx.last_price()
        if isinstance(req, OrderRequest):
            return om.precheck(req)
        if isinstance(req, OcoRequest):
            probs: list[Problem | Denial] = list(validate_oco(req, inst, last))  # type: ignore[arg-type]
            return probs or om.precheck(req.legs()[0])
        probs = list(validate_bracket(req, inst, last))  # type: ignore[arg-type]
        return probs or om.precheck(req.entry())

    @staticmethod
    def _field_name(field: str) -> str:
        return {"price": _("price"), "stop_price": _("trigger price"), "stop_limit_price": _("stop-limit price"),
                "take_profit": _("take-profit price"), "trail_value": _("trailing distance"),
                "quantity": _("amount"), "symbol": _("symbol")}.get(field, field)

    def validate(self) -> bool:
        inst = self.ctx.instrument()
        probs = self.problems() if inst is not None else []
        for w in (self.price, self.trigger, self.stop_limit, self.take_profit, self.trail, self.amount):
            w.setProperty("invalid", False)
        if probs:
            p = probs[0]
            self.error.setText(_(p.template).format(**p.params))
            # A field not filled in yet is a hint, not an error.
            self.error.setObjectName("muted" if p.key == "ticket.missing" else "error")
            target = {"price": self.price, "stop_price": self.trigger, "stop_limit_price": self.stop_limit,
                      "take_profit": self.take_profit, "trail_value": self.trail, "quantity": self.amount}.get(p.field)
            if target is not None and p.key not in ("ticket.missing",):
                target.setProperty("invalid", True)
        else:
            self.error.setText("")
        self.error.style().unpolish(self.error)
        self.error.style().polish(self.error)
        for w in (self.price, self.trigger, self.stop_limit, self.take_profit, self.trail, self.amount):
            w.style().unpolish(w)
            w.style().polish(w)
        self.submit_btn.setEnabled(not probs and inst is not None)
        self._update_estimate()
        word = _("Buy") if self.side is Side.BUY else _("Sell")
        self.submit_btn.setText(f"{word} {inst.base}" if inst else word)
        self.submit_btn.setObjectName("buy" if self.side is Side.BUY else "sell")
        self.submit_btn.style().unpolish(self.submit_btn)
        self.submit_btn.style().polish(self.submit_btn)
        return not probs

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
        self.estimate.setText(_("≈ {qty} {base} · value {value} {quote} · fee ≈ {fee} {quote}").format(
            qty=fmt_decimal(qty), base=inst.base, value=fmt_decimal(value, 2), fee=fmt_decimal(fee, 2),
            quote=inst.quote))

    # -- submit -----------------------------------------------------------------------------------
    @asyncSlot()
    async def submit(self) -> None:
        if not self.validate():
            return
        req = self.build()
        if self.ctx.mode == "live" and self.ctx.confirm_orders and not await self.confirm_live(req):
            return
        om = self.ctx.orders
        self.status.setText(_("Sending…"))
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

    async def confirm_live(self, req: object) -> bool:
        """Ask before a live order (the market keeps moving meanwhile); the user may stop the
        questions for this session only."""
        answer = await dialogs.ask(self, _("Confirm order"),
                                   _("Send this order to the exchange?") + "\n\n" + self.estimate.text(),
                                   accept=_("Send order"), reject=_("Cancel"),
                                   checkbox=_("Don't ask again until the app is closed"), danger=True)
        if answer and answer.checked:
            self.ctx.confirm_orders = False
        return answer.yes

    def _denied(self, e: OrderDenied) -> None:
        self.status.setText(_("Refused: {reason}").format(reason=_(e.template).format(**e.params)))
