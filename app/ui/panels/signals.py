"""Signals: each ONNX model's latest forecast per symbol (probability, direction, confidence), its
hit rate since the app started and on the history it was primed with; the user's own models
added from a file (refused with the reason when their contract does not match); signal alerts;
the forecasts as markers on the chart."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from qasync import asyncSlot

from app.domain.market import TIMEFRAME_MS
from app.domain.signal import Signal as ModelSignal
from app.domain.signal import SignalDirection
from app.engine.signal_service import SignalModelsChanged, SignalService
from app.i18n import N_, _
from app.signals.model import ModelContractError
from app.signals.pipeline import HitCounter

from ..chart import ChartWidget
from ..context import UiContext
from ..models import Column, RowsModel, make_table
from ..theme import colors
from .signals_trading import AutoTradingBox

REASONS = {
    "signals.model.unreadable": N_("the file is not a model onnxruntime can load"),
    "signals.model.no_contract": N_("the file carries no AutoGrowth contract in its metadata"),
    "signals.model.bad_contract": N_("its contract is malformed or has values out of range"),
    "signals.model.unknown_features": N_("it asks for features this app does not compute"),
    "signals.model.input_mismatch": N_("its input does not match its contract"),
    "signals.model.output_mismatch": N_("its output is not two class probabilities"),
    "signals.model.card_mismatch": N_("its card and its file disagree on the contract"),
    "signals.model.bad_card": N_("its card is not valid JSON"),
    "signals.model.duplicate": N_("a model of that name is already running"),
    "signals.model.not_found": N_("no such model"),
}


def refusal_text(exc: ModelContractError) -> str:
    """Why a model is refused, in the user's language, with the technical detail after it."""
    reason = REASONS.get(exc.key)
    head = _("The model {model} cannot be used: {reason}.").format(
        model=exc.params.get("model", "?"), reason=_(reason) if reason else exc.message
    )
    detail = exc.params.get("detail", "")
    return f"{head}\n({detail})" if detail else head


def hit_text(h: HitCounter) -> str:
    if not h.scored:
        return "—"
    return _("{rate}% of {n}").format(rate=f"{h.hits / h.scored * 100:.1f}", n=h.scored)


def direction_text(s: ModelSignal) -> str:
    return "▲ " + _("up") if s.direction is SignalDirection.UP else "▼ " + _("down")


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000).strftime("%m-%d %H:%M")


