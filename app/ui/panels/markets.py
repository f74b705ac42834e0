"""Markets: a watchlist of the venue's symbols with last price, 24 h change, high, low and volume,
searchable; a double-click (or Enter) shows that symbol everywhere."""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal

from PySide6.QtWidgets import QLineEdit, QVBoxLayout, QWidget
from qasync import asyncSlot

from app.domain.market import Trade
from app.i18n import _, fmt_decimal

from ..context import UiContext
from ..models import Column, RowsModel, make_table
from ..theme import colors

DAY_MS = 86_400_000
# An exchange lists thousands of markets: 24 h figures by REST for the watched ones and the first few
# others only (each is a request under the exchange's rate limit, queued before the user's orders).
MAX_24H_REQUESTS = 40


@dataclass(slots=True)
class MarketRow:
    symbol: str
    last: Decimal | None = None
    open_24h: Decimal | None = None
    high: Decimal | None = None
    low: Decimal | None = None
    volume: Decimal = Decimal(0)
    places: int = 2

    @property
    def change_pct(self) -> Decimal | None:
        if self.last is None or not self.open_24h:
            return None
        return (self.last / self.open_24h - 1) * 100

    def on_trade(self, t: Trade) -> None:
        self.last = t.price
        self.high = t.price if self.high is None else max(self.high, t.price)
        self.low = t.price if self.low is None else min(self.low, t.price)
        self.volume += t.quantity


def _px(r: MarketRow, v: Decimal | None) -> str:
    return "—" if v is None else fmt_decimal(v, r.places)


def _change(r: MarketRow) -> str:
    c = r.change_pct
    return "—" if c is None else f"{'+' if c > 0 else ''}{fmt_decimal(c, 2)} %"


def _change_color(r: MarketRow) -> str | None:
    c = r.change_pct
    return None if c is None or c == 0 else (colors().buy if c > 0 else colors().sell)


class MarketsPanel(QWidget):
    def __init__(self, ctx: UiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.search = QLineEdit()
        self.search.setClearButtonEnabled(True)
        self.model = RowsModel(
            [
                Column(lambda: _("Symbol"), lambda r: r.symbol),
                Column(lambda: _("Last"), lambda r: _px(r, r.last), True, _change_color),
                Column(lambda: _("24h change"), _change, True, _change_color),
                Column(lambda: _("24h high"), lambda r: _px(r, r.high), True),
                Column(lambda: _("24h low"), lambda r: _px(r, r.low), True),
                Column(lambda: _("24h volume"), lambda r: fmt_decimal(r.volume, 2), True),
            ],
            key=lambda r: r.symbol,
        )
        self.view = make_table(self.model, stretch=False, rows=True)
        self.view.doubleClicked.connect(lambda i: self.choose(i.row()))
        self.view.activated.connect(lambda i: self.choose(i.row()))
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.search)
        lay.addWidget(self.view)
        self.rows: dict[str, MarketRow] = {}
        self._dirty = False
        self._last_draw = 0.0
        self.search.textChanged.connect(lambda _t: self._show())
        self.search.returnPressed.connect(lambda: self.choose(0))
        ctx.bridge.tradesUpdated.connect(self.on_trades)
        self.retranslate()

    def retranslate(self) -> None:
        self.search.setPlaceholderText(_("Search symbol"))
        self.model.refresh()

    @asyncSlot()
    async def load(self) -> None:
        """The venue's symbols with their last 24 hours (from hourly bars); trades keep them current."""
        venue = self.ctx.session.venue
        watched = {*self.ctx.session.symbols, self.ctx.selection.symbol}
        ranked = sorted(self.ctx.instruments(), key=lambda i: (i.symbol not in watched, i.symbol))
        for inst in ranked:
            self.rows.setdefault(inst.symbol, MarketRow(inst.symbol, places=inst.price_decimals))
        for inst in ranked[:MAX_24H_REQUESTS]:
            row = self.rows[inst.symbol]
            try:
                bars = await venue.fetch_bars(inst.symbol, "1h", None, 24)
            except Exception:  # a symbol without history still lists, with dashes
                bars = []
            if bars:
                row.open_24h = bars[0].open
                row.high = max(b.high for b in bars)
                row.low = min(b.low for b in bars)
                row.volume = sum((b.volume for b in bars), Decimal(0))
                row.last = row.last or bars[-1].close
        self._show()

    def on_trades(self, symbol: str, trades: list[Trade]) -> None:
        row = self.rows.get(symbol)
        if row is None:
            return
        for t in trades:
            row.on_trade(t)
        now = time.monotonic()
        if now - self._last_draw > 0.5:  # a watchlist needs no more than two redraws a second
            self._last_draw = now
            self._show()

    def _show(self) -> None:
        text = self.search.text().strip().upper()
        rows = [r for s, r in sorted(self.rows.items()) if text in s.upper()]
        current = {r.symbol for r in self.model.rows}
        if current == {r.symbol for r in rows}:
            for r in rows:
                self.model.upsert(r)
        else:
            self.model.set_rows(rows)

    def choose(self, row: int) -> None:
        if 0 <= row < len(self.model.rows):
            self.ctx.selection.set_symbol(self.model.rows[row].symbol)
