"""Risk: every limit with its current use as a bar, editable; the daily-loss state; the kill switch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from qasync import asyncSlot

from app.domain.enums import TradingState
from app.engine.risk import RiskLimits
from app.i18n import _, fmt_decimal

from .. import dialogs
from ..context import UiContext
from ..theme import colors

# (field, label, kind): kind "money" | "int" | "pct"
LIMITS: list[tuple[str, Callable[[], str], str]] = [
    ("max_order_notional", lambda: _("Max order value"), "money"),
    ("max_position_notional", lambda: _("Max position per asset"), "money"),
    ("max_open_orders", lambda: _("Max open orders"), "int"),
    ("submits_per_second", lambda: _("Orders per second"), "int"),
    ("submits_per_day", lambda: _("Orders per day"), "int"),
    ("cancels_per_day", lambda: _("Cancels per day"), "int"),
    ("price_band_pct", lambda: _("Fat-finger band (% from last)"), "pct"),
    ("daily_loss_limit", lambda: _("Daily loss limit"), "money"),
]


class RiskPanel(QWidget):
    def __init__(self, ctx: UiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.state = QLabel()
        self.state.setObjectName("state")
        self.grid = QGridLayout()
        self.edits: dict[str, QLineEdit] = {}
        self.bars: dict[str, QProgressBar] = {}
        self.labels: dict[str, QLabel] = {}
        for row, (name, label, _kind) in enumerate(LIMITS):
            lbl = QLabel(label())
            edit = QLineEdit()
            edit.setPlaceholderText(_("off"))
            bar = QProgressBar()
            bar.setRange(0, 1000)
            bar.setTextVisible(True)
            self.grid.addWidget(lbl, row, 0)
            self.grid.addWidget(edit, row, 1)
            self.grid.addWidget(bar, row, 2)
            self.edits[name], self.bars[name], self.labels[name] = edit, bar, lbl
        self.apply_btn = QPushButton(_("Apply limits"))
        self.apply_btn.clicked.connect(self.apply)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.kill_btn = QPushButton(_("KILL SWITCH — cancel all orders"))
        self.kill_btn.setObjectName("kill")
        self.flatten = QCheckBox(_("Also close all positions at market"))
        self.rearm_btn = QPushButton(_("Re-arm trading"))
        self.kill_btn.clicked.connect(self.kill)
        self.rearm_btn.clicked.connect(self.rearm)
        self.effect = QLabel()
        self.effect.setWordWrap(True)
        lay = QVBoxLayout(self)
        # The kill switch comes first: in a hurry nobody scrolls.
        top = QHBoxLayout()
        top.addWidget(self.kill_btn, 2)
        side = QVBoxLayout()
        side.addWidget(self.flatten)
        side.addWidget(self.rearm_btn)
        top.addLayout(side, 1)
        lay.addLayout(top)
        lay.addWidget(self.effect)
        lay.addWidget(self.state)
        lay.addLayout(self.grid)
        footer = QHBoxLayout()
        footer.addWidget(self.message, 1)
        footer.addWidget(self.apply_btn)
        lay.addLayout(footer)
        lay.addStretch(1)
        self.load_limits()
        ctx.bridge.riskStateChanged.connect(lambda _e: self.refresh())
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self.refresh()

    def load_limits(self) -> None:
        lim = self.ctx.orders.risk.limits
        for name, _label, _kind in LIMITS:
            v = getattr(lim, name)
            self.edits[name].setText("" if v is None else str(v))

    def usage(self) -> dict[str, tuple[float, str]]:
        """Each limit's current use (fraction, words)."""
        om, risk = self.ctx.orders, self.ctx.orders.risk
        lim = risk.limits
        pf, v = self.ctx.session.portfolio, self.ctx.venue
        ccy = pf.ccy
        out: dict[str, tuple[float, str]] = {}
        if lim.max_open_orders:
            n = len(om.open_orders())
            out["max_open_orders"] = (n / lim.max_open_orders, f"{n} / {lim.max_open_orders}")
        if lim.max_position_notional:
            worst = max((pf.exposure(v, a) for a in pf.balances.get(v, {}) if a != pf.ccy), default=Decimal(0))
            out["max_position_notional"] = (
                float(worst / lim.max_position_notional),
                f"{fmt_decimal(worst, 0)} / {fmt_decimal(lim.max_position_notional, 0)} {ccy}",
            )
        if lim.submits_per_day:
            out["submits_per_day"] = (
                risk.submits_today / lim.submits_per_day,
                f"{risk.submits_today} / {lim.submits_per_day}",
            )
        if lim.cancels_per_day:
            out["cancels_per_day"] = (
                risk.cancels_today / lim.cancels_per_day,
                f"{risk.cancels_today} / {lim.cancels_per_day}",
            )
        if lim.daily_loss_limit:
            loss = max(Decimal(0), -risk.daily_pnl)
            out["daily_loss_limit"] = (
                float(loss / lim.daily_loss_limit),
                f"{fmt_decimal(loss, 2)} / {fmt_decimal(lim.daily_loss_limit, 0)} {ccy}",
            )
        return out

    def refresh(self) -> None:
        risk = self.ctx.orders.risk
        c = colors()
        text = {
            TradingState.ACTIVE: _("Trading: ACTIVE"),
            TradingState.REDUCING: _("Trading: REDUCING ONLY"),
            TradingState.HALTED: _("Trading: HALTED"),
        }[risk.state]
        if risk.state is TradingState.REDUCING and risk.state_reason == "daily_loss":
            text += " — " + _("the daily loss limit was reached")
        color = {TradingState.ACTIVE: c.buy, TradingState.REDUCING: c.warning, TradingState.HALTED: c.sell}[risk.state]
        self.state.setText(
            text
            + "   "
            + _("P&L today: {pnl}").format(pnl=f"{fmt_decimal(risk.daily_pnl, 2)} {self.ctx.session.portfolio.ccy}")
        )
        self.state.setStyleSheet(f"font-weight: 700; color: {color};")
        use = self.usage()
        for name, bar in self.bars.items():
            frac, words = use.get(name, (0.0, "—"))
            bar.setValue(int(min(1.0, frac) * 1000))
            bar.setFormat(words)
        self.rearm_btn.setEnabled(risk.state is not TradingState.ACTIVE)

    def apply(self) -> None:
        lim = self.ctx.orders.risk.limits
        values: dict[str, Any] = {}  # RiskLimits field -> int | Decimal | None, by LIMITS' kind
        for name, label, kind in LIMITS:
            text = self.edits[name].text().strip().replace(",", "")
            if not text:
                values[name] = None
                continue
            try:
                d = Decimal(text)
                if not d.is_finite() or d <= 0:
                    raise InvalidOperation
                if kind == "int" and d != d.to_integral_value():
                    raise InvalidOperation
            except InvalidOperation:
                self.message.setText(
                    _("{what}: enter a number above zero, or leave it empty to switch the rule off").format(
                        what=label()
                    )
                )
                return
            values[name] = int(d) if kind == "int" else d
        self.ctx.orders.set_limits(replace(lim, **values) if isinstance(lim, RiskLimits) else lim)
        self.message.setText(_("Limits saved"))
        self.refresh()

    @asyncSlot()
    async def kill(self) -> None:
        flatten = self.flatten.isChecked()
        # Asked without stopping the loop: prices, fills and the risk timer go on meanwhile.
        if flatten and not await dialogs.ask(
            self,
            _("Kill switch"),
            _("Cancel every open order and close every position at market?"),
            accept=_("Cancel all and close"),
            reject=_("Do nothing"),
            danger=True,
        ):
            return
        result = await self.ctx.orders.kill_switch(flatten=flatten)
        self.effect.setText(
            _("Kill switch: {c} orders cancelled, {f} positions closed. Trading is halted until you re-arm it.").format(
                c=result["cancelled"], f=result["flattened"]
            )
        )
        self.refresh()

    def rearm(self) -> None:
        self.ctx.orders.rearm()
        self.effect.setText(_("Trading re-armed"))
        self.refresh()

    def retranslate(self) -> None:
        for name, label, _kind in LIMITS:
            self.labels[name].setText(label())
            self.edits[name].setPlaceholderText(_("off"))
        self.apply_btn.setText(_("Apply limits"))
        self.kill_btn.setText(_("KILL SWITCH — cancel all orders"))
        self.flatten.setText(_("Also close all positions at market"))
        self.rearm_btn.setText(_("Re-arm trading"))
        self.refresh()
