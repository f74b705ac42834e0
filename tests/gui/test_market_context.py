"""Market context (issue 7, item 17): a searchable watchlist, book grouping and depth, toasts for
fills and alerts, and hotkeys a trader sets."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Qt

from app.domain.enums import OrderType, Side
from app.domain.order import OrderRequest
from app.engine.alerts import AlertKind

D = Decimal


def test_the_watchlist_lists_symbols_follows_trades_and_switches_the_symbol(gui, qtbot):
    m = gui.window.markets
    gui.pump(0.1)
    assert [r.symbol for r in m.model.rows] == ["BTC/USDT", "ETH/USDT"]
    gui.market("3000", symbol="ETH/USDT")
    gui.market("3030", symbol="ETH/USDT")
    m._show()
    eth = m.rows["ETH/USDT"]
    assert eth.last == D("3030") and eth.high == D("3030") and eth.low == D("3000")
    m.search.setText("eth")
    assert [r.symbol for r in m.model.rows] == ["ETH/USDT"]
    rect = m.view.visualRect(m.model.index(0, 0))
    qtbot.mouseClick(m.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(m.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert gui.ctx.selection.symbol == "ETH/USDT"


def test_the_24h_change_comes_from_the_last_day_of_bars(gui):
    from app.ui.panels.markets import MarketRow

    row = MarketRow("BTC/USDT", last=D("61200"), open_24h=D("60000"))
    assert row.change_pct == D("2") and gui.window.markets.model.columns[2].text(row) == "+2.00 %"


def test_the_book_groups_prices_and_shows_depth(gui):
    book = gui.window.book
    gui.market("60000")  # the scripted book: 5 levels a side, 1 apart, around 60,000
    assert len(book.model.bids) == 5
    book.group.setCurrentIndex(book.group.findData(1000))  # steps of 10 (tick 0.01 × 1000)
    gui.market("60003")
    prices = [p for p, _q, _c in book.model.bids]
    assert all(p % 10 == 0 for p in prices) and sum(q for _p, q, _c in book.model.bids) == D("10")
    assert all(p % 10 == 0 for p, _q, _c in book.model.asks)
    book.depth_btn.setChecked(True)
    gui.market("60004")
    assert book.stack.currentWidget() is book.depth and book.depth.points() == (
        len(book.model.bids),
        len(book.model.asks),
    )


def test_fills_and_alerts_pop_up_as_toasts(gui):
    gui.ctx.alerts.add("BTC/USDT", AlertKind.CROSS_ABOVE, price=D("60050"))
    gui.run(gui.session.orders.submit(OrderRequest("sim", "BTC/USDT", Side.BUY, OrderType.MARKET, D("0.1"))))
    gui.market("60100")
    gui.pump(0.1)
    shown = gui.window.toasts.visible()
    kinds = [t.kind for t in shown]
    assert "fill" in kinds and "alert" in kinds
    alert = next(t for t in shown if t.kind == "alert")
    assert "60,050" in alert.text.text()
    win = gui.window
    assert all(t.geometry().right() <= win.width() and t.geometry().bottom() <= win.height() for t in shown)


def test_hotkeys_are_set_stored_and_act(gui):
    w = gui.window
    w.set_hotkeys(
        {"cancel_all": "Ctrl+Shift+X", "market_buy": "Ctrl+Alt+B", "market_sell": "", "close_position": "Ctrl+Shift+C"},
        "600",
    )
    assert w.hotkeys["market_buy"].key().toString() == "Ctrl+Alt+B" and "market_sell" not in w.hotkeys
    assert gui.store.get_setting("ui.hotkeys")["value"] == "600"
    w.hotkeys["market_buy"].activated.emit()
    gui.pump(0.2)
    (order,) = [o for o in gui.store.load_orders() if o.tag == "hotkey"]
    assert order.side is Side.BUY and order.quantity == D("0.01")  # 600 USDT at 60,000
    gui.run(
        gui.session.orders.submit(
            OrderRequest("sim", "BTC/USDT", Side.BUY, OrderType.LIMIT, D("0.1"), price=D("59000"))
        )
    )
    w.hotkeys["cancel_all"].activated.emit()
    gui.pump(0.2)
    assert gui.session.orders.open_orders() == []


def test_hotkeys_are_edited_in_settings(gui):
    dlg = gui.window.open_settings()
    dlg.hotkey_edits["market_sell"].setKeySequence("Ctrl+Alt+S")
    dlg.hotkey_value.setText("250")
    dlg.accept()
    gui.pump(0.05)
    assert gui.window.hotkeys["market_sell"].key().toString() == "Ctrl+Alt+S"
    assert gui.store.get_setting("ui.hotkeys") == {"keys": gui.window.hotkey_keys, "value": "250"}
