"""Tax: a year's report (Korea's total average, FIFO or average cost, in KRW, USD or EUR) made in
the background from the stored fills and the files the user adds, its figures and disposals in
the window, and the CSV and HTML files saved to a folder."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)
from qasync import asyncSlot

from app.i18n import N_, _, language
from app.storage import Store
from app.tax.books import Method
from app.tax.compute import ReportSettings, TaxInputError, TaxReport
from app.tax.export import write_report
from app.tax.imports import REQUIRED_TRADE_COLUMNS, TRADE_COLUMNS, ImportFailed, guess_columns, read_header
from app.tax.loader import make_report
from app.tax.model import Disposal
from app.tax.rules import KR_2027, KST
from app.tax.summary import notice, summary_rows
from app.tax.text import Words

from ..context import UiContext
from ..models import Column, RowsModel, make_table
from ..theme import colors

CURRENCIES = {"KRW": N_("Korean won (₩)"), "USD": N_("US dollar ($)"), "EUR": N_("Euro (€)")}
_WORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tax-report")  # a plain thread, not a QThread

METHODS = {
    Method.KR: N_("Korea: total average per person"),
    Method.FIFO: N_("FIFO (first in, first out)"),
    Method.AVERAGE: N_("Average cost (moving average)"),
}


class TaxPanel(QWidget):
    def __init__(self, ctx: UiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.report: TaxReport | None = None
        self.imports: list[Path] = []
        self.columns: dict[Path, dict[str, str]] = {}  # the user's confirmed column names per file
        self.mapping_dialog: ColumnMapDialog | None = None
        self.fx: Path | None = None
        self.opening: Path | None = None
        self._dialog: QFileDialog | None = None
        self._task: asyncio.Future[TaxReport] | None = None
        self._w: tuple[tuple[str, str, str], Words] | None = None
        self.year = QSpinBox()
        self.year.setRange(2017, 2100)
        self.year.setValue(max(2027, datetime.now(KST).year - 1))
        self.method = QComboBox()
        self.currency = QComboBox()
        self.fallback = QCheckBox()
        self.run_btn = QPushButton()
        self.run_btn.clicked.connect(self.run)
        self.import_btn = QPushButton()
        self.import_btn.clicked.connect(lambda: self._choose("imports"))
        self.fx_btn = QPushButton()
        self.fx_btn.clicked.connect(lambda: self._choose("fx"))
        self.opening_btn = QPushButton()
        self.opening_btn.clicked.connect(lambda: self._choose("opening"))
        self.export_btn = QPushButton()
        self.export_btn.setEnabled(False)
        self.export_btn.clicked.connect(self._choose_folder)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(160)
        self.progress.setMaximumHeight(14)
        self.progress.setVisible(False)
        self.files = QLabel()
        # The chosen files' names take the room left: the buttons keep their words.
        self.files.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.summary = RowsModel(
            [Column(lambda: _("Item"), lambda r: r[0]), Column(lambda: _("Value"), lambda r: r[1], True)]
        )
        self.lines = RowsModel(
            [
                Column(lambda: _("Time"), lambda d: self._words().time(d.ts_ms)),
                Column(lambda: _("Coin"), lambda d: d.asset),
                Column(lambda: _("Quantity"), lambda d: self._words().qty(d.quantity), True),
                Column(lambda: _("Proceeds"), lambda d: self._words().money(d.proceeds), True),
                Column(
                    lambda: _("Cost basis"), lambda d: self._words().money(d.cost) if d.gain is not None else "—", True
                ),
                Column(lambda: _("Fees"), lambda d: self._words().money(d.fees), True),
                Column(lambda: _("Gain"), _gain_text(self), True, _gain_color),
                Column(lambda: _("Status"), lambda d: self._words().status(d.status)),
            ]
        )
        # Two rows of controls, so the tables keep their room in a low dock (1280×720).
        controls = QHBoxLayout()
        for label, w in ((N_("Year"), self.year), (N_("Method"), self.method), (N_("Currency"), self.currency)):
            lab = QLabel()
            lab.setProperty("tr", label)
            controls.addWidget(lab)
            controls.addWidget(w)
        controls.addStretch(1)
        controls.addWidget(self.run_btn)
        controls.addWidget(self.export_btn)
        files = QHBoxLayout()
        for b in (self.import_btn, self.fx_btn, self.opening_btn):
            files.addWidget(b)
        files.addWidget(self.fallback)
        files.addWidget(self.files, 1)
        files.addWidget(self.progress)
        tables = QSplitter(Qt.Orientation.Horizontal)
        tables.addWidget(make_table(self.summary, stretch=False))
        tables.addWidget(make_table(self.lines, stretch=False))
        tables.setStretchFactor(0, 2)
        tables.setStretchFactor(1, 5)
        tables.setSizes([320, 580])
        self.error.setVisible(False)
        self.status.setStyleSheet("font-size: 11px;")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(3)
        lay.addLayout(controls)
        lay.addLayout(files)
        lay.addWidget(self.error)
        lay.addWidget(tables, 1)
        lay.addWidget(self.status)
        self.retranslate()

    # -- words ------------------------------------------------------------------------------------
    def _words(self) -> Words:
        """The current language's words for the report shown (made again on a language switch)."""
        r = self.report
        key = (language(), r.settings.currency if r else "KRW", r.rules.version if r else "")
        if self._w is None or self._w[0] != key:
            self._w = (key, Words(key[0], key[1], r.rules if r else KR_2027))
        return self._w[1]

    def retranslate(self) -> None:
        for lab in self.findChildren(QLabel):
            key = lab.property("tr")
            if key:
                lab.setText(_(key))
        method, ccy = self.method.currentData(), self.currency.currentData()
        self.method.clear()
        for m, text in METHODS.items():
            self.method.addItem(_(text), m.value)
        self.currency.clear()
        for code, text in CURRENCIES.items():
            self.currency.addItem(_(text), code)
        if method is not None:
            self.method.setCurrentIndex(max(0, self.method.findData(method)))
        if ccy is not None:
            self.currency.setCurrentIndex(max(0, self.currency.findData(ccy)))
        self.fallback.setText(_("Cost unknown: 50 % of the sale price"))
        self.fallback.setToolTip(
            _(
                "Korea's rule for coins whose cost is unknown; fees are then not deducted. Off: such sales are listed apart."
            )
        )
        self.run_btn.setText(_("Make report"))
        self.import_btn.setText(_("Add trades file…"))
        self.fx_btn.setText(_("FX rates…"))
        self.opening_btn.setText(_("Prices at 2027-01-01…"))
        self.export_btn.setText(_("Save report files…"))
        self._show_files()
        self._show_report()

    def _show_files(self) -> None:
        names = [p.name for p in self.imports] + [p.name for p in (self.fx, self.opening) if p is not None]
        self.files.setText(", ".join(names) if names else _("Stored fills of every venue"))

    def _show_report(self) -> None:
        r = self.report
        if r is None:
            self.summary.set_rows([])
            self.lines.set_rows([])
            return
        w = self._words()
        self.summary.set_rows(summary_rows(r, w))
        self.lines.set_rows(r.disposals)
        notes = [f"• {w.note(n)}" for n in r.notes[:6]]
        self.status.setText("\n".join([notice(r, w), *notes]))

    # -- files ------------------------------------------------------------------------------------
    def _choose(self, what: str) -> None:
        """A file dialog beside the live window (never ``exec()``)."""
        titles = {"imports": _("Trades file"), "fx": _("FX rates file"), "opening": _("Prices at 2027-01-01")}
        dlg = QFileDialog(self, titles[what], str(Path.home()), _("Comma-separated files (*.csv)"))
        dlg.setFileMode(QFileDialog.FileMode.ExistingFile)
        dlg.fileSelected.connect(lambda p: self.set_file(what, Path(p)))
        dlg.finished.connect(lambda _r: dlg.deleteLater())
        dlg.open()
        self._dialog = dlg

    def set_file(self, what: str, path: Path) -> None:
        if what == "imports":
            self._add_trades(path)
            return
        if what == "fx":
            self.fx = path
        else:
            self.opening = path
        self._show_files()

    def _add_trades(self, path: Path) -> None:
        """A trades file in the generic format is added at once; another export's columns are
        matched first, in a dialog the user confirms (guesses filled in)."""
        try:
            with path.open("rb") as fh:
                header = read_header(fh.readline())
        except OSError as exc:
            self._show_error(_("The file could not be read: {error}").format(error=exc.strerror or str(exc)))
            return
        lower = {h.lower() for h in header}
        if all(c in lower for c in REQUIRED_TRADE_COLUMNS):
            self._accept_trades(path, None)
            return
        dlg = ColumnMapDialog(self, path.name, header, guess_columns(header))
        dlg.accepted.connect(lambda: self._accept_trades(path, dlg.mapping()))
        dlg.finished.connect(lambda _r: dlg.deleteLater())
        dlg.open()
        self.mapping_dialog = dlg

    def _accept_trades(self, path: Path, mapping: dict[str, str] | None) -> None:
        if mapping is not None:
            self.columns[path] = mapping
        if path not in self.imports:
            self.imports.append(path)
        self._show_error("")
        self._show_files()

    def _choose_folder(self) -> None:
        dlg = QFileDialog(self, _("Folder for the report files"), str(Path.home()))
        dlg.setFileMode(QFileDialog.FileMode.Directory)
        dlg.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dlg.fileSelected.connect(lambda p: self.export(Path(p)))
        dlg.finished.connect(lambda _r: dlg.deleteLater())
        dlg.open()
        self._dialog = dlg

    # -- the report -------------------------------------------------------------------------------
    def settings(self) -> ReportSettings:
        return ReportSettings(
            self.year.value(), Method(self.method.currentData()), self.currency.currentData(), self.fallback.isChecked()
        )

    @asyncSlot()
    async def run(self) -> TaxReport | None:
        """Make the report in a worker thread (its own database connection); the window goes on."""
        if self._task is not None and not self._task.done():
            return None
        settings = self.settings()
        self._show_error("")
        self.status.setText(_("Making the report…"))
        self.run_btn.setEnabled(False)
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        loop = asyncio.get_running_loop()

        def progress(done: int, total: int) -> None:
            loop.call_soon_threadsafe(self._progress, done, total)

        store = self.ctx.session.store
        imports, fx, opening, columns = list(self.imports), self.fx, self.opening, dict(self.columns)

        def work() -> TaxReport:
            reader = Store(store.engine, store.engine.connect())
            try:
                return make_report(
                    settings,
                    store=reader,
                    imports=imports,
                    fx=fx,
                    opening_prices=opening,
                    progress=progress,
                    file_columns=columns,
                )
            finally:
                reader.connection.close()

        self._task = loop.run_in_executor(_WORKER, work)
        try:
            report = await self._task
        except ImportFailed as exc:
            self.status.setText("")
            rows = [f"{e.file}:{e.line}: {_(e.template).format(**e.params)}" for e in exc.errors[:20]]
            self._show_error("\n".join([*rows, _("Nothing was imported: correct the rows above and run again.")]))
            return None
        except TaxInputError as exc:
            self.status.setText("")
            self._show_error(_(exc.template).format(**exc.params))
            return None
        finally:
            self.run_btn.setEnabled(True)
            self.progress.setVisible(False)
        self.report = report
        self.export_btn.setEnabled(True)
        self._show_report()
        return report

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setStyleSheet(f"color: {colors().sell};")
        self.error.setVisible(bool(text))

    def _progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    @asyncSlot(object)
    async def export(self, folder: Path) -> list[Path]:
        """Write the CSV files and the summaries in English and Korean (in a worker thread)."""
        report = self.report
        if report is None:
            return []
        try:
            paths = await asyncio.get_running_loop().run_in_executor(_WORKER, write_report, report, folder)
        except OSError as exc:
            self._show_error(_("The files could not be written: {error}").format(error=exc.strerror or str(exc)))
            return []
        self._show_error("")
        self.status.setText(_("{count} files saved in {folder}").format(count=len(paths), folder=str(folder)))
        return paths


