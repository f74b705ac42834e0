"""Auto-trading controls (in the Signals panel): which strategy on which symbol, its parameters,
sizing and protective bracket; Start, and Stop in one click; in a live session an explicit arming
step first. The runner (``app.engine.strategy_runner``) does the trading; this only asks it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)
from qasync import asyncSlot

from app.domain.errors import AppError
from app.engine.strategy_runner import RunnerConfig, StrategyError, StrategyRunner, StrategyStateChanged
from app.i18n import N_, _, fmt_decimal
from app.signals.strategies import STRATEGIES
from app.signals.strategy import parse_params

from .. import dialogs
from ..context import UiContext
from ..theme import colors

REFUSALS = {
    "strategy.not_armed": N_("Arm live auto-trading first."),
    "strategy.halted": N_("Trading is halted: re-arm it in the Risk panel first."),
    "strategy.no_model": N_("The strategy's signal model is not running."),
    "strategy.no_symbol": N_("That symbol is not traded on this venue."),
    "strategy.no_bracket": N_("Auto-trading needs a stop-loss and a take-profit above 0 %."),
    "strategy.bad_size": N_("The size is a percentage above 0 and at most 100 (a volatility target at most 500)."),
    "strategy.bad_params": N_("The strategy refuses these parameters: {detail}"),
    "strategy.running": N_("Stop auto-trading before changing it."),
}
STRATEGY_NAMES = {"sma_cross": N_("SMA crossover"), "onnx_signal": N_("ONNX model signal")}
REASONS = {
    "kill switch": N_("stopped by the kill switch"),
    "stopped by user": N_("stopped by you"),
}


def refusal_text(exc: AppError) -> str:
    t = REFUSALS.get(exc.key)
    return _(t).format(**exc.params) if t else exc.message


def _pct(text: str, name: str) -> Decimal:
    try:
        v = Decimal(text.strip().rstrip("%").replace(",", "."))
    except InvalidOperation:
        v = Decimal("NaN")
    if not v.is_finite():
        raise ValueError(_("{field} is not a number").format(field=name))
    return v / 100


class AutoTradingBox(QGroupBox):
    def __init__(self, ctx: UiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.runner: StrategyRunner | None = ctx.session.auto
        self.strategy = QComboBox()
        for name in STRATEGIES:
            self.strategy.addItem(name, name)
        self.strategy.activated.connect(self._defaults)
        self.symbol = QComboBox()
        self.symbol.addItems(ctx.session.symbols)
        self.params = QLineEdit()
        self.stop_loss = QLineEdit()
        self.take_profit = QLineEdit()
        self.sizing = QComboBox()
        self.size_edit = QLineEdit()
        for w in (self.stop_loss, self.take_profit, self.size_edit):
            w.setMaximumWidth(70)
        self.state = QLabel()
        self.state.setWordWrap(True)
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.start_btn = QPushButton()
        self.start_btn.clicked.connect(self.start)
        self.stop_btn = QPushButton()
        self.stop_btn.clicked.connect(self.stop)
        self.arm_btn = QPushButton()
        self.arm_btn.clicked.connect(self.arm)
        self.form = QFormLayout()
        self.labels = [QLabel() for _i in range(5)]
        self.tp_label = QLabel()
        bracket = QHBoxLayout()
        bracket.addWidget(self.stop_loss)
        bracket.addWidget(self.tp_label)
        bracket.addWidget(self.take_profit)
        bracket.addStretch(1)
        size = QHBoxLayout()
        size.addWidget(self.sizing)
        size.addWidget(self.size_edit)
        size.addStretch(1)
        self.form.addRow(self.labels[0], self.strategy)
        self.form.addRow(self.labels[1], self.symbol)
        self.form.addRow(self.labels[2], self.params)
        self.form.addRow(self.labels[3], bracket)
        self.form.addRow(self.labels[4], size)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_btn)
        buttons.addWidget(self.stop_btn)
        buttons.addWidget(self.arm_btn)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addLayout(self.form)
        lay.addLayout(buttons)
        lay.addWidget(self.state)
        lay.addWidget(self.error)
        self._unsub = ctx.session.bus.subscribe(StrategyStateChanged, lambda _e: self.show_state())
        self.setEnabled(self.runner is not None)
        self.retranslate()
        self.load()

    def load(self) -> None:
        """The stored configuration in the fields."""
        r = self.runner
        if r is None:
            return
        c = r.config
        self.strategy.setCurrentIndex(max(0, self.strategy.findData(c.strategy)))
        self.symbol.setCurrentText(c.symbol)
        try:
            params = c.make().params  # the strategy's defaults with the stored values over them
        except StrategyError:
            params = dict(c.params)
        self.params.setText(" ".join(f"{k}={v}" for k, v in params.items() if k not in ("stop_loss", "take_profit")))
        self.stop_loss.setText(f"{float(c.params.get('stop_loss', 0.03)) * 100:g}")
        self.take_profit.setText(f"{float(c.params.get('take_profit', 0.06)) * 100:g}")
        self.sizing.setCurrentIndex(1 if c.sizing == "vol" else 0)
        self.size_edit.setText(f"{(c.vol_target if c.sizing == 'vol' else c.fraction) * 100:g}")
        self.show_state()

    def _defaults(self, *_a: object) -> None:
        """Another strategy picked: its own parameters, at their defaults."""
        cls = STRATEGIES.get(self.strategy.currentData() or "")
        if cls is not None:
            self.params.setText(
                " ".join(f"{k}={v}" for k, v in cls.defaults.items() if k not in ("stop_loss", "take_profit"))
            )

    def config(self) -> RunnerConfig:
        """The fields as a configuration (``ValueError`` in words for a field that is no number)."""
        try:
            params = parse_params(self.params.text().replace(",", " ").split())
        except ValueError as exc:
            raise ValueError(_("Parameters are NAME=VALUE separated by spaces ({error})").format(error=exc)) from exc
        params["stop_loss"] = float(_pct(self.stop_loss.text(), _("Stop-loss")))
        params["take_profit"] = float(_pct(self.take_profit.text(), _("Take-profit")))
        size = _pct(self.size_edit.text(), _("Size"))
        vol = self.sizing.currentIndex() == 1
        base = self.runner.config if self.runner is not None else RunnerConfig()
        return RunnerConfig(
            strategy=self.strategy.currentData(),
            symbol=self.symbol.currentText(),
            params=params,
            sizing="vol" if vol else "fraction",
            fraction=base.fraction if vol else size,
            vol_target=size if vol else base.vol_target,
            vol_lookback=base.vol_lookback,
            max_fraction=base.max_fraction,
            timeframe=base.timeframe,
        )

    @asyncSlot()
    async def start(self) -> None:
        r = self.runner
        if r is None:
            return
        self.error.setText("")
        try:
            if not r.running:
                r.configure(self.config())
            await r.start()
        except ValueError as exc:
            self.error.setText(str(exc))
        except StrategyError as exc:
            self.error.setText(refusal_text(exc))
        self.show_state()

    @asyncSlot()
    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.stop()
        self.show_state()

    @asyncSlot()
    async def arm(self) -> None:
        r = self.runner
        if r is None or self.ctx.mode != "live":
            return
        if r.armed:
            r.disarm()
            self.show_state()
            return
        answer = await dialogs.ask(
            self,
            _("Arm live auto-trading"),
            _(
                "The strategy will place real orders on {venue} with real money, within your risk limits. "
                "Arm live auto-trading?"
            ).format(venue=self.ctx.venue),
            accept=_("Arm live auto-trading"),
            reject=_("Keep it off"),
            danger=True,
        )
        if answer:
            r.arm_live()
        self.show_state()

    def show_state(self) -> None:
        r = self.runner
        if r is None:
            self.state.setText(_("Auto-trading is off in this session."))
            return
        live = self.ctx.mode == "live"
        self.arm_btn.setVisible(live)
        self.arm_btn.setText(_("Disarm live auto-trading") if r.armed else _("Arm live auto-trading"))
        self.start_btn.setEnabled(not r.running and not r.needs_arming)
        self.stop_btn.setEnabled(r.running)
        for w in (
            self.strategy,
            self.symbol,
            self.params,
            self.stop_loss,
            self.take_profit,
            self.sizing,
            self.size_edit,
        ):
            w.setEnabled(not r.running)
        c = colors()
        if r.running:
            text = (_("Running with real money") if live else _("Running on paper")) + " · "
            text += _("{strategy} on {symbol}; holds {qty}").format(
                strategy=_(STRATEGY_NAMES[r.config.strategy])
                if r.config.strategy in STRATEGY_NAMES
                else r.config.strategy,
                symbol=r.config.symbol,
                qty=fmt_decimal(r.position),
            )
            color = c.live if live else c.buy
        else:
            why = _(REASONS[r.reason]) if r.reason in REASONS else r.reason
            text = _("Stopped") + (f" ({why})" if why else "")
            if r.needs_arming:
                text += " · " + _("a live session needs arming first")
            color = c.muted
            if r.position > 0:  # stopping does not sell: what it bought stays under its exits
                text += "\n" + _(
                    "Still holds {qty} {symbol} it bought; their stop-loss and take-profit orders keep "
                    "working. Close the position or cancel them in Orders."
                ).format(qty=fmt_decimal(r.position), symbol=r.config.symbol)
                color = c.warning
        if r.decisions:
            t, d = r.decisions[-1]
            when = datetime.fromtimestamp(t / 1000).strftime("%m-%d %H:%M")
            text += "\n" + (
                _("Last decision: long, at the bar of {when}")
                if d == 1
                else _("Last decision: flat, at the bar of {when}")
            ).format(when=when)
        self.state.setText(text)
        self.state.setStyleSheet(f"color: {color}; font-weight: 600;")

    def retranslate(self) -> None:
        self.setTitle(_("Auto-trading"))
        for i in range(self.strategy.count()):
            name = self.strategy.itemData(i)
            self.strategy.setItemText(i, _(STRATEGY_NAMES[name]) if name in STRATEGY_NAMES else name)
        for label, text in zip(
            self.labels, (_("Strategy"), _("Symbol"), _("Parameters"), _("Stop-loss %"), _("Size %")), strict=True
        ):
            label.setText(text)
        self.tp_label.setText(_("Take-profit %"))
        self.params.setPlaceholderText(_("e.g. threshold=0.55 hold=24"))
        i = max(0, self.sizing.currentIndex())
        self.sizing.clear()
        self.sizing.addItems([_("fraction of equity"), _("volatility target")])
        self.sizing.setCurrentIndex(i)
        self.start_btn.setText(_("Start"))
        self.stop_btn.setText(_("Stop"))
        self.show_state()
