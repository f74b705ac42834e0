"""The strip over the chart that says what stops or endangers trading right now: HALTED (kill
switch), REDUCING ONLY (daily loss limit), and stale market data. Nothing to say: it is hidden."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout

from app.domain.enums import TradingState
from app.i18n import _

from .theme import colors


class StateBanner(QFrame):
    rearmRequested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("banner")
        self.state_line = QLabel()
        self.stale_line = QLabel()
        for lbl in (self.state_line, self.stale_line):
            lbl.setWordWrap(True)
            lbl.setTextFormat(Qt.TextFormat.PlainText)
            lbl.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.rearm_btn = QPushButton()
        self.rearm_btn.setObjectName("banner_button")
        self.rearm_btn.clicked.connect(self.rearmRequested.emit)
        lines = QVBoxLayout()
        lines.setContentsMargins(0, 0, 0, 0)
        lines.setSpacing(2)
        lines.addWidget(self.state_line)
        lines.addWidget(self.stale_line)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(10, 5, 10, 5)
        lay.addLayout(lines, 1)
        lay.addWidget(self.rearm_btn, 0, Qt.AlignmentFlag.AlignVCenter)
        self.state = TradingState.ACTIVE
        self.reason = ""
        self.stale: tuple[str, float] | None = None
        self.setVisible(False)

    def show_state(self, state: TradingState, reason: str = "") -> None:
        self.state, self.reason = state, reason
        self.refresh()

    def show_stale(self, symbol: str | None, seconds: float | None = None) -> None:
        """Market data for ``symbol`` is ``seconds`` old (``inf``: none yet); None: it is fresh."""
        self.stale = None if symbol is None or seconds is None else (symbol, seconds)
        self.refresh()

    def text(self) -> str:
        return "\n".join(t for t in (self.state_line.text(), self.stale_line.text()) if t)

    def refresh(self) -> None:
        c = colors()
        if self.state is TradingState.HALTED:
            self.state_line.setText(_("Trading HALTED by the kill switch: no new orders until you re-arm trading."))
        elif self.state is TradingState.REDUCING:
            why = _("the daily loss limit was reached") if self.reason == "daily_loss" else self.reason
            self.state_line.setText(
                _("Trading REDUCING ONLY ({why}): only orders that make a position smaller are accepted.").format(
                    why=why
                )
            )
        else:
            self.state_line.setText("")
        if self.stale is None:
            self.stale_line.setText("")
        else:
            sym, secs = self.stale
            self.stale_line.setText(
                _("No market data for {symbol} yet: prices are unknown; orders ask for a second confirmation.").format(
                    symbol=sym
                )
                if secs == float("inf")
                else _(
                    "No market data for {symbol} for {s} s: prices may be out of date; orders ask for a second "
                    "confirmation."
                ).format(symbol=sym, s=int(secs))
            )
        self.state_line.setVisible(bool(self.state_line.text()))
        self.stale_line.setVisible(bool(self.stale_line.text()))
        self.rearm_btn.setText(_("Re-arm trading"))
        self.rearm_btn.setVisible(self.state is not TradingState.ACTIVE)
        color = c.sell if self.state is TradingState.HALTED else c.warning
        sheet = (
            f"QFrame#banner {{ background: {color}; }} QFrame#banner QLabel {{ color: white; "
            f"font-weight: 700; }} QPushButton#banner_button {{ background: white; color: {color}; "
            f"border: none; font-weight: 700; padding: 4px 12px; }}"
        )
        if sheet != self.styleSheet():  # a new style sheet re-polishes the banner: only when it changes
            self.setStyleSheet(sheet)
        self.setVisible(bool(self.text()))