def _gain_text(panel: TaxPanel) -> Callable[[Disposal], str]:
    def text(d: Disposal) -> str:
        g = d.gain
        return panel._words().money(g) if g is not None else "—"

    return text


def _gain_color(d: Disposal) -> str | None:
    g = d.gain
    if g is None:
        return colors().warning
    return colors().buy if g > 0 else colors().sell if g < 0 else None


COLUMN_NAMES = {
    "time": N_("Time (ISO-8601 with a zone)"),
    "venue": N_("Venue (exchange)"),
    "symbol": N_("Market (BASE/QUOTE)"),
    "side": N_("Side (buy or sell)"),
    "quantity": N_("Quantity"),
    "price": N_("Price"),
    "fee": N_("Fee"),
    "fee_currency": N_("Fee currency"),
}


class ColumnMapDialog(QDialog):
    """Which of a file's columns holds each of ours: filled with guesses, confirmed by the user
    (shown with ``open()``, the window goes on)."""

    def __init__(self, parent: QWidget, name: str, header: list[str], guess: dict[str, str]) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Columns of {name}").format(name=name))
        self.combos: dict[str, QComboBox] = {}
        form = QFormLayout()
        note = QLabel(_("Which column of the file holds each item? Check the guesses."))
        note.setWordWrap(True)
        for ours in TRADE_COLUMNS:
            box = QComboBox()
            box.addItem(_("(none)") if ours not in REQUIRED_TRADE_COLUMNS else "", "")
            for h in header:
                box.addItem(h, h)
            box.setCurrentIndex(max(0, box.findData(guess.get(ours, ""))))
            box.currentIndexChanged.connect(self._check)
            self.combos[ours] = box
            form.addRow(_(COLUMN_NAMES[ours]), box)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(note)
        lay.addLayout(form)
        lay.addWidget(self.buttons)
        self._check()

    def mapping(self) -> dict[str, str]:
        return {ours: box.currentData() for ours, box in self.combos.items() if box.currentData()}

    def _check(self) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(all(self.combos[c].currentData() for c in REQUIRED_TRADE_COLUMNS))
