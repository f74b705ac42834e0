"""The portfolio panel's suggested allocation: minimum variance and risk parity across the assets
the user holds, from their hourly price history, beside the current mix, with each one's expected
volatility. A suggestion only: nothing here places an order."""

from __future__ import annotations

from html import escape

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget
from qasync import asyncSlot

from app.domain.market import TIMEFRAME_MS
from app.i18n import _
from app.signals.allocation import AllocationError, Suggestion, align, suggest

from ..context import UiContext
from ..theme import colors

TIMEFRAME = "1h"
BARS = 720  # 30 days of hours
YEAR_MS = 365.25 * 86_400_000


def weights_text(assets: tuple[str, ...], w: np.ndarray) -> str:
    return " · ".join(f"{a} {x * 100:.1f}%" for a, x in zip(assets, w, strict=True))


class AllocationView(QWidget):
    def __init__(self, ctx: UiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.suggestion: Suggestion | None = None
        self._plain: list[str] = []
        self.button = QPushButton()
        self.button.clicked.connect(self.compute)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.lines = QLabel()
        self.lines.setWordWrap(True)
        self.lines.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.lines.setTextFormat(Qt.TextFormat.RichText)
        self.plot = pg.PlotWidget()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setMinimumHeight(110)
        self.bars: list[pg.BarGraphItem] = []
        self.note.setVisible(False)  # its text is the button's tooltip
        top = QHBoxLayout()
        top.addWidget(self.button)
        top.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(top)
        lay.addWidget(self.lines)
        lay.addWidget(self.plot, 1)
        self.retranslate()

    def held_assets(self) -> dict[str, float]:
        """Assets held with a market in the valuation currency, by their value now."""
        pf, v = self.ctx.session.portfolio, self.ctx.venue
        out: dict[str, float] = {}
        for asset, total in sorted(pf.balances.get(v, {}).items()):
            if asset == pf.ccy or total <= 0 or (v, f"{asset}/{pf.ccy}") not in self.ctx.orders.instruments:
                continue
            px = pf.price_of(asset)
            out[asset] = float(total * px) if px is not None else 0.0
        return out

    @asyncSlot()
    async def compute(self) -> Suggestion | None:
        """Fetch each held asset's hourly closes and suggest; the reason is said when it cannot."""
        held = self.held_assets()
        ccy = self.ctx.session.portfolio.ccy
        self.button.setEnabled(False)
        self.lines.setText(_("Reading the price history…"))
        try:
            series: dict[str, dict[int, float]] = {}
            for asset in held:
                bars = await self.ctx.session.venue.fetch_bars(f"{asset}/{ccy}", TIMEFRAME, None, BARS)
                series[asset] = {b.open_ms: float(b.close) for b in bars if b.closed}
            s = suggest(align(series), YEAR_MS / TIMEFRAME_MS[TIMEFRAME], current=held)
        except AllocationError as exc:
            self.lines.setText(self._refusal(exc, len(held)))
            return None
        except Exception as exc:  # the venue could not give the history
            self.lines.setText(_("The price history could not be read: {error}").format(error=str(exc)))
            return None
        finally:
            self.button.setEnabled(True)
        self.show_suggestion(s)
        return s

    def _refusal(self, exc: AllocationError, held: int) -> str:
        if held < 2:
            return _("Hold at least two assets that trade against {ccy} to get a suggestion.").format(
                ccy=self.ctx.session.portfolio.ccy
            )
        return _("No suggestion: {why}").format(why=_(str(exc)))

    def show_suggestion(self, s: Suggestion) -> None:
        self.suggestion = s
        c = colors()
        rows = []
        if s.current is not None and s.current_vol is not None:
            now = _("Now: {weights} — expected volatility {vol}% a year")
            rows.append(
                (c.muted, now.format(weights=weights_text(s.assets, s.current), vol=f"{s.current_vol * 100:.1f}"))
            )
        mv = _("Minimum variance: {weights} — expected volatility {vol}% a year")
        rows.append(
            (c.accent, mv.format(weights=weights_text(s.assets, s.min_variance), vol=f"{s.min_variance_vol * 100:.1f}"))
        )
        rp = _("Risk parity: {weights} — expected volatility {vol}% a year")
        rows.append(
            (c.buy, rp.format(weights=weights_text(s.assets, s.risk_parity), vol=f"{s.risk_parity_vol * 100:.1f}"))
        )
        self._plain = [text for _c, text in rows]
        self._plain.append(_("From {n} hourly returns. A suggestion only: no order is placed.").format(n=s.bars))
        html = [f'<span style="color:{color}">■</span> {escape(text)}' for color, text in rows]
        html.append(escape(self._plain[-1]))
        self.lines.setText("<br>".join(html))
        self._draw()

    def text(self) -> str:
        """The suggestion as plain text (what a user reads beside the plot)."""
        return "\n".join(self._plain)

    def _draw(self) -> None:
        s = self.suggestion
        for item in self.bars:
            self.plot.removeItem(item)
        self.bars.clear()
        if s is None:
            return
        c = colors()
        x = np.arange(len(s.assets), dtype=float)
        groups = [(_("Now"), s.current, c.muted), (_("Minimum variance"), s.min_variance, c.accent)]
        groups.append((_("Risk parity"), s.risk_parity, c.buy))
        shown = [(name, w, color) for name, w, color in groups if w is not None]
        width = 0.8 / len(shown)
        for k, (_name, w, color) in enumerate(shown):
            assert w is not None
            item = pg.BarGraphItem(
                x=x - 0.4 + width * (k + 0.5), height=w * 100, width=width * 0.9, brush=pg.mkBrush(color), pen=None
            )
            self.plot.addItem(item)
            self.bars.append(item)
        self.plot.getAxis("bottom").setTicks([[(float(i), a) for i, a in enumerate(s.assets)]])
        self.plot.setYRange(0, 100)
        self.plot.setLabel("left", "%")

    def set_theme(self) -> None:
        c = colors()
        self.plot.setBackground(c.panel)
        for axis in ("left", "bottom"):
            self.plot.getAxis(axis).setTextPen(pg.mkPen(c.muted))
            self.plot.getAxis(axis).setPen(pg.mkPen(c.border))
        self._draw()

    def retranslate(self) -> None:
        self.button.setText(_("Suggest an allocation"))
        self.note.setText(_("Minimum variance and risk parity across what you hold, from 30 days of hourly prices."))
        self.button.setToolTip(self.note.text())
        if self.suggestion is not None:
            self.show_suggestion(self.suggestion)
