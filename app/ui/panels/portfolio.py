"""Portfolio: balances, positions with average cost and P&L, allocation, and the equity curve."""

from __future__ import annotations

from decimal import Decimal

import pyqtgraph as pg
from PySide6.QtCore import QModelIndex, Qt, QTimer
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget
from qasync import asyncSlot

from app.domain.enums import OrderType, Side
from app.domain.order import OrderRequest
from app.domain.portfolio import Position
from app.engine.events import EquityPoint
from app.i18n import _, fmt_decimal

from .. import dialogs
from ..context import UiContext
from ..format import fmt_amount
from ..models import Column, RowsModel, make_table
from ..theme import colors
from .portfolio_allocation import AllocationView

ZERO = Decimal(0)


def _avg_cost(p: Position) -> str:
    text = fmt_decimal(p.avg_cost, 2)
    return _("{cost} (estimated, click to edit)").format(cost=text) if p.estimated else text


def _pnl_color(v: Decimal) -> str | None:
    return colors().buy if v > 0 else colors().sell if v < 0 else None


class PortfolioPanel(QWidget):
    def __init__(self, ctx: UiContext) -> None:
        super().__init__()
        self.ctx = ctx
        pf = ctx.session.portfolio
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.balances = RowsModel(
            [
                Column(lambda: _("Asset"), lambda r: r[0]),
                Column(lambda: _("Total"), lambda r: fmt_amount(r[1], ctx.places(r[0])), True),
                Column(lambda: _("Available"), lambda r: fmt_amount(r[2], ctx.places(r[0]), down=True), True),
                Column(
                    lambda: _("Value ({ccy})").format(ccy=ctx.session.portfolio.ccy),
                    lambda r: fmt_decimal(r[3], 2) if r[3] is not None else "—",
                    True,
                ),
                Column(lambda: _("Allocation"), lambda r: f"{r[4]:.1f}%" if r[4] is not None else "—", True),
            ],
            key=lambda r: r[0],
        )
        self.positions = RowsModel(
            [
                Column(lambda: _("Symbol"), lambda p: p.symbol),
                Column(lambda: _("Position"), lambda p: fmt_decimal(p.quantity), True),
                Column(lambda: _("Avg cost"), _avg_cost, True, lambda p: colors().muted if p.estimated else None),
                Column(lambda: _("Mark"), lambda p: fmt_decimal(p.mark, 2) if p.mark is not None else "—", True),
                Column(
                    lambda: _("Unrealized P&L"),
                    lambda p: fmt_decimal(p.unrealized_pnl, 2),
                    True,
                    lambda p: _pnl_color(p.unrealized_pnl),
                ),
                Column(
                    lambda: _("Realized P&L"),
                    lambda p: fmt_decimal(p.realized_pnl, 2),
                    True,
                    lambda p: _pnl_color(p.realized_pnl),
                ),
                Column(lambda: _("Fees"), lambda p: fmt_decimal(p.fees, 2), True),
                Column(lambda: "", lambda p: _("Close") if p.quantity else "", color=lambda p: colors().warning),
            ],
            key=lambda p: p.symbol,
        )
        self.close_column = len(self.positions.columns) - 1
        self.cost_column = 2
        self.curve_plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem()})
        self.curve_plot.setMinimumHeight(120)
        self.curve_plot.showGrid(x=False, y=False)
        self.curve_plot.setMenuEnabled(False)
        self.curve = self.curve_plot.plot(pen=pg.mkPen(colors().accent, width=1))
        self._equity: list[tuple[int, float]] = [(t, float(e)) for t, e in ctx.session.store.load_equity(ctx.venue)]
        # Tables on the left, the equity curve on the right: all visible in a low dock.
        tables = QSplitter(Qt.Orientation.Vertical)
        # Columns as wide as their headers and numbers (never "nrealized P&"); a narrow dock scrolls.
        tables.addWidget(make_table(self.balances, stretch=False))
        self.positions_view = make_table(self.positions, stretch=False)
        self.positions_view.clicked.connect(self._position_clicked)
        tables.addWidget(self.positions_view)
        self.allocation = AllocationView(ctx)  # a suggested mix (minimum variance, risk parity)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(tables)
        split.addWidget(self.curve_plot)
        split.addWidget(self.allocation)
        # The tables get the room their columns need (no sideways scrolling at 1280×720); the curve the rest.
        split.setStretchFactor(0, 5)
        split.setStretchFactor(1, 2)
        split.setStretchFactor(2, 3)
        split.setSizes([650, 260, 380])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.summary)
        lay.addWidget(split, 1)
        ctx.bridge.portfolioChanged.connect(lambda _v: self.refresh())
        ctx.bridge.equityPoint.connect(self.on_equity)
        # Marks move with every trade: refresh P&L twice a second, not per tick.
        self._timer = QTimer(self)
        self._timer.setInterval(500)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self.pf = pf
        self.set_theme()
        self.refresh()

    def refresh(self) -> None:
        pf, v, om = self.pf, self.ctx.venue, self.ctx.orders
        equity = pf.equity(v)
        rows = []
        for asset, total in sorted(pf.balances.get(v, {}).items()):
            px = pf.price_of(asset)
            value = total * px if px is not None else None
            share = float(value / equity * 100) if value is not None and equity else None
            rows.append((asset, total, om.available(v, asset), value, share))
        self.balances.set_rows(rows)
        positions: list[Position] = [p for p in pf.positions(v) if p.quantity != ZERO or p.realized_pnl != ZERO]
        self.positions.set_rows(positions)
        unreal = sum((p.unrealized_pnl for p in positions), ZERO)
        real = sum((p.realized_pnl for p in positions), ZERO)
        self.summary.setText(
            _("Equity {equity} {ccy} · unrealized {u} · realized {r} · today {d}").format(
                equity=fmt_decimal(equity, 2),
                ccy=pf.ccy,
                u=fmt_decimal(unreal, 2),
                r=fmt_decimal(real, 2),
                d=fmt_decimal(self.ctx.session.risk.daily_pnl, 2),
            )
        )
        if pf.equity_known(v) and (not self._equity or len(self._equity) < 2):
            now = self.ctx.session.clock.now_ms()
            if not self._equity or now - self._equity[-1][0] > 5_000:
                self._equity.append((now, float(equity)))  # a point to draw before the first minute's sample
        self._draw()

    def _position_clicked(self, index: QModelIndex) -> None:
        if index.row() >= len(self.positions.rows):
            return
        if index.column() == self.close_column:
            self.close_position(self.positions.rows[index.row()].symbol)
        elif index.column() == self.cost_column and self.positions.rows[index.row()].estimated:
            self.edit_cost(self.positions.rows[index.row()].symbol)

    @asyncSlot(str)
    async def edit_cost(self, symbol: str) -> None:
        """Coins held before the app saw them bought carry an estimated cost: the user's own one
        replaces it (for P&L and the tax report)."""
        inst = self.ctx.orders.instruments.get((self.ctx.venue, symbol))
        if inst is None:
            return
        pos = self.pf.position(self.ctx.venue, symbol)
        cost = await dialogs.ask_number(
            self,
            _("Cost of coins held before"),
            _("What did one {base} cost you, in {quote}? (The estimate is the first price the app saw.)").format(
                base=inst.base, quote=inst.quote
            ),
            fmt_decimal(pos.avg_cost, inst.price_decimals),
        )
        if cost is None:
            self.summary.setText(_("The cost was not changed: enter a price above zero"))
            return
        self.ctx.orders.set_cost_basis(self.ctx.venue, inst.base, cost)
        self.refresh()

    def close_request(self, symbol: str) -> OrderRequest | None:
        """A market order that closes the position in ``symbol``: sells what is held (never more
        than is available), buys back what is short."""
        v = self.ctx.venue
        inst = self.ctx.orders.instruments.get((v, symbol))
        pos = self.pf.position(v, symbol)
        if inst is None or not pos.quantity:
            return None
        if pos.quantity > 0:
            qty, side = inst.round_qty(min(pos.quantity, self.ctx.available(inst.base))), Side.SELL
        else:
            qty, side = inst.round_qty(-pos.quantity), Side.BUY
        if qty <= 0:
            return None
        return OrderRequest(v, symbol, side, OrderType.MARKET, qty, reduce_only=True, tag="close")

    @asyncSlot(str)
    async def close_position(self, symbol: str) -> None:
        req = self.close_request(symbol)
        if req is None:
            self.summary.setText(
                _("Nothing to close in {symbol}: the coins are held by open orders").format(symbol=symbol)
            )
            return
        base = symbol.split("/")[0]
        text = (
            _("Sell {qty} {base} at market to close the {symbol} position?")
            if req.side is Side.SELL
            else _("Buy {qty} {base} at market to close the {symbol} position?")
        ).format(qty=fmt_decimal(req.quantity), base=base, symbol=symbol)
        if await dialogs.ask(
            self, _("Close position"), text, accept=_("Close position"), reject=_("Keep it"), danger=True
        ):
            await self.ctx.orders.submit(req)

    def on_equity(self, e: EquityPoint) -> None:
        if e.venue == self.ctx.venue:
            self._equity.append((e.ts_ms, float(e.equity)))
            self._draw()

    def _draw(self) -> None:
        if self._equity:
            xs = [t / 1000 for t, _e in self._equity]
            ys = [e for _t, e in self._equity]
            self.curve.setData(xs, ys)

    def set_theme(self) -> None:
        c = colors()
        self.curve_plot.setBackground(c.panel)
        self.curve.setPen(pg.mkPen(c.accent, width=1))
        for axis in ("left", "bottom"):
            self.curve_plot.getAxis(axis).setTextPen(pg.mkPen(c.muted))
            self.curve_plot.getAxis(axis).setPen(pg.mkPen(c.border))
        self.allocation.set_theme()

    def retranslate(self) -> None:
        self.allocation.retranslate()
        self.balances.refresh()
        self.positions.refresh()
        self.refresh()
