"""The window in Korean has no English left (issue 7, item 18): every label, button, tab, header,
placeholder, tooltip, menu, chart label and log line a user can see."""

from __future__ import annotations

import re
from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QDockWidget,
    QGroupBox,
    QLabel,
    QLineEdit,
    QTabBar,
    QToolBar,
    QWidget,
)

from app.domain.enums import OrderType, Side
from app.domain.order import OrderRequest
from app.engine.alerts import AlertKind
from app.i18n import _
from app.ui import theme

D = Decimal
# Words that stay as they are in a Korean trading app: tickers, order flags, indicator names.
ALLOWED = {
    "BTC",
    "USDT",
    "ETH",
    "GTC",
    "IOC",
    "FOK",
    "OCO",
    "SMA",
    "EMA",
    "BB",
    "VWAP",
    "RSI",
    "MACD",
    "ID",
    "API",
    "sim",
    "English",
    "Binance",
    "Coinbase",
    "Kraken",
    "Upbit",
}
WORD = re.compile(r"[A-Za-z]{2,}")


def english_words(text: str) -> list[str]:
    """Words of English in ``text``; order ids ("agmx5bjk7x0001"), paths and tickers do not count."""
    words = []
    for token in re.sub(r"\{\w+\}", "", text).split():
        if any(ch.isdigit() for ch in token) or token.count("/") > 1 or "\\" in token:
            continue
        words += [w for w in WORD.findall(token) if w not in ALLOWED]
    return words


def texts(root: QWidget) -> list[tuple[str, str]]:
    """(where, text) of everything a user can read in ``root``, visible now or a tab away."""
    out: list[tuple[str, str]] = []
    for w in [root, *root.findChildren(QWidget)]:
        name = type(w).__name__
        if w.toolTip():
            out.append((f"{name} tooltip", w.toolTip()))
        if isinstance(w, QLabel | QAbstractButton):
            out.append((name, w.text()))
        elif isinstance(w, QComboBox):
            out += [(f"{name} item", w.itemText(i)) for i in range(w.count())]
            out += [(f"{name} item tip", w.itemData(i, Qt.ItemDataRole.ToolTipRole) or "") for i in range(w.count())]
        elif isinstance(w, QLineEdit):
            out.append((f"{name} placeholder", w.placeholderText()))
        elif isinstance(w, QTabBar):
            out += [(name, w.tabText(i)) for i in range(w.count())]
        elif isinstance(w, QDockWidget):
            out.append((name, w.windowTitle()))
        elif isinstance(w, QGroupBox):
            out.append((name, w.title()))
        if isinstance(w, QAbstractItemView) and w.model() is not None:
            m = w.model()
            out += [
                (f"{name} header", str(m.headerData(i, Qt.Orientation.Horizontal) or ""))
                for i in range(m.columnCount())
            ]
            out += [
                (f"{name} cell", str(m.data(m.index(r, c)) or ""))
                for r in range(min(m.rowCount(), 20))
                for c in range(m.columnCount())
            ]
    for tb in root.findChildren(QToolBar):
        out += [("toolbar", a.text()) for a in tb.actions()]
    return out


def english(found: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(where, t) for where, t in found if english_words(t)]


def test_the_korean_window_has_no_english_left(gui, qtbot):
    w = gui.window
    om = gui.session.orders
    gui.run(om.submit(OrderRequest("sim", "BTC/USDT", Side.BUY, OrderType.MARKET, D("0.1"))))
    gui.run(
        om.submit(
            OrderRequest(
                "sim", "BTC/USDT", Side.BUY, OrderType.STOP_LIMIT, D("0.1"), price=D("60510"), stop_price=D("60500")
            )
        )
    )
    gui.ctx.alerts.add("BTC/USDT", AlertKind.CROSS_ABOVE, price=D("60500"))
    gui.market("60001")
    gui.pump(0.2)
    w.set_language("ko")
    try:
        gui.pump(0.1)
        w.ticket.set_kind("bracket")
        found = texts(w)
        found += [("chart legend", w.chart.legend_text())]
        found += [("chart label", lab.text) for lab in w.chart.labels.labels.values()]
        found += [("status bar", w.statusBar().currentMessage())]
        # The activity log's sentences are the user's language; values the engine fills in (its
        # words for a fill) are the engine's to translate.
        found += [("activity", _(e.template)) for e in w.activity.events if e.template]
        found += [("alerts list", t) for t in (w.alerts.model.columns[0].text(a) for a in w.alerts.model.rows)]
        found += [("chart menu", a.text()) for a in w.chart.price_menu(60_000.0).actions()]
        bad = english(found)
        assert bad == [], "\n".join(f"{w}: {t!r}" for w, t in bad)
    finally:
        w.set_language("en")
        theme.apply_font(qtbot_app(), "en")


def qtbot_app():
    from PySide6.QtWidgets import QApplication

    return QApplication.instance()


def test_settings_in_korean(gui):
    gui.window.set_language("ko")
    try:
        dlg = gui.window.open_settings()
        bad = english(texts(dlg))
        dlg.reject()
        assert bad == [], "\n".join(f"{w}: {t!r}" for w, t in bad)
    finally:
        gui.window.set_language("en")
