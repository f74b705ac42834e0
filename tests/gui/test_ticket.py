"""The ticket as a trader uses it every minute (issue 7): the side that is selected, HALTED shown at
once, prices that follow the symbol, names traders use, available funds, % of available, the
Last and best bid/ask buttons, the cost, and a second question when the data is stale."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QMessageBox

from app.domain.enums import Side, TradingState
from app.ui import theme

D = Decimal


def fill(gui, kind: str, side: Side = Side.BUY, **fields: str) -> None:
    t = gui.window.ticket
    t.set_side(side)
    t.set_kind(kind)
    for name, value in fields.items():
        getattr(t, name).setText(value)


def questions() -> list[QMessageBox]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]


def background(widget) -> QColor:
    """The colour a button is painted with, a few pixels in from its left edge (clear of the text)."""
    img = widget.grab().toImage()
    return img.pixelColor(6, img.height() // 2)


def test_the_selected_side_is_the_filled_one(gui):
    t = gui.window.ticket
    c = theme.colors()
    t.set_side(Side.BUY)
    assert background(t.buy_btn) == QColor(c.buy) and background(t.sell_btn) != QColor(c.sell)
    t.set_side(Side.SELL)
    assert background(t.sell_btn) == QColor(c.sell) and background(t.buy_btn) != QColor(c.buy)


def test_indicator_buttons_show_when_they_are_on(gui):
    b = gui.window.chart_panel.buttons["rsi"]
    off = background(b)
    b.setChecked(True)
    assert background(b) == QColor(theme.colors().accent) != off


def test_halted_is_shown_at_once_everywhere_and_cleared_by_rearming(gui, qtbot):
    fill(gui, "limit", price="59000", amount="0.1")
    t, w = gui.window.ticket, gui.window
    assert t.submit_btn.isEnabled() and not w.banner.isVisible()
    qtbot.mouseClick(w.risk.kill_btn, Qt.MouseButton.LeftButton)
    gui.pump(0.1)
    # No field edited: the ticket, the banner and the status bar know already.
    assert not t.submit_btn.isEnabled() and "halted" in t.error.text()
    assert w.banner.isVisible() and "HALTED" in w.banner.text()
    assert w.state_label.isVisible() and w.state_label.text().strip() == "HALTED"
    qtbot.mouseClick(w.banner.rearm_btn, Qt.MouseButton.LeftButton)
    gui.pump(0.05)
    (box,) = questions()
    next(b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.YesRole).click()
    gui.pump(0.1)
    assert gui.session.orders.risk.state is TradingState.ACTIVE
    assert t.submit_btn.isEnabled() and t.error.text() == ""
    assert not w.banner.isVisible() and not w.state_label.isVisible()


def test_stale_data_is_shown_and_orders_ask_twice(gui, qtbot):
    gui.ctx.stale_after_s = 0.0  # any pause counts as stale here
    fill(gui, "limit", price="59000", amount="0.1")
    gui.pump(0.05)
    gui.window._update_status()
    assert gui.window.banner.isVisible() and "No market data for BTC/USDT" in gui.window.banner.text()
    t = gui.window.ticket
    qtbot.mouseClick(t.submit_btn, Qt.MouseButton.LeftButton)
    gui.pump(0.1)
    (box,) = questions()
    assert "prices may have moved" in box.text()
    next(b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.NoRole).click()
    gui.pump(0.1)
    assert gui.session.orders.open_orders() == []
    qtbot.mouseClick(t.submit_btn, Qt.MouseButton.LeftButton)
    gui.pump(0.1)
    (box,) = questions()
    next(b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.YesRole).click()
    gui.pump(0.1)
    assert len(gui.session.orders.open_orders()) == 1


def test_switching_symbol_starts_from_the_new_symbols_price(gui):
    gui.market("3000", symbol="ETH/USDT")
    fill(gui, "limit", price="59000", amount="0.1")
    gui.ctx.selection.set_symbol("ETH/USDT")
    gui.pump(0.05)
    t = gui.window.ticket
    assert t.price.text() == "3000" and t.trigger.text() == ""
    assert "band" not in t.error.text()
    assert t.submit_btn.text() == "Buy ETH"


def test_bracket_fields_are_named_as_traders_name_them(gui):
    fill(gui, "bracket", take_profit="61000")
    t = gui.window.ticket
    labels = {key: label.text() for key, (label, w) in t.rows.items() if w.isVisibleTo(t)}
    assert labels["stop_price"] == "Stop-loss price" and labels["take_profit"] == "Take-profit price"
    assert t.error.text() == "Enter the stop-loss price"
    fill(gui, "oco", Side.SELL)
    labels = {key: label.text() for key, (label, w) in t.rows.items() if w.isVisibleTo(t)}
    assert labels["price"] == "Take-profit limit" and labels["stop_price"] == "Stop price"


def test_available_funds_percent_and_price_buttons(gui):
    t = gui.window.ticket
    fill(gui, "limit", Side.BUY)
    assert t.available.text() == "Available 100,000.00 USDT"
    t.last_btns["price"].click()
    assert t.price.text() == "60000"
    t.best_btn.click()  # buy: join the best bid (the scripted book is 1 wide around 60,000)
    assert t.price.text() == "59999.5"
    t.price.setText("50000")
    t.set_percent(50)  # half of 100,000 USDT at 50,000 with the 0.1 % fee: 0.999 BTC
    assert t.amount_unit.currentData() == "base" and t.build().quantity == D("0.99900")
    assert t.pct.value() == 50
    assert "cost 49,950.00 USDT" in t.estimate.text() and "fee ≈ 49.95 USDT" in t.estimate.text()
    t.set_side(Side.SELL)
    assert t.available.text() == "Available 2.00000 BTC" and t.best_btn.text() == "Ask"
    t.set_percent(25)
    assert t.build().quantity == D("0.5")


def test_the_submit_button_stays_in_view_in_a_short_dock(gui):
    dock = gui.window.docks["ticket"]
    dock.setFloating(True)
    for kind in ("oco", "bracket"):
        fill(gui, kind, Side.SELL)
        dock.resize(340, 300)
        gui.pump(0.05)
        t = gui.window.ticket
        pos = t.submit_btn.mapTo(t, t.submit_btn.rect().bottomLeft())
        assert t.submit_btn.isVisible() and pos.y() <= t.height(), (kind, pos.y(), t.height())
        assert not t.form_scroll.horizontalScrollBar().isVisible()
    dock.setFloating(False)
