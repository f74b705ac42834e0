"""The trading window: chart in the middle, ticket/book/trades on the right, orders, portfolio,
risk, alerts and activity in docks; a status bar with connection, latency and the mode badge."""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable
from decimal import Decimal

from PySide6.QtCore import QByteArray, QPoint, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QGuiApplication,
    QKeySequence,
    QResizeEvent,
    QShortcut,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QCompleter,
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QScrollArea,
    QSystemTrayIcon,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from qasync import asyncSlot

from app import i18n
from app.domain.enums import OrderType, Side, TradingState
from app.domain.errors import AppError
from app.domain.market import Bar, Trade
from app.domain.order import Fill, Order, OrderRequest
from app.engine.alerts import AlertKind, Notification
from app.i18n import _, fmt_decimal

from . import dialogs, theme
from .banner import StateBanner
from .chart import ChartWidget, OrderLine
from .context import UiContext
from .jobs import JobBar
from .panels.activity import ActivityPanel
from .panels.alerts import AlertsPanel
from .panels.backtest import BacktestPanel
from .panels.book import BookPanel, TradesPanel
from .panels.markets import MarketsPanel
from .panels.orders import OrdersPanel
from .panels.portfolio import PortfolioPanel
from .panels.risk import RiskPanel
from .panels.signals import SignalsPanel
from .panels.tax import TaxPanel
from .panels.ticket import OrderTicket
from .settings_dialog import DEFAULT_HOTKEYS, HOTKEY_ACTIONS, HOTKEYS_SETTING, SettingsDialog
from .toasts import Toasts
from .venue_status import connect_error_text
from .venue_tools import VenueTools, credential_store
from .words import message_text, order_type_text, side_text


def notification_text(n: Notification) -> str:
    return message_text("", n.template, n.params) if n.template else n.text(_)


log = logging.getLogger(__name__)
TIMEFRAMES = ("1m", "5m", "15m", "1h", "4h", "1d")
HISTORY_BARS = 1500


# Initial sizes (width, height): docks open at their content's size hint.
DOCK_SIZES = {
    "ticket": (360, 400),
    "book": (360, 300),
    "trades": (360, 300),
    "markets": (360, 300),
    "orders": (900, 210),
    "portfolio": (900, 210),
    "risk": (900, 210),
    "alerts": (900, 210),
    "activity": (900, 210),
    "signals": (900, 210),
    "backtest": (900, 260),
    "tax": (900, 210),
}
RIGHT_W = 360  # the ticket and book column at the first start


class _Sized(QWidget):
    """Holds a panel and tells the dock layout the size the panel should start at."""

    def __init__(self, inner: QWidget, w: int, h: int, scroll: bool = True) -> None:
        super().__init__()
        self.inner = inner
        self._hint = QSize(w, h)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        if not scroll:  # the panel scrolls what it must itself (the ticket keeps its submit in view)
            lay.addWidget(inner)
            return
        # A scroll area, so a tall panel (risk, alerts) cannot force its dock area to grow.
        area = QScrollArea()
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.Shape.NoFrame)
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        area.setWidget(inner)
        lay.addWidget(area)

    def sizeHint(self) -> QSize:
        return self._hint


class ChartPanel(QWidget):
    """The chart with its indicator switches."""

    def __init__(self, ctx: UiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.chart = ChartWidget()
        self.buttons: dict[str, QToolButton] = {}
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 0)
        for name, label in (
            ("sma", "SMA 20"),
            ("ema", "EMA 50"),
            ("bollinger", "BB 20"),
            ("vwap", "VWAP"),
            ("rsi", "RSI 14"),
            ("macd", "MACD"),
        ):
            b = QToolButton()
            b.setText(label)
            b.setCheckable(True)
            b.toggled.connect(lambda on, n=name: self.chart.set_indicator(n, on))
            bar.addWidget(b)
            self.buttons[name] = b
        bar.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addLayout(bar)
        lay.addWidget(self.chart, 1)


