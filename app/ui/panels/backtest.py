"""Backtest: a strategy on the venue's history or a candle file, in a process of its own (the
window stays live; Cancel ends it at once); results with the metrics, equity and drawdown plots
and the trade list (exported as CSV); a parameter sweep with its table and heat map."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from qasync import asyncSlot

from app.backtest.data import between, candles_from_bars, load_candle_file
from app.backtest.engine import BacktestConfig, BacktestResult
from app.backtest.job import BacktestJob, JobFailed, run_in_process, trades_csv
from app.backtest.sweep import SweepResult, parse_axis
from app.backtest.trades import TradeRecord
from app.domain.errors import AppError
from app.i18n import N_, _, fmt_decimal
from app.signals.candles import CandleFileError, Candles, parse_ms
from app.signals.strategies import STRATEGIES
from app.signals.strategy import FixedFraction, parse_params

from ..context import UiContext
from ..models import Column, RowsModel, make_table
from ..theme import colors
from .signals_trading import STRATEGY_NAMES

HISTORY_BARS = 5000
TIMEFRAMES = ("1m", "5m", "15m", "1h", "4h", "1d")
METRICS = {
    "total_return": N_("Total return"),
    "annual_return": N_("Annual return"),
    "sharpe": N_("Sharpe"),
    "sortino": N_("Sortino"),
    "max_drawdown": N_("Max drawdown"),
    "max_drawdown_days": N_("Longest drawdown (days)"),
    "win_rate": N_("Win rate"),
    "profit_factor": N_("Profit factor"),
    "exposure": N_("Exposure"),
    "trades": N_("Trades"),
    "buy_hold_return": N_("Buy and hold"),
}
PERCENT = {"total_return", "annual_return", "max_drawdown", "win_rate", "exposure", "buy_hold_return"}


def metric_text(name: str, v: Any) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    if name in PERCENT:
        return f"{v * 100:.2f}%"
    if isinstance(v, int):
        return str(v)
    return f"{v:.2f}"


def _utc(ms: int | None) -> str:
    return "" if ms is None else datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")


def _const(text: str) -> Callable[[], str]:
    return lambda: text


def _field(name: str) -> Callable[[dict[str, Any]], str]:
    return lambda r: str(r.get(name))


def _metric_title(key: str) -> Callable[[], str]:
    return lambda: _(METRICS.get(key, key))


def _metric_cell(key: str) -> Callable[[dict[str, Any]], str]:
    return lambda r: metric_text(key, r.get(key)) if "error" not in r else _("invalid")


class BacktestPanel(QWidget):
    def __init__(self, ctx: UiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.file: Path | None = None
        self.result: BacktestResult | None = None
        self.sweep: SweepResult | None = None
        self._task: asyncio.Task[Any] | None = None
        # -- the form
        self.strategy = QComboBox()
        for name in STRATEGIES:
            self.strategy.addItem(name, name)
        self.strategy.currentIndexChanged.connect(self._defaults)
        self.source = QComboBox()
        self.source.currentIndexChanged.connect(self._source_changed)
        self.file_btn = QPushButton()
        self.file_btn.clicked.connect(self.choose_file)
        self.symbol = QComboBox()
        self.symbol.addItems(ctx.session.symbols)
        self.timeframe = QComboBox()
        self.timeframe.addItems(TIMEFRAMES)
        self.timeframe.setCurrentText("1h")
        self.start_edit = QLineEdit()
        self.end_edit = QLineEdit()
        self.params = QLineEdit()
        self.fee = QLineEdit("0.1")
        self.cash = QLineEdit("10000")
        self.size_edit = QLineEdit("100")
        self.grid = QLineEdit()
        self.metric_box = QComboBox()
        for key in ("sharpe", "total_return", "sortino", "max_drawdown", "win_rate", "profit_factor"):
            self.metric_box.addItem(key, key)
        self.run_btn = QPushButton()
        self.run_btn.clicked.connect(self.run)
        self.sweep_btn = QPushButton()
        self.sweep_btn.clicked.connect(self.run_sweep)
        self.cancel_btn = QPushButton()
        self.cancel_btn.clicked.connect(self.cancel)
        self.cancel_btn.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setMaximumHeight(14)
        self.progress.setVisible(False)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.labels = [QLabel() for _i in range(11)]
        form = QFormLayout()
        file_row = QHBoxLayout()
        file_row.addWidget(self.source, 1)
        file_row.addWidget(self.file_btn)
        market_row = QHBoxLayout()
        market_row.addWidget(self.symbol, 1)
        market_row.addWidget(self.timeframe)
        period = QHBoxLayout()
        period.addWidget(self.start_edit)
        period.addWidget(QLabel("–"))
        period.addWidget(self.end_edit)
        money = QHBoxLayout()
        money.addWidget(self.fee)
        money.addWidget(self.labels[9])
        money.addWidget(self.cash)
        sweep_row = QHBoxLayout()
        sweep_row.addWidget(self.grid, 1)
        sweep_row.addWidget(self.metric_box)
        rows: list[tuple[QLabel, QWidget | QHBoxLayout]] = [
            (self.labels[0], self.strategy),
            (self.labels[1], file_row),
            (self.labels[2], market_row),
            (self.labels[3], period),
            (self.labels[4], self.params),
            (self.labels[5], money),
            (self.labels[6], self.size_edit),
            (self.labels[7], sweep_row),
        ]
        for label, field in rows:
            if isinstance(field, QWidget):
                form.addRow(label, field)
            else:
                form.addRow(label, field)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_btn)
        buttons.addWidget(self.sweep_btn)
        buttons.addWidget(self.cancel_btn)
        left = QWidget()
        left_lay = QVBoxLayout(left)
        left_lay.setContentsMargins(0, 0, 0, 0)
        left_lay.addLayout(form)
        left_lay.addLayout(buttons)
        left_lay.addWidget(self.progress)
        left_lay.addWidget(self.status)
        left_lay.addWidget(self.error)
        left_lay.addStretch(1)
        # -- results
        self.metric_labels: dict[str, tuple[QLabel, QLabel]] = {k: (QLabel(), QLabel()) for k in METRICS}
        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        grid.setColumnMinimumWidth(2, 120)
        for i, (title, value) in enumerate(self.metric_labels.values()):
            value.setAlignment(Qt.AlignmentFlag.AlignRight)
            grid.addWidget(title, i % 6, 2 * (i // 6))
            grid.addWidget(value, i % 6, 2 * (i // 6) + 1)
        self.equity_plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem()})
        self.drawdown_plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem()})
        self.drawdown_plot.setXLink(self.equity_plot)
        for p in (self.equity_plot, self.drawdown_plot):
            p.setMenuEnabled(False)
            p.setMinimumHeight(90)
        self.equity_curve = self.equity_plot.plot()
        self.hold_curve = self.equity_plot.plot()
        self.drawdown_curve = self.drawdown_plot.plot(fillLevel=0)
        plots = QSplitter(Qt.Orientation.Vertical)
        plots.addWidget(self.equity_plot)
        plots.addWidget(self.drawdown_plot)
        plots.setSizes([200, 100])
        result_tab = QWidget()
        rl = QVBoxLayout(result_tab)
        rl.setContentsMargins(2, 2, 2, 2)
        rl.addLayout(grid)
        rl.addWidget(plots, 1)
        self.trades = RowsModel(
            [
                Column(lambda: _("Side"), lambda t: _("long") if t.direction > 0 else _("short")),
                Column(lambda: _("Quantity"), lambda t: fmt_decimal(t.quantity), True),
                Column(lambda: _("Entry (UTC)"), lambda t: _utc(t.entry_ms)),
                Column(lambda: _("Entry price"), lambda t: fmt_decimal(t.entry_price), True),
                Column(lambda: _("Exit (UTC)"), lambda t: _utc(t.exit_ms) if not t.is_open else _("open")),
                Column(
                    lambda: _("Exit price"),
                    lambda t: fmt_decimal(t.exit_price) if t.exit_price is not None else "—",
                    True,
                ),
                Column(lambda: _("Fees"), lambda t: fmt_decimal(t.fees, 2), True),
                Column(
                    lambda: _("P&L"),
                    lambda t: fmt_decimal(t.pnl, 2),
                    True,
                    lambda t: colors().buy if t.pnl > 0 else colors().sell if t.pnl < 0 else None,
                ),
                Column(lambda: _("Return"), lambda t: f"{t.return_pct * 100:.2f}%", True),
            ]
        )
        self.export_btn = QPushButton()
        self.export_btn.clicked.connect(self.choose_export)
        self.export_btn.setEnabled(False)
        trades_tab = QWidget()
        tl = QVBoxLayout(trades_tab)
        tl.setContentsMargins(2, 2, 2, 2)
        tl.addWidget(make_table(self.trades, stretch=False), 1)
        tl.addWidget(self.export_btn, 0, Qt.AlignmentFlag.AlignLeft)
        self.sweep_rows = RowsModel([])
        self.heat_plot = pg.PlotWidget()
        self.heat_plot.setMenuEnabled(False)
        self.heat = pg.ImageItem()
        self._heat_labels: list[pg.TextItem] = []
        self.heat_plot.addItem(self.heat)
        self.heat_plot.setMinimumWidth(200)
        sweep_tab = QSplitter(Qt.Orientation.Horizontal)
        sweep_tab.addWidget(make_table(self.sweep_rows, stretch=False))
        sweep_tab.addWidget(self.heat_plot)
        self.tabs = QTabWidget()
        self.tabs.addTab(result_tab, "")
        self.tabs.addTab(trades_tab, "")
        self.tabs.addTab(sweep_tab, "")
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.tabs)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 5)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(split)
        self._dialog: QFileDialog | None = None
        self.retranslate()
        self._defaults()
        self.set_theme()

    # -- inputs ----------------------------------------------------------------------------------
    def _defaults(self, *_a: object) -> None:
        cls = STRATEGIES.get(self.strategy.currentData() or "")
        if cls is None:
            return
        self.params.setText(" ".join(f"{k}={v}" for k, v in cls.defaults.items()))
        self.grid.setText(
            "fast=5:20:5 slow=20:60:10" if cls.name == "sma_cross" else "threshold=0.5,0.52,0.55 hold=12,24,48"
        )

    def _source_changed(self, *_a: object) -> None:
        from_file = self.source.currentIndex() == 1
        self.file_btn.setVisible(from_file)
        self.symbol.setEnabled(not from_file)
        self.timeframe.setEnabled(not from_file)

    def set_file(self, path: Path) -> None:
        self.file = path
        self.source.setCurrentIndex(1)
        self.file_btn.setText(path.name)

    def choose_file(self) -> None:
        dlg = QFileDialog(self, _("Candle file"), str(Path.home()), _("Candle files (*.csv *.csv.gz)"))
        dlg.setFileMode(QFileDialog.FileMode.ExistingFile)
        dlg.fileSelected.connect(lambda p: self.set_file(Path(p)))
        dlg.finished.connect(lambda _r: dlg.deleteLater())
        dlg.open()
        self._dialog = dlg

    def _dec(self, edit: QLineEdit, name: str) -> Decimal:
        try:
            v = Decimal(edit.text().strip().rstrip("%").replace(",", ""))
        except InvalidOperation:
            v = Decimal("NaN")
        if not v.is_finite():
            raise ValueError(_("{field} is not a number").format(field=name))
        return v

    async def candles(self) -> tuple[Candles, int]:
        """The bars before "to" and the index of the first at or after "from"."""
        if self.source.currentIndex() == 1:
            if self.file is None:
                raise ValueError(_("Choose a candle file first"))
            c = await asyncio.to_thread(load_candle_file, self.file)
        else:
            bars = await self.ctx.session.venue.fetch_bars(
                self.symbol.currentText(), self.timeframe.currentText(), None, HISTORY_BARS
            )
            c = candles_from_bars([b for b in bars if b.closed])
        start, end = self.start_edit.text().strip(), self.end_edit.text().strip()
        try:
            start_ms = parse_ms(start) if start else None
            end_ms = parse_ms(end) if end else None
        except ValueError as exc:
            raise ValueError(_("A date is YYYY-MM-DD (UTC)")) from exc
        c = between(c, None, end_ms)
        first = int(np.searchsorted(c.open_ms, start_ms, side="left")) if start_ms is not None else 0
        if first >= len(c):
            raise ValueError(_("No candles in that period"))
        return c, first

    async def job(self, sweep: bool) -> BacktestJob:
        fee = self._dec(self.fee, _("Fee")) / 100
        cash = self._dec(self.cash, _("Cash"))
        size = self._dec(self.size_edit, _("Size")) / 100
        if not Decimal(0) <= fee < Decimal("0.1") or cash <= 0 or not Decimal(0) < size <= 1:
            raise ValueError(_("The fee is 0 to 10 %, the cash above 0 and the size above 0 and at most 100 %"))
        try:
            params = parse_params(self.params.text().replace(",", " ").split()) if self.params.text().strip() else {}
            grid = [parse_axis(a) for a in self.grid.text().split()] if sweep else None
        except ValueError as exc:
            raise ValueError(_("Parameters are NAME=VALUE separated by spaces ({error})").format(error=exc)) from exc
        if sweep and not grid:
            raise ValueError(_("Give the grid to sweep, e.g. fast=5:20:5 slow=20:60:10"))
        candles, first = await self.candles()
        config = replace(BacktestConfig(cash=cash, fee=fee), sizing=FixedFraction(size))
        if grid:
            params = {k: v for k, v in params.items() if k not in {a[0] for a in grid}}
        return BacktestJob(self.strategy.currentData(), params, candles, config, first, grid=grid)

    # -- running -----------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @asyncSlot()
    async def run(self) -> None:
        await self._run(False)

    @asyncSlot()
    async def run_sweep(self) -> None:
        await self._run(True)

    async def _run(self, sweep: bool) -> None:
        """Read the candles and run the job in its own process; the task is the panel's until it
        ends (Cancel cancels it, and with it the process)."""
        if self.running:
            return
        self.error.setText("")
        self._busy(True)
        self.status.setText(_("Reading the candles…"))
        self._task = asyncio.ensure_future(self._work(sweep))
        try:
            result = await self._task
        except asyncio.CancelledError:
            self.status.setText(_("Cancelled: nothing was changed"))
            return
        except (ValueError, CandleFileError, OSError) as exc:
            self.status.setText("")
            self.error.setText(str(exc))
            return
        except AppError as exc:
            self.status.setText("")
            self.error.setText(exc.message)
            return
        except (JobFailed, RuntimeError) as exc:  # RuntimeError: the process could not start
            self.status.setText("")
            self.error.setText(_("The backtest failed: {error}").format(error=str(exc).strip()))
            return
        finally:
            self._busy(False)
        if isinstance(result, SweepResult):
            self.show_sweep(result)
        else:
            self.show_result(result)

    async def _work(self, sweep: bool) -> BacktestResult | SweepResult:
        job = await self.job(sweep)
        self.status.setText(
            _("Running {strategy} on {n} candles of {symbol}…").format(
                strategy=self.strategy.currentText(), n=len(job.candles) - job.first, symbol=job.candles.symbol
            )
        )
        return await run_in_process(job, self._progress)

    def _progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def _busy(self, on: bool) -> None:
        self.progress.setVisible(on)
        self.progress.setRange(0, 0)
        self.cancel_btn.setEnabled(on)
        self.run_btn.setEnabled(not on)
        self.sweep_btn.setEnabled(not on)

    def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()

    # -- results -----------------------------------------------------------------------------------
    def show_result(self, r: BacktestResult) -> None:
        self.result = r
        m = r.metrics.to_json()
        for key, (_name, value) in self.metric_labels.items():
            value.setText(metric_text(key, m.get(key)))
        x = r.open_ms / 1000.0
        self.equity_curve.setData(x, r.equity)
        if len(r.close) and r.close[0] > 0:
            self.hold_curve.setData(x, r.close / r.close[0] * float(r.config.cash))
        self.drawdown_curve.setData(x, r.drawdown * 100)
        self.equity_plot.enableAutoRange()
        self.drawdown_plot.enableAutoRange()
        self.trades.set_rows(list(r.trades))
        self.export_btn.setEnabled(bool(r.trades))
        self.status.setText(
            _("{strategy}: {n} trades, final equity {equity}").format(
                strategy=r.strategy, n=r.metrics.trades, equity=fmt_decimal(r.final_equity, 2)
            )
        )
        self.tabs.setCurrentIndex(0)

    def show_sweep(self, s: SweepResult) -> None:
        self.sweep = s
        metric = self.metric_box.currentData()
        names = [a[0] for a in s.axes]
        metric = str(metric)
        cols = [Column(_const(n), _field(n)) for n in names]
        for key in dict.fromkeys([metric, "total_return", "sharpe", "max_drawdown", "trades"]):
            cols.append(Column(_metric_title(key), _metric_cell(key), True))
        self.sweep_rows.beginResetModel()
        self.sweep_rows.columns = cols
        self.sweep_rows.endResetModel()
        self.sweep_rows.set_rows(list(s.rows))
        if len(names) >= 2:
            xs, ys, z = s.heatmap(metric)
            finite = z[np.isfinite(z)]
            img = np.where(np.isfinite(z), z, finite.min() if len(finite) else 0.0)
            self.heat.setImage(img.T, autoLevels=True)
            self.heat.setColorMap(pg.colormap.get("viridis"))
            self.heat.setRect(0, 0, len(xs), len(ys))
            for t in self._heat_labels:
                self.heat_plot.removeItem(t)
            self._heat_labels = []
            if z.size <= 400:  # the value in each cell while it fits
                for i in range(len(ys)):
                    for j in range(len(xs)):
                        if math.isfinite(z[i, j]):
                            t = pg.TextItem(metric_text(metric, float(z[i, j])), color="w", anchor=(0.5, 0.5))
                            t.setPos(j + 0.5, i + 0.5)
                            self.heat_plot.addItem(t)
                            self._heat_labels.append(t)
            self.heat_plot.getAxis("bottom").setTicks([[(i + 0.5, str(v)) for i, v in enumerate(xs)]])
            self.heat_plot.getAxis("left").setTicks([[(i + 0.5, str(v)) for i, v in enumerate(ys)]])
            self.heat_plot.setLabel("bottom", names[0])
            self.heat_plot.setLabel("left", names[1])
            self.heat_plot.setTitle(_(METRICS.get(metric, metric)), size="9pt")
        best = s.best(metric)
        self.status.setText(
            _("Sweep of {n} points; best {metric}: {point}").format(
                n=len(s.rows),
                metric=_(METRICS.get(metric, metric)),
                point=" ".join(f"{k}={best[k]}" for k in names) if best else "—",
            )
        )
        self.tabs.setCurrentIndex(2)

    def choose_export(self) -> None:
        dlg = QFileDialog(self, _("Export trades"), str(Path.home() / "trades.csv"), _("CSV files (*.csv)"))
        dlg.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dlg.setDefaultSuffix("csv")
        dlg.fileSelected.connect(lambda p: self.export_csv(Path(p)))
        dlg.finished.connect(lambda _r: dlg.deleteLater())
        dlg.open()
        self._dialog = dlg

    def export_csv(self, path: Path) -> bool:
        if self.result is None:
            return False
        try:
            path.write_text(trades_csv(self.result), encoding="utf-8")
        except OSError as exc:
            self.error.setText(_("The file could not be written: {error}").format(error=exc.strerror or str(exc)))
            return False
        self.status.setText(_("{n} trades saved to {path}").format(n=len(self.result.trades), path=str(path)))
        return True

    def trade_rows(self) -> list[TradeRecord]:
        return list(self.trades.rows)

    # -- look and language ---------------------------------------------------------------------------
    def set_theme(self) -> None:
        c = colors()
        for p in (self.equity_plot, self.drawdown_plot, self.heat_plot):
            p.setBackground(c.panel)
            for axis in ("left", "bottom"):
                p.getAxis(axis).setTextPen(pg.mkPen(c.muted))
                p.getAxis(axis).setPen(pg.mkPen(c.border))
        self.equity_curve.setPen(pg.mkPen(c.accent, width=1.5))
        self.hold_curve.setPen(pg.mkPen(c.muted, width=1, style=Qt.PenStyle.DashLine))
        self.drawdown_curve.setPen(pg.mkPen(c.sell, width=1))
        self.drawdown_curve.setBrush(
            pg.mkBrush(c.sell + "55" if c.sell.startswith("#") and len(c.sell) == 7 else c.sell)
        )

    def retranslate(self) -> None:
        texts = (
            _("Strategy"),
            _("Data"),
            _("Symbol"),
            _("Period (UTC)"),
            _("Parameters"),
            _("Fee %"),
            _("Size % of equity"),
            _("Sweep grid"),
        )
        for label, text in zip(self.labels, texts, strict=False):
            label.setText(text)
        self.labels[9].setText(_("Cash"))
        for i in range(self.strategy.count()):
            name = self.strategy.itemData(i)
            self.strategy.setItemText(i, _(STRATEGY_NAMES[name]) if name in STRATEGY_NAMES else name)
        i = max(0, self.source.currentIndex())
        self.source.blockSignals(True)
        self.source.clear()
        self.source.addItems([_("Venue history"), _("Candle file")])
        self.source.setCurrentIndex(i)
        self.source.blockSignals(False)
        self._source_changed()
        if self.file is None:
            self.file_btn.setText(_("Choose file…"))
        for i in range(self.metric_box.count()):
            key = self.metric_box.itemData(i)
            self.metric_box.setItemText(i, _(METRICS.get(key, key)))
        self.start_edit.setPlaceholderText(_("from, e.g. 2024-01-01"))
        self.end_edit.setPlaceholderText(_("to (optional)"))
        self.run_btn.setText(_("Run backtest"))
        self.sweep_btn.setText(_("Run sweep"))
        self.cancel_btn.setText(_("Cancel"))
        self.export_btn.setText(_("Export CSV…"))
        for key, (name, _value) in self.metric_labels.items():
            name.setText(_(METRICS[key]))
        self.equity_plot.setTitle(_("Equity (dashed: buy and hold)"), size="9pt")
        self.drawdown_plot.setTitle(_("Drawdown %"), size="9pt")
        for i, t in enumerate((_("Result"), _("Trades"), _("Sweep"))):
            self.tabs.setTabText(i, t)
        self.trades.refresh()
        self.sweep_rows.refresh()