class SignalsPanel(QWidget):
    markersChanged = Signal()  # the chart's signal markers should be drawn again

    def __init__(self, ctx: UiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.service: SignalService | None = ctx.session.signals
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.model = RowsModel(
            [
                Column(lambda: _("Model"), lambda r: r[0]),
                Column(lambda: _("Symbol"), lambda r: r[1]),
                Column(lambda: _("Bar closed"), lambda r: _when(r[2].ts_ms) if r[2] else "—"),
                Column(lambda: _("Probability"), lambda r: str(r[2].probability) if r[2] else "—", True),
                Column(
                    lambda: _("Direction"),
                    lambda r: direction_text(r[2]) if r[2] else _("waiting for a full window"),
                    color=lambda r: (
                        None if not r[2] else colors().buy if r[2].direction is SignalDirection.UP else colors().sell
                    ),
                ),
                Column(
                    lambda: _("Confidence"),
                    lambda r: f"{r[2].confidence * 100:.1f}%" if r[2] else "—",
                    True,
                ),
                Column(lambda: _("Hit rate since start"), self._live_text, True),
                Column(lambda: _("Hit rate on history"), lambda r: hit_text(r[4]), True),
            ],
            key=lambda r: (r[0], r[1]),
        )
        self.table = make_table(self.model, stretch=False)
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.add_btn = QPushButton()
        self.add_btn.clicked.connect(self.choose_file)
        self.remove_btn = QPushButton()
        self.remove_btn.clicked.connect(self.remove_selected)
        self.markers_box = QCheckBox()
        self.markers_box.setChecked(True)
        self.markers_box.toggled.connect(lambda _on: self.markersChanged.emit())
        self.picked = QComboBox()  # the model shown on the chart and whose alerts are edited
        self.picked.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.picked.currentIndexChanged.connect(self._picked_changed)
        self.alert_change = QCheckBox()
        self.alert_change.toggled.connect(lambda _on: self.apply_alert())
        self.alert_conf_label = QLabel()
        self.alert_conf = QLineEdit()
        self.alert_conf.setMaximumWidth(60)
        self.alert_conf.editingFinished.connect(self.apply_alert)
        top = QHBoxLayout()
        top.addWidget(self.picked)
        top.addWidget(self.markers_box)
        top.addStretch(1)
        top.addWidget(self.add_btn)
        top.addWidget(self.remove_btn)
        alerts = QHBoxLayout()
        alerts.addWidget(self.alert_change)
        alerts.addWidget(self.alert_conf_label)
        alerts.addWidget(self.alert_conf)
        alerts.addStretch(1)
        left = QVBoxLayout()
        left.setContentsMargins(0, 0, 0, 0)
        left.addWidget(self.intro)
        left.addLayout(top)
        left.addLayout(alerts)
        left.addWidget(self.table, 1)
        left.addWidget(self.status)
        left.addWidget(self.error)
        self.auto = AutoTradingBox(ctx)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(left, 3)
        lay.addWidget(self.auto, 2)
        self._dialog: QFileDialog | None = None
        bus = ctx.session.bus
        self._unsubs = [bus.subscribe(ModelSignal, self._on_signal), bus.subscribe(SignalModelsChanged, self._reload)]
        self._dirty = False
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)
        self._timer.start()
        self.setEnabled(self.service is not None)
        self._reload()

    # -- what is shown ---------------------------------------------------------------------------
    def _live_text(self, r: tuple[str, str, ModelSignal | None, HitCounter, HitCounter]) -> str:
        """The live hit rate; before the first forecast is scored, how many wait for their horizon."""
        if r[3].scored or self.service is None:
            return hit_text(r[3])
        n = self.service.waiting(r[0])
        return _("{n} waiting").format(n=n) if n else "—"

    def rows(self) -> list[tuple[str, str, ModelSignal | None, HitCounter, HitCounter]]:
        svc = self.service
        if svc is None:
            return []
        out = []
        venue = self.ctx.venue
        for m in svc.models:
            live, hist = svc.hit_rate(m.name), svc.history_hit_rate(m.name)
            for sym in self.ctx.session.symbols:
                out.append((m.name, sym, svc.latest.get((m.name, venue, sym)), live, hist))
        return out

    def refresh(self) -> None:
        self._dirty = False
        self.model.set_rows(self.rows())
        self._intro_text()

    def _intro_text(self) -> None:
        svc = self.service
        if svc is None:
            self.intro.setText(_("Signal models are off in this session."))
            return
        if not svc.models:
            self.intro.setText(_("Loading the signal models…") if not svc.failed else _("No signal model is running."))
            return
        stream_ms = TIMEFRAME_MS.get(self.ctx.session.timeframe, 60_000)
        parts = []
        for m in svc.models:
            tf = m.contract.tf_ms
            now = self.ctx.session.clock.now_ms()
            nxt = now - now % tf + tf
            text = _("{model} reads closed {tf} candles and forecasts {h} bars ahead; next forecast at {at}.").format(
                model=m.name,
                tf=m.contract.timeframe,
                h=m.contract.horizon,
                at=datetime.fromtimestamp(nxt / 1000).strftime("%H:%M"),
            )
            if tf > stream_ms:
                text += " " + _("The market streams {stream} candles: they are combined into {tf} bars.").format(
                    stream=self.ctx.session.timeframe, tf=m.contract.timeframe
                )
            parts.append(text)
        self.intro.setText("\n".join(parts))
        self.intro.setToolTip(
            _(
                "A forecast is scored when its horizon has passed: up is a hit if a long gained after fees, down if it did not."
            )
        )

    def _reload(self, _e: SignalModelsChanged | None = None) -> None:
        svc = self.service
        names = [m.name for m in svc.models] if svc is not None else []
        current = self.picked.currentText()
        self.picked.blockSignals(True)
        self.picked.clear()
        self.picked.addItems(names)
        if current in names:
            self.picked.setCurrentText(current)
        self.picked.blockSignals(False)
        if svc is not None and svc.failed:
            self.error.setText("\n".join(refusal_text(e) for e in svc.failed.values()))
        self._picked_changed()
        self.refresh()
        self.markersChanged.emit()

    def _picked_changed(self, *_a: object) -> None:
        rules = self.ctx.session.signal_alerts.rules if self.ctx.session.signal_alerts is not None else {}
        rule = rules.get(self.picked.currentText())
        self.alert_change.blockSignals(True)
        self.alert_change.setChecked(rule is not None and rule.on_change)
        self.alert_change.blockSignals(False)
        mc = rule.min_confidence if rule is not None else None
        self.alert_conf.setText("" if mc is None else f"{mc * 100:g}")
        service = self.service
        self.remove_btn.setEnabled(service is not None and service.model(self.picked.currentText()) is not None)
        self.markersChanged.emit()

    def _on_signal(self, s: ModelSignal) -> None:
        self._dirty = True
        if s.model == self.picked.currentText():
            self.markersChanged.emit()

    def _tick(self) -> None:
        if self._dirty or not self.model.rows:
            self.refresh()
        else:
            self._intro_text()

    # -- chart markers ---------------------------------------------------------------------------
    def mark_chart(self, chart: ChartWidget, symbol: str) -> int:
        """The picked model's forecasts for ``symbol`` on the chart: a marker where the direction
        changed (and at the newest), at the close of its bar. Returns how many were drawn."""
        chart.markers.remove_kinds(("long", "short", "flat"))
        svc = self.service
        if svc is None or not self.markers_box.isChecked() or not self.picked.currentText():
            return 0
        sigs = svc.signals(self.picked.currentText(), self.ctx.venue, symbol)
        s = chart.series
        if not sigs or not s.n:
            return 0
        n = 0
        prev: SignalDirection | None = None
        for i, sig in enumerate(sigs):
            if sig.direction is prev and i != len(sigs) - 1:
                continue
            prev = sig.direction
            idx = int(s.index_of(sig.ts_ms - 1))
            if idx < 0:
                continue
            kind = "long" if sig.direction is SignalDirection.UP else "flat"
            chart.add_signal_marker(sig.ts_ms, float(s.c[idx]), kind, f"{sig.probability:.2f}")
            n += 1
        return n

    # -- the user's models -----------------------------------------------------------------------
    def choose_file(self) -> None:
        """A file dialog beside the live window (never ``exec()``)."""
        dlg = QFileDialog(self, _("Add a signal model"), str(Path.home()), _("ONNX models (*.onnx)"))
        dlg.setFileMode(QFileDialog.FileMode.ExistingFile)
        dlg.fileSelected.connect(lambda p: self.add_model_file(Path(p)))
        dlg.finished.connect(lambda _r: dlg.deleteLater())
        dlg.open()
        self._dialog = dlg

    @asyncSlot(object)
    async def add_model_file(self, path: Path) -> bool:
        """Check and add a model file; the reason is shown when the app cannot use it."""
        self.error.setText("")
        if self.service is None:
            return False
        self.status.setText(_("Checking {name}…").format(name=path.name))
        try:
            m = await self.service.add_model(path)
        except ModelContractError as exc:
            self.status.setText("")
            self.error.setText(refusal_text(exc))
            return False
        except OSError as exc:
            self.status.setText("")
            self.error.setText(_("The file could not be read: {error}").format(error=exc.strerror or str(exc)))
            return False
        self.status.setText(
            _("Model {name} added: it runs on every closed {tf} bar.").format(name=m.name, tf=m.contract.timeframe)
        )
        self.picked.setCurrentText(m.name)
        return True

    def remove_selected(self) -> None:
        name = self.picked.currentText()
        if self.service is not None and self.service.model(name) is not None:
            self.service.remove_model(name)
            self.status.setText(_("Model {name} removed.").format(name=name))

    # -- alerts ----------------------------------------------------------------------------------
    def apply_alert(self) -> None:
        alerts, name = self.ctx.session.signal_alerts, self.picked.currentText()
        if alerts is None or not name:
            return
        text = self.alert_conf.text().strip().rstrip("%").replace(",", ".")
        conf: Decimal | None = None
        if text:
            try:
                conf = Decimal(text) / 100
            except InvalidOperation:
                conf = Decimal(-1)
            if not conf.is_finite() or not Decimal(0) < conf <= 1:
                self.error.setText(_("The confidence of a signal alert is a percentage above 0 and at most 100."))
                return
        self.error.setText("")
        alerts.set_rule(name, on_change=self.alert_change.isChecked(), min_confidence=conf)
        self.status.setText(_("Signal alerts for {model} saved.").format(model=name))

    def retranslate(self) -> None:
        self.add_btn.setText(_("Add model…"))
        self.remove_btn.setText(_("Remove model"))
        self.markers_box.setText(_("Show on chart"))
        self.alert_change.setText(_("Alert when the direction changes"))
        self.alert_conf_label.setText(_("Alert at confidence of at least (%)"))
        self.model.refresh()
        self.auto.retranslate()
        self._intro_text()
