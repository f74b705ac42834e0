"""A question on screen never stops the market: trades, the book and candles keep arriving while a
confirmation is open and after it is answered (issue 7, item 1)."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from app.domain.enums import Side, TradingState
from app.domain.market import Bar

D = Decimal
T0 = 1_722_000_000_000 - 1_722_000_000_000 % 60_000


def questions() -> list[QMessageBox]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]


def answer(box: QMessageBox, yes: bool) -> None:
    roles = (
        (QMessageBox.ButtonRole.YesRole, QMessageBox.ButtonRole.AcceptRole)
        if yes
        else (QMessageBox.ButtonRole.NoRole, QMessageBox.ButtonRole.RejectRole)
    )
    button = next(b for b in box.buttons() if box.buttonRole(b) in roles)
    button.click()


def bar(gui, minute: int, close: str) -> None:
    px = D(close)
    gui.session.bus.publish(Bar("sim", "BTC/USDT", "1m", T0 + minute * 60_000, px, px + 5, px - 5, px, D("1")))


def assert_market_flows(gui, price: str, minute: int) -> None:
    """A trade, a book and a candle at ``price`` reach the trades panel, the toolbar and the chart."""
    before = gui.window.trades.model.rowCount()
    gui.market(price)
    bar(gui, minute, price)
    gui.pump(0.1)
    trades = gui.window.trades.model
    assert trades.rowCount() > before or trades.rowCount() == trades.max_rows
    assert trades.rows[0].price == D(price)
    assert f"{D(price):,.2f}" in gui.window.last_label.text()
    assert gui.window.chart.series.c[gui.window.chart.series.n - 1] == float(price)


def place_limit(gui, qtbot, price: str) -> str:
    t = gui.window.ticket
    t.set_side(Side.BUY)
    t.set_kind("limit")
    t.price.setText(price)
    t.amount.setText("0.1")
    qtbot.mouseClick(t.submit_btn, Qt.MouseButton.LeftButton)
    gui.pump(0.1)
    (order,) = gui.session.orders.open_orders()
    return order.client_order_id


def test_market_keeps_flowing_while_an_order_move_is_confirmed(gui, qtbot, modal_watchdog):
    cid = place_limit(gui, qtbot, "59000")
    assert_market_flows(gui, "60001", 0)
    gui.window.chart.orderLineMoved.emit(cid, 59500.0)  # what releasing a dragged line does
    gui.pump(0.1)
    (box,) = questions()
    assert "59,500" in box.text() and "59,000" in box.text()
    for i, px in enumerate(("60002", "60003", "60004")):
        assert_market_flows(gui, px, 1 + i)  # while the question is on screen
    answer(box, yes=True)
    gui.pump(0.2)
    (moved,) = gui.session.orders.open_orders()
    assert moved.price == D("59500")
    assert_market_flows(gui, "60005", 5)  # and after it is answered
    assert modal_watchdog.closed == 0


def test_declining_a_move_keeps_the_order_and_the_feed(gui, qtbot):
    cid = place_limit(gui, qtbot, "59000")
    gui.window.chart.orderLineMoved.emit(cid, 58000.0)
    gui.pump(0.1)
    (box,) = questions()
    assert_market_flows(gui, "60010", 1)
    answer(box, yes=False)
    gui.pump(0.1)
    (kept,) = gui.session.orders.open_orders()
    assert kept.client_order_id == cid and kept.price == D("59000")
    assert gui.window.chart.order_line(cid).value() == 59000.0  # the line goes back
    assert_market_flows(gui, "60011", 2)


def test_market_keeps_flowing_while_the_kill_switch_asks_to_close_positions(gui, qtbot, modal_watchdog):
    before = gui.session.portfolio.position("sim", "BTC/USDT").quantity
    t = gui.window.ticket
    t.set_kind("market")
    t.amount.setText("0.5")
    qtbot.mouseClick(t.submit_btn, Qt.MouseButton.LeftButton)
    gui.pump(0.1)
    # (the engine may also count the coins held before the first trade as part of the position)
    assert gui.session.portfolio.position("sim", "BTC/USDT").quantity >= before + D("0.5")
    risk = gui.window.risk
    risk.flatten.setChecked(True)
    qtbot.mouseClick(risk.kill_btn, Qt.MouseButton.LeftButton)
    gui.pump(0.1)
    (box,) = questions()
    for i, px in enumerate(("60020", "60021")):
        assert_market_flows(gui, px, 1 + i)
    answer(box, yes=True)
    gui.pump(0.2)
    assert gui.session.orders.risk.state is TradingState.HALTED
    assert gui.session.portfolio.position("sim", "BTC/USDT").quantity == 0
    assert_market_flows(gui, "60022", 3)
    assert modal_watchdog.closed == 0


def test_a_live_order_is_confirmed_without_stopping_the_market(gui, qtbot):
    gui.ctx.mode, gui.ctx.confirm_orders = "live", True
    t = gui.window.ticket
    t.set_kind("limit")
    t.price.setText("59000")
    t.amount.setText("0.1")
    qtbot.mouseClick(t.submit_btn, Qt.MouseButton.LeftButton)
    gui.pump(0.1)
    (box,) = questions()
    assert gui.session.orders.open_orders() == []
    assert_market_flows(gui, "60030", 1)
    box.checkBox().setChecked(True)  # don't ask again this session
    answer(box, yes=True)
    gui.pump(0.2)
    assert len(gui.session.orders.open_orders()) == 1 and gui.ctx.confirm_orders is False
    assert_market_flows(gui, "60031", 2)


def test_an_unexpected_error_shows_one_dialog_and_blocks_nothing(gui, tmp_path):
    import sys

    from app.ui.app import _install_excepthook

    old = sys.excepthook
    _install_excepthook(tmp_path / "autogrowth.log")
    try:
        for _i in range(3):  # a burst of errors: one dialog, the rest go to the log
            try:
                raise ValueError("boom")
            except ValueError:
                sys.excepthook(*sys.exc_info())
        (box,) = questions()
        assert str(tmp_path / "autogrowth.log") in box.text()
        assert_market_flows(gui, "60040", 1)
        answer(box, yes=True)
        gui.pump(0.05)
        assert questions() == []
    finally:
        sys.excepthook = old


def test_settings_open_beside_the_live_window(gui):
    dlg = gui.window.open_settings()
    gui.pump(0.05)
    assert dlg.isVisible()
    assert_market_flows(gui, "60050", 1)
    dlg.theme.setCurrentIndex(dlg.theme.findData("light"))
    dlg.accept()
    gui.pump(0.05)
    assert gui.window.theme_name == "light"
    gui.window.apply_theme("dark")
    assert_market_flows(gui, "60051", 2)