class MainWindow(QMainWindow):
    closed = Signal()

    def __init__(self, ctx: UiContext, *, theme_name: str = "dark", data_dir: str = "") -> None:
        super().__init__()
        self.ctx = ctx
        self.theme_name = theme_name
        self.data_dir = data_dir
        self.creds = credential_store(data_dir or None)
        self.setObjectName("MainWindow")
        # The first start fits the screen (a 1280×720 laptop included); later starts restore the layout.
        screen = QGuiApplication.primaryScreen()
        avail = screen.availableGeometry() if screen is not None else None
        self.resize(min(1600, avail.width()) if avail else 1600, min(980, avail.height()) if avail else 980)
        # The ticket and book column runs the full height, beside the chart and the tables.
        self.setCorner(Qt.Corner.TopRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self._laid_out = False
        self.chart_panel = ChartPanel(ctx)
        self.chart = self.chart_panel.chart
        self.chart_panel.setMinimumHeight(200)
        self.banner = StateBanner()
        self.banner.rearmRequested.connect(self.ask_rearm)
        central = QWidget()
        central_lay = QVBoxLayout(central)
        central_lay.setContentsMargins(0, 0, 0, 0)
        central_lay.setSpacing(0)
        central_lay.addWidget(self.banner)
        central_lay.addWidget(self.chart_panel, 1)
        self.setCentralWidget(central)
        self.ticket = OrderTicket(ctx)
        self.book = BookPanel(ctx)
        self.trades = TradesPanel(ctx)
        self.markets = MarketsPanel(ctx)
        self.orders = OrdersPanel(ctx)
        self.portfolio = PortfolioPanel(ctx)
        self.risk = RiskPanel(ctx)
        self.alerts = AlertsPanel(ctx)
        self.activity = ActivityPanel(ctx)
        self.signals = SignalsPanel(ctx)
        self.backtest = BacktestPanel(ctx)
        self.tax = TaxPanel(ctx)
        self.docks: dict[str, QDockWidget] = {}
        right, bottom = Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.BottomDockWidgetArea
        self._dock("ticket", self.ticket, right)
        self._dock("book", self.book, right)
        self._dock("trades", self.trades, right)
        self._dock("markets", self.markets, right)
        self.tabifyDockWidget(self.docks["book"], self.docks["trades"])
        self.tabifyDockWidget(self.docks["book"], self.docks["markets"])
        self.docks["book"].raise_()
        self._dock("orders", self.orders, bottom)
        self._dock("portfolio", self.portfolio, bottom)
        self._dock("risk", self.risk, bottom)
        self._dock("alerts", self.alerts, bottom)
        self._dock("activity", self.activity, bottom)
        self._dock("signals", self.signals, bottom)
        self._dock("backtest", self.backtest, bottom)
        self._dock("tax", self.tax, bottom)
        for name in ("portfolio", "risk", "alerts", "activity", "signals", "backtest", "tax"):
            self.tabifyDockWidget(self.docks["orders"], self.docks[name])
        self.docks["orders"].raise_()
        self._toolbar()
        self._statusbar()
        self._wire()
        self.venue_tools = VenueTools(self)  # exchange picker, history download, per-venue status
        self.ticket.heightWanted.connect(self._ticket_height)
        self.tray = QSystemTrayIcon(self) if QSystemTrayIcon.isSystemTrayAvailable() else None
        if self.tray is not None:
            self.tray.setIcon(self.style().standardIcon(self.style().StandardPixmap.SP_ComputerIcon))
            self.tray.show()
        self._unlisten = i18n.on_language_changed(lambda _l: self.retranslate())
        self._laid_out = self.restore_layout()
        self.retranslate()
        if self.ctx.orders.instruments:  # built after the session started (tests, benchmarks)
            self.markets.load()

    # -- construction -----------------------------------------------------------------------------
    def _dock(self, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> None:
        d = QDockWidget(self)
        d.setObjectName(f"dock_{name}")
        d.setWidget(_Sized(widget, *DOCK_SIZES[name], scroll=name not in ("ticket", "book", "trades", "markets")))
        d.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.addDockWidget(area, d)
        self.docks[name] = d

    def _toolbar(self) -> None:
        tb = QToolBar()
        tb.setObjectName("main_toolbar")
        tb.setMovable(False)
        self.addToolBar(tb)
        self.venue_label = QLabel()
        tb.addWidget(self.venue_label)
        self.symbol = QComboBox()
        self.symbol.setEditable(True)
        self.symbol.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.symbol.setMinimumWidth(140)
        self.refresh_symbols()
        self.symbol.activated.connect(lambda _i: self.ctx.selection.set_symbol(self.symbol.currentText()))
        tb.addWidget(self.symbol)
        self.tf_group = QActionGroup(self)
        self.tf_actions: dict[str, QAction] = {}
        for tf in TIMEFRAMES:
            a = QAction(tf, self)
            a.setCheckable(True)
            a.setChecked(tf == self.ctx.selection.timeframe)
            a.triggered.connect(lambda _c=False, t=tf: self.ctx.selection.set_timeframe(t))
            self.tf_group.addAction(a)
            tb.addAction(a)
            self.tf_actions[tf] = a
        tb.addSeparator()
        self.last_label = QLabel()
        self.last_label.setMinimumWidth(140)
        tb.addWidget(self.last_label)
        spacer = QWidget()
        spacer.setSizePolicy(spacer.sizePolicy().horizontalPolicy().Expanding, spacer.sizePolicy().verticalPolicy())
        tb.addWidget(spacer)
        self.theme_action = QAction(self)
        self.theme_action.triggered.connect(self.toggle_theme)
        tb.addAction(self.theme_action)
        self.lang_combo = QComboBox()
        for code, name in i18n.LANGUAGES.items():
            self.lang_combo.addItem(name, code)
        self.lang_combo.setCurrentIndex(self.lang_combo.findData(i18n.language()))
        self.lang_combo.currentIndexChanged.connect(lambda _i: self.set_language(self.lang_combo.currentData()))
        tb.addWidget(self.lang_combo)
        self.settings_action = QAction(self)
        self.settings_action.triggered.connect(self.open_settings)
        tb.addAction(self.settings_action)

    def refresh_symbols(self) -> None:
        """The symbols the venue lists (none until the session has started)."""
        syms = sorted({s for (v, s) in self.ctx.orders.instruments if v == self.ctx.venue})
        self.symbol.blockSignals(True)
        self.symbol.clear()
        self.symbol.addItems(syms)
        completer = QCompleter(syms, self.symbol)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.symbol.setCompleter(completer)
        self.symbol.setCurrentText(self.ctx.selection.symbol)
        self.symbol.blockSignals(False)

    async def start_session(self, default_symbol: str = "BTC/USDT") -> bool:
        """Start the engine behind the window already on screen (connect, load instruments,
        reconcile), with progress in the status bar; then fill the panels and load the history."""
        try:
            started = await self.jobs.run(
                _("Connecting to {venue}…").format(venue=self.ctx.venue), self.ctx.session.start(), cancellable=False
            )
        except AppError as exc:  # no network, a refused key: said in the status bar, not a traceback
            log.warning("starting the session failed: %s", exc.message)
            why = connect_error_text(exc)
            self.say(lambda: _("Could not connect to {venue}: {why}").format(venue=self.ctx.venue, why=why), 0)
            return False
        if started is None:
            return False
        sel = self.ctx.selection
        listed = {s for (v, s) in self.ctx.orders.instruments if v == self.ctx.venue}
        if sel.symbol not in listed:
            sel.symbol = default_symbol if default_symbol in listed else min(listed, default="")
        self.session_started()
        log.info("session started")
        await self.load_history_now()
        log.info("history shown")
        return True

    def session_started(self) -> None:
        """Instruments, open orders and limits are known now: show them."""
        self.refresh_symbols()
        self.markets.load()
        self.orders.reload()
        self.risk.load_limits()
        self.portfolio.refresh()
        self.retranslate()

    def _statusbar(self) -> None:
        sb = self.statusBar()
        self.conn_label = QLabel()
        self.latency_label = QLabel()
        self.mode_badge = QLabel()
        self.mode_badge.setObjectName("mode_badge")
        self.state_label = QLabel()  # HALTED / REDUCING ONLY, beside the connection state
        self.state_label.setVisible(False)
        self.jobs = JobBar()
        sb.addPermanentWidget(self.jobs)
        sb.addPermanentWidget(self.state_label)
        sb.addPermanentWidget(self.conn_label)
        sb.addPermanentWidget(self.latency_label)
        sb.addPermanentWidget(self.mode_badge)
        self._latency_ms: float | None = None
        self._status_text: Callable[[], str] | None = None
        sb.messageChanged.connect(self._status_cleared)
        self._status_timer = QTimer(self)
        self._status_timer.setInterval(1000)
        self._status_timer.timeout.connect(self._update_status)
        self._status_timer.start()

    def _wire(self) -> None:
        b, sel = self.ctx.bridge, self.ctx.selection
        b.barUpdated.connect(self.on_bar)
        b.tradesUpdated.connect(self.on_trades)
        b.orderUpdated.connect(lambda _o: self.refresh_order_lines())
        b.fillReceived.connect(self.on_fill)
        b.notification.connect(self.on_notification)
        b.riskStateChanged.connect(self._update_state)
        b.reconciled.connect(
            lambda e: self.say(
                lambda: _("Reconciled with {venue}: {n} change(s)").format(venue=e.venue, n=len(e.changes)), 8000
            )
        )
        sel.symbolChanged.connect(lambda _s: self.load_history())
        sel.timeframeChanged.connect(lambda _t: self.load_history())
        self.chart.priceClicked.connect(lambda p: sel.priceClicked.emit(Decimal(str(p))))
        self.chart.orderLineMoved.connect(self.on_line_moved)
        self.chart.orderCancelRequested.connect(self.cancel_from_chart)
        self.chart.alertRemoveRequested.connect(self.ctx.alerts.remove)
        b.alertsChanged.connect(lambda _e: self.refresh_alert_lines())
        sel.symbolChanged.connect(lambda _s: self.refresh_alert_lines())
        self.chart.priceAction.connect(self.on_price_action)
        self.signals.markersChanged.connect(lambda: self.signals.mark_chart(self.chart, sel.symbol))
        QShortcut(QKeySequence("Alt+B"), self, lambda: sel.sideRequested.emit("buy"))
        QShortcut(QKeySequence("Alt+S"), self, lambda: sel.sideRequested.emit("sell"))
        self.toasts = Toasts(self, bottom_margin=40, area=self._toast_area)
        self.hotkeys: dict[str, QShortcut] = {}
        saved = self.ctx.session.store.get_setting(HOTKEYS_SETTING) or {}
        self.set_hotkeys(saved.get("keys") or dict(DEFAULT_HOTKEYS), saved.get("value", ""), save=False)

    # -- data -------------------------------------------------------------------------------------
    @asyncSlot()
    async def load_history(self) -> None:
        await self.load_history_now()

    async def load_history_now(self) -> None:
        sel = self.ctx.selection
        if not self.ctx.orders.instruments:
            return  # not started yet: start_session loads it
        inst = self.ctx.instrument()
        # Live data for what is on screen (the feed ignores streams it already runs).
        self.ctx.session.feed.watch(self.ctx.session.venue, sel.symbol, sel.timeframe)
        try:
            bars = await self.jobs.run(
                _("Loading {symbol} {tf} history").format(symbol=sel.symbol, tf=sel.timeframe),
                self.ctx.session.venue.fetch_bars(sel.symbol, sel.timeframe, None, HISTORY_BARS),
            )
        except AppError as exc:  # the exchange out of reach: said in the status bar, the chart stays
            log.warning("loading the history of %s failed: %s", sel.symbol, exc.message)
            why = connect_error_text(exc)
            self.say(lambda: _("Could not load the history: {why}").format(why=why), 10_000)
            return
        if bars is None:  # cancelled
            return
        self.chart.set_bars(bars, float(inst.tick_size) if inst else 0.01)
        for f in self.ctx.session.store.load_fills(venue=self.ctx.venue, symbol=sel.symbol)[-500:]:
            self.chart.add_fill_marker(f.ts_ms, float(f.price), f.side.value)
        self.signals.mark_chart(self.chart, sel.symbol)
        self.refresh_order_lines()
        self.refresh_alert_lines()
        self.symbol.setCurrentText(sel.symbol)
        for tf, a in self.tf_actions.items():
            a.setChecked(tf == sel.timeframe)
        self.ticket.retranslate()

    def on_bar(self, bar: Bar) -> None:
        sel = self.ctx.selection
        if bar.symbol == sel.symbol and bar.timeframe == sel.timeframe:
            self.chart.update_from_bar(bar)

    def on_trades(self, symbol: str, trades: list[Trade]) -> None:
        if self.banner.stale is not None:  # data is back: say so now, not at the next status tick
            self._update_state()
        if trades:
            self._latency_ms = max(0.0, time.time() * 1000 - trades[-1].ts_ms)
        if symbol == self.ctx.selection.symbol and trades:
            inst = self.ctx.instrument()
            t = trades[-1]
            self.last_label.setText(f"{symbol}  {fmt_decimal(t.price, inst.price_decimals if inst else 2)}")
            self._update_position()

    def on_fill(self, fill: Fill, _order: Order) -> None:
        if fill.symbol == self.ctx.selection.symbol:
            self.chart.add_fill_marker(fill.ts_ms, float(fill.price), fill.side.value)
        self._update_position()

    def _update_position(self) -> None:
        p = self.ctx.session.portfolio.position(self.ctx.venue, self.ctx.selection.symbol)
        if p.quantity:
            self.chart.set_position(
                float(p.avg_cost), float(p.quantity), _("P&L {pnl}").format(pnl=fmt_decimal(p.unrealized_pnl, 2))
            )
        else:
            self.chart.set_position(None, 0.0, "")

    def refresh_order_lines(self) -> None:
        """Each working order as a line: at its limit price, and a dotted trigger line for a
        stop-limit or take-profit-limit; a trailing stop at its current trigger (it moves with the
        market, so it is not dragged). OCO legs and a bracket's exits move within their group; a
        bracket's entry is locked (cancel the bracket and place it again)."""
        inst = self.ctx.instrument()
        lines = []
        for o in self.ctx.orders.open_orders(self.ctx.venue, self.ctx.selection.symbol):
            base = f"{side_text(o.side)} {order_type_text(o.type)} {fmt_decimal(o.remaining)}"
            group = self.ctx.orders.order_list(o.list_id) if o.list_id else None
            locked = group is not None and o.client_order_id not in {x for pair in group.pairs() for x in pair}
            if group is not None:
                base += " · " + (_("OCO") if group.kind.value == "oco" else _("Bracket"))
            if o.type.value == "trailing_stop":
                px = o.trailing_trigger()
                if px is not None:
                    trail = fmt_decimal(o.trail_value or Decimal(0))
                    trail += (
                        " %" if o.trail_mode and o.trail_mode.value == "percent" else f" {inst.quote if inst else ''}"
                    )
                    lines.append(
                        OrderLine(
                            o.client_order_id,
                            o.side.value,
                            base + " · " + _("trails {d}").format(d=trail),
                            float(px),
                            draggable=False,
                            trigger=True,
                            locked=locked,
                        )
                    )
                continue
            if o.price is not None:
                lines.append(OrderLine(o.client_order_id, o.side.value, base, float(o.price), locked=locked))
            if o.stop_price is not None and o.type.has_trigger:
                label = base + " · " + _("trigger") if o.price is not None else base
                lines.append(
                    OrderLine(
                        o.client_order_id,
                        o.side.value,
                        label,
                        float(o.stop_price),
                        line_id=f"{o.client_order_id}#trigger" if o.price is not None else "",
                        trigger=o.price is not None,
                        locked=locked,
                        cancellable=o.price is None,
                    )
                )
        self.chart.set_order_lines(lines)

    def refresh_alert_lines(self) -> None:
        sym = self.ctx.selection.symbol
        lines = []
        for a in self.ctx.alerts.alerts.values():
            if a.active and a.symbol == sym and a.price is not None:
                text = _("Alert: crosses above") if a.kind is AlertKind.CROSS_ABOVE else _("Alert: crosses below")
                lines.append((a.alert_id, float(a.price), text))
        self.chart.set_alert_lines(lines)

    @asyncSlot(str)
    async def cancel_from_chart(self, client_order_id: str) -> None:
        """The ✕ on an order's label: cancel at once (an OCO or bracket leg cancels its group)."""
        await self.ctx.orders.cancel(client_order_id)
        self.refresh_order_lines()

    @asyncSlot(str, float)
    async def on_line_moved(self, line_id: str, price: float) -> None:
        """A line was dragged to ``price``: ask (without stopping the market), then move the order
        (its trigger when the line was a stop-limit's trigger line)."""
        client_order_id, _sep, which = line_id.partition("#")
        try:
            o = self.ctx.orders.get(client_order_id)
            inst = self.ctx.instrument()
            if o is None or not o.is_open or inst is None:
                return
            new = inst.round_price(Decimal(str(price)))
            moves_trigger = which == "trigger" or o.price is None
            old = o.stop_price if moves_trigger else o.price
            answer = await dialogs.ask(
                self,
                _("Move order"),
                _("Move {side} {type} {qty} from {old} to {new}?").format(
                    side=side_text(o.side),
                    type=order_type_text(o.type),
                    qty=fmt_decimal(o.remaining),
                    old=fmt_decimal(old or Decimal(0)),
                    new=fmt_decimal(new),
                ),
                accept=_("Move order"),
                reject=_("Keep it"),
            )
            o = self.ctx.orders.get(client_order_id)
            if answer and o is not None and o.is_open:
                if moves_trigger:
                    await self.ctx.orders.modify(client_order_id, stop_price=new)
                else:
                    await self.ctx.orders.modify(client_order_id, price=new)
        finally:
            self.chart.settle_order_line(line_id)
            self.refresh_order_lines()

    def on_price_action(self, action: str, price: float) -> None:
        inst = self.ctx.instrument()
        if inst is None:
            return
        px = inst.round_price(Decimal(str(price)))
        if action in ("buy", "sell"):
            self.ticket.set_kind("limit")
            self.ticket.set_side(Side(action))
            self.ticket.price.set_value(px)
            self.docks["ticket"].raise_()
            self.ticket.amount.setFocus()
            return
        last = self.ctx.last_price()
        kind = AlertKind.CROSS_ABOVE if last is None or px > last else AlertKind.CROSS_BELOW
        if self.alerts.existing(self.ctx.selection.symbol, kind, px) is not None:
            self.say(lambda: _("This alert exists already"), 5000)
            return
        self.ctx.alerts.add(self.ctx.selection.symbol, kind, price=px)
        self.say(lambda: _("Alert set at {price}").format(price=fmt_decimal(px)), 5000)

    def on_notification(self, n: Notification) -> None:
        self.say(lambda: f"{_(n.title)}: {notification_text(n)}", 10_000)
        self.toasts.show(n.kind, lambda: (_(n.title), notification_text(n)))
        if n.kind in ("alert", "rejection"):
            QApplication.beep()
            if self.tray is not None:
                self.tray.showMessage(_(n.title), notification_text(n))

    # -- hotkeys -----------------------------------------------------------------------------------
    def set_hotkeys(self, keys: dict[str, str], value: str, *, save: bool = True) -> None:
        """Keyboard shortcuts for what traders do in a hurry (see ``HOTKEY_ACTIONS``); ``value`` is
        the size of a hotkey market order in the quote currency (empty: those keys only say so)."""
        for sc in self.hotkeys.values():
            sc.setEnabled(False)
            sc.deleteLater()
        self.hotkeys = {}
        self.hotkey_keys = {a: k for a, k in keys.items() if a in HOTKEY_ACTIONS}
        self.hotkey_value = value
        handlers = {
            "cancel_all": self.hotkey_cancel_all,
            "close_position": self.hotkey_close,
            "market_buy": lambda: self.hotkey_market(Side.BUY),
            "market_sell": lambda: self.hotkey_market(Side.SELL),
        }
        for action, seq in self.hotkey_keys.items():
            if seq:
                self.hotkeys[action] = QShortcut(QKeySequence(seq), self, handlers[action])
        if save:
            self.ctx.session.store.set_setting(HOTKEYS_SETTING, {"keys": self.hotkey_keys, "value": value})

    @asyncSlot()
    async def hotkey_cancel_all(self) -> None:
        n = await self.ctx.orders.cancel_all(self.ctx.venue)
        self.say(lambda: _("Hotkey: cancelled {n} orders").format(n=n), 5000)

    @asyncSlot()
    async def hotkey_close(self) -> None:
        req = self.portfolio.close_request(self.ctx.selection.symbol)
        if req is None:
            self.say(
                lambda: _("Hotkey: no position in {symbol} to close").format(symbol=self.ctx.selection.symbol), 5000
            )
            return
        await self.ctx.orders.submit(req)

    @asyncSlot(object)
    async def hotkey_market(self, side: Side) -> None:
        """A market order worth the preset value (in the quote currency) at the last price."""
        inst, last = self.ctx.instrument(), self.ctx.last_price()
        try:
            value = Decimal(self.hotkey_value.replace(",", "")) if self.hotkey_value else None
        except ArithmeticError:
            value = None
        if value is None or value <= 0 or inst is None or last is None:
            self.say(lambda: _("Set the size of hotkey orders in Settings first"), 5000)
            return
        qty = inst.round_qty(value / last)
        await self.ctx.orders.submit(
            OrderRequest(self.ctx.venue, inst.symbol, side, OrderType.MARKET, qty, tag="hotkey")
        )

    def say(self, text: Callable[[], str], ms: int) -> None:
        """A status-bar message, kept as a function so a language switch can say it again."""
        self._status_text = text
        self.statusBar().showMessage(text(), ms)

    def _status_cleared(self, message: str) -> None:
        if not message:
            self._status_text = None

    def _update_status(self) -> None:
        sym = self.ctx.selection.symbol
        age = self.ctx.bridge.data_age_s(sym)
        fresh = age is not None and age < 5
        venue = self.ctx.venue
        c = theme.colors()
        self.conn_label.setText(
            ("● " + _("{venue}: connected") if fresh else "● " + _("{venue}: waiting for data")).format(venue=venue)
        )
        sheet = f"color: {c.buy if fresh else c.warning};"
        if self.conn_label.styleSheet() != sheet:
            self.conn_label.setStyleSheet(sheet)
        self.latency_label.setText(
            _("latency {ms} ms").format(ms=int(self._latency_ms))
            if self._latency_ms is not None and self.ctx.mode == "live"
            else ""
        )
        self._update_state()

    def _update_state(self, *_a: object) -> None:
        """HALTED / REDUCING ONLY and stale data: the banner over the chart and the status bar."""
        risk = self.ctx.orders.risk
        c = theme.colors()
        self.banner.show_state(risk.state, risk.state_reason)
        stale = self.ctx.stale_for()
        self.banner.show_stale(self.ctx.selection.symbol if stale is not None else None, stale)
        words = {TradingState.HALTED: _("HALTED"), TradingState.REDUCING: _("REDUCING ONLY")}.get(risk.state)
        self.state_label.setVisible(words is not None)
        if words is not None:
            color = c.sell if risk.state is TradingState.HALTED else c.warning
            self.state_label.setText(f"  {words}  ")
            sheet = f"background: {color}; color: white; font-weight: 800; padding: 2px 8px; border-radius: 3px;"
            if self.state_label.styleSheet() != sheet:
                self.state_label.setStyleSheet(sheet)

    @asyncSlot()
    async def ask_rearm(self) -> None:
        if await dialogs.ask(
            self, _("Re-arm trading"), _("Allow new orders again?"), accept=_("Re-arm trading"), reject=_("Stay halted")
        ):
            self.ctx.orders.rearm()
            self._update_state()

    # -- look and language -----------------------------------------------------------------------
    def retranslate(self) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            theme.apply_font(app, i18n.language())
            theme.apply_qt_language(app, i18n.language())
            self.chart.retranslate()  # after the font: the chart's own text uses the same family
        titles = {
            "ticket": _("Order ticket"),
            "book": _("Order book"),
            "trades": _("Trades"),
            "markets": _("Markets"),
            "orders": _("Orders"),
            "portfolio": _("Portfolio"),
            "risk": _("Risk"),
            "alerts": _("Alerts"),
            "activity": _("Activity"),
            "signals": _("Signals"),
            "backtest": _("Backtest"),
            "tax": _("Tax"),
        }
        for name, d in self.docks.items():
            d.setWindowTitle(titles[name])
        mode = self.ctx.mode
        self.setWindowTitle(f"AutoGrowth Trader — {mode.upper()}")
        c = theme.colors()
        badge = {"demo": (_("DEMO"), c.demo), "paper": (_("PAPER"), c.paper), "live": (_("LIVE"), c.live)}[mode]
        self.mode_badge.setText(f"  {badge[0]}  ")
        self.mode_badge.setStyleSheet(
            f"background: {badge[1]}; color: white; font-weight: 800; padding: 2px 10px;border-radius: 3px;"
        )
        self.venue_label.setText(" " + _("Venue: {venue}").format(venue=self.ctx.venue) + " ")
        self.theme_action.setText(_("Light theme") if self.theme_name == "dark" else _("Dark theme"))
        self.settings_action.setText(_("Settings"))
        for panel in (
            self.ticket,
            self.orders,
            self.portfolio,
            self.risk,
            self.alerts,
            self.activity,
            self.jobs,
            self.book,
            self.markets,
            self.signals,
            self.backtest,
            self.tax,
        ):
            panel.retranslate()
        self.toasts.retranslate()
        if self._status_text is not None:  # the message on the status bar, in the new language
            self.statusBar().showMessage(self._status_text(), 8000)
        self.refresh_order_lines()
        self.refresh_alert_lines()
        self._update_status()

    def set_language(self, code: str) -> None:
        if code and code != i18n.language():
            i18n.set_language(code)
            self.ctx.session.store.set_setting("ui.language", code)

    def toggle_theme(self) -> None:
        self.apply_theme("light" if self.theme_name == "dark" else "dark")

    def apply_theme(self, name: str) -> None:
        self.theme_name = name
        app = QApplication.instance()
        if isinstance(app, QApplication):
            theme.apply(app, name)
        self.chart.set_theme(name)
        self.portfolio.set_theme()
        self.backtest.set_theme()
        self.book.depth.set_theme()
        self.ctx.session.store.set_setting("ui.theme", name)
        self.retranslate()

    def open_settings(self) -> SettingsDialog:
        """Settings open beside the live window (``open()``, never ``exec()``); OK applies them."""
        inst = self.ctx.instrument()
        dlg = SettingsDialog(
            self,
            theme=self.theme_name,
            data_dir=self.data_dir,
            creds=self.creds,
            hotkeys=self.hotkey_keys,
            hotkey_value=self.hotkey_value,
            quote=inst.quote if inst else "",
        )

        def accepted() -> None:
            self.apply_theme(dlg.theme.currentData())
            self.lang_combo.setCurrentIndex(self.lang_combo.findData(dlg.language.currentData()))
            self.set_hotkeys(dlg.hotkey_keys(), dlg.hotkey_value.text().strip())

        dlg.accepted.connect(accepted)
        dlg.finished.connect(lambda _r: dlg.deleteLater())
        dlg.open()
        self._settings = dlg
        return dlg

    # -- layout -----------------------------------------------------------------------------------
    def save_layout(self) -> None:
        self.ctx.session.store.set_setting(
            "ui.window",
            {
                "geometry": base64.b64encode(bytes(self.saveGeometry().data())).decode(),
                "state": base64.b64encode(bytes(self.saveState().data())).decode(),
                "indicators": [n for n, b in self.chart_panel.buttons.items() if b.isChecked()],
                "symbol": self.ctx.selection.symbol,
                "timeframe": self.ctx.selection.timeframe,
            },
        )

    def restore_layout(self) -> bool:
        saved = self.ctx.session.store.get_setting("ui.window")
        if not saved:
            return False
        self.restoreGeometry(QByteArray(base64.b64decode(saved["geometry"])))
        self.restoreState(QByteArray(base64.b64decode(saved["state"])))
        for n in saved.get("indicators", []):
            if n in self.chart_panel.buttons:
                self.chart_panel.buttons[n].setChecked(True)
        return True

    def default_layout(self) -> None:
        """Dock sizes for the window's size: the ticket as tall as its form, the book below it, the
        tables low enough to leave the chart most of the height."""
        h = self.height()
        self.resizeDocks([self.docks["ticket"]], [RIGHT_W], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["orders"]], [max(170, min(250, int(h * 0.32)))], Qt.Orientation.Vertical)
        self._ticket_height(self.ticket.sizeHint().height(), force=True)

    def _ticket_height(self, want: int, force: bool = False) -> None:
        """The ticket's form grew (OCO, bracket) or shrank: give it that height from the book below
        (never more than 70 % of the column), unless one of them floats."""
        d, book = self.docks["ticket"], self.docks["book"]
        if not (self._laid_out or force) or d.isFloating() or book.isFloating():
            return
        # resizeDocks scales sizes to the room there is: pass the column's real height.
        total = d.height() + book.height() if d.isVisible() and book.isVisible() else self.height() - 100
        ticket_h = min(want + self._dock_chrome(), int(total * 0.7))
        if force or d.height() < ticket_h or d.height() > ticket_h + 40:
            self.resizeDocks([d, book], [ticket_h, max(0, total - ticket_h)], Qt.Orientation.Vertical)

    def _dock_chrome(self) -> int:
        """Height a dock adds around its panel (title bar, margins)."""
        d = self.docks["ticket"]
        chrome = d.height() - self.ticket.height() if d.isVisible() and self.ticket.height() > 0 else 0
        return chrome if 10 < chrome < 80 else 32

    def _toast_area(self) -> QRect:
        """The chart's area left of its price axis, in the window's coordinates."""
        c = self.chart_panel
        top_left = c.mapTo(self, QPoint(0, 0))
        axis = self.chart.price_plot.getAxis("right").width()
        return QRect(top_left, QSize(max(320, c.width() - int(axis)), c.height()))

    def resizeEvent(self, e: QResizeEvent) -> None:
        super().resizeEvent(e)
        self.toasts.place()

    def showEvent(self, e: QShowEvent) -> None:
        super().showEvent(e)
        if not self._laid_out:
            self._laid_out = True
            self.default_layout()

    def closeEvent(self, e: QCloseEvent) -> None:
        self.save_layout()
        self._unlisten()
        super().closeEvent(e)
        self.closed.emit()
