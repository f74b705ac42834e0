"""Downloading candle history into the store, beside the running window: a market of the venue, a
timeframe and a first day; a progress bar and Cancel while it runs (the market and orders carry on);
what was stored, where it resumed and the gaps the exchange left, when it ends. A cancelled download
keeps every page it fetched, and the next one resumes there."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDateEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from qasync import asyncSlot

from app.domain.errors import AppError
from app.domain.market import TIMEFRAME_MS
from app.engine.history_download import DownloadResult, Progress, download_history
from app.i18n import _

from .context import UiContext
from .venue_status import data_source
from .words import message_text

log = logging.getLogger(__name__)


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")


def result_text(r: DownloadResult) -> str:
    lines = [_("{n} candle(s) stored").format(n=r.stored)]
    if r.resumed:
        lines.append(_("resumed after what was stored"))
    if r.last_ms is not None:
        lines.append(_("last candle {when} UTC").format(when=_when(r.last_ms)))
    if r.gaps:
        lines.append(_("{n} gap(s) in the exchange's history:").format(n=len(r.gaps)))
        lines += [
            "• "
            + _("{n} missing from {start} to {end} UTC").format(
                n=g.missing, start=_when(g.start_ms), end=_when(g.end_ms)
            )
            for g in r.gaps[:5]
        ]
    else:
        lines.append(_("no gaps"))
    return "\n".join(lines)


class HistoryDialog(QDialog):
    def __init__(self, parent: QWidget | None, ctx: UiContext) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.task: asyncio.Task[DownloadResult] | None = None
        self.outcome: DownloadResult | None = None
        symbols = sorted(i.symbol for i in ctx.instruments())
        self.symbol = QComboBox()
        self.symbol.setEditable(True)
        self.symbol.addItems(symbols)
        completer = QCompleter(symbols, self.symbol)
        completer.setFilterMode(completer.filterMode().MatchContains)
        completer.setCaseSensitivity(completer.caseSensitivity().CaseInsensitive)
        self.symbol.setCompleter(completer)
        self.symbol.setCurrentText(ctx.selection.symbol)
        self.timeframe = QComboBox()
        self.timeframe.addItems(list(TIMEFRAME_MS))
        self.timeframe.setCurrentText("1h")
        self.since = QDateEdit(QDate.currentDate().addMonths(-1))
        self.since.setCalendarPopup(True)
        self.since.setDisplayFormat("yyyy-MM-dd")
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.state = QLabel()
        self.state.setWordWrap(True)
        self.start_btn = QPushButton()
        self.start_btn.clicked.connect(self.start)
        self.cancel_btn = QPushButton()
        self.cancel_btn.clicked.connect(self.cancel)
        self.cancel_btn.setEnabled(False)
        self.close_btn = QPushButton()
        self.close_btn.clicked.connect(self.close)
        self.labels = [QLabel() for _i in range(3)]
        self.form = QFormLayout()
        self.form.addRow(self.labels[0], self.symbol)
        self.form.addRow(self.labels[1], self.timeframe)
        self.form.addRow(self.labels[2], self.since)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.start_btn)
        row.addWidget(self.cancel_btn)
        row.addWidget(self.close_btn)
        lay = QVBoxLayout(self)
        lay.addLayout(self.form)
        lay.addWidget(self.bar)
        lay.addWidget(self.state)
        lay.addLayout(row)
        self.setMinimumWidth(420)
        self.retranslate()

    def retranslate(self) -> None:
        self.setWindowTitle(_("Download history — {venue}").format(venue=self.ctx.venue))
        for label, text in zip(self.labels, (_("Market"), _("Timeframe"), _("From (UTC)")), strict=True):
            label.setText(text)
        self.start_btn.setText(_("Download"))
        self.cancel_btn.setText(_("Cancel"))
        self.close_btn.setText(_("Done"))

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    def on_progress(self, p: Progress) -> None:
        self.bar.setValue(int(p.fraction * 1000))
        self.state.setText(_("{pct}% · {n} new candle(s)").format(pct=int(p.fraction * 100), n=p.bars))

    @asyncSlot()
    async def start(self) -> None:
        if self.running:
            return
        symbol = self.symbol.currentText().strip().upper()
        if symbol not in {i.symbol for i in self.ctx.instruments()}:
            self.state.setText(_("{venue} does not list {symbol}").format(venue=self.ctx.venue, symbol=symbol))
            return
        d = self.since.date()
        since_ms = int(datetime(d.year(), d.month(), d.day(), tzinfo=UTC).timestamp() * 1000)
        source = data_source(self.ctx.session.venue)
        self.outcome = None
        self.bar.setValue(0)
        self.start_btn.setEnabled(False)
        self.cancel_btn.setEnabled(True)
        self.state.setText(_("Downloading {symbol} {tf}…").format(symbol=symbol, tf=self.timeframe.currentText()))
        self.task = asyncio.ensure_future(
            download_history(
                source,
                self.ctx.session.store,
                symbol,
                self.timeframe.currentText(),
                since_ms,
                on_progress=self.on_progress,
            )
        )
        try:
            self.outcome = await self.task
            self.bar.setValue(1000)
            self.state.setText(result_text(self.outcome))
        except asyncio.CancelledError:
            self.state.setText(_("Cancelled: what was fetched is kept; the next download resumes there"))
        except AppError as exc:
            log.info("history download failed: %s", exc.message)
            self.state.setText(
                _("The download stopped: {why}").format(why=message_text(exc.key, exc.template, exc.params))
            )
        finally:
            self.start_btn.setEnabled(True)
            self.cancel_btn.setEnabled(False)

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def closeEvent(self, e: object) -> None:  # closing stops a running download (what it fetched is kept)
        self.cancel()
        super().closeEvent(e)  # type: ignore[arg-type]
