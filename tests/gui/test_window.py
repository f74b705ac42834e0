"""The window driven as a user would: ticket, book, orders, risk, alerts, languages."""

from __future__ import annotations

from decimal import Decimal

import pytest
from PySide6.QtCore import Qt

from app.domain.enums import OrderListKind, OrderStatus, OrderType, Side, TradingState

D = Decimal


def fill_ticket(gui, kind: str, side: Side = Side.BUY, **fields: str) -> None:
    t = gui.window.ticket
    t.set_side(side)
    t.set_kind(kind)
    for name, value in fields.items():
        getattr(t, name).setText(value)


def submit(gui, qtbot) -> None:
    t = gui.window.ticket
    assert t.submit_btn.isEnabled(), t.error.text()
    qtbot.mouseClick(t.submit_btn, Qt.MouseButton.LeftButton)
    gui.pump(0.1)


CASES = [
    ("market", Side.BUY, {"amount": "0.1"}, OrderType.MARKET),
    ("limit", Side.BUY, {"price": "59000", "amount": "0.1"}, OrderType.LIMIT),
    ("stop_market", Side.SELL, {"trigger": "59500", "amount": "0.1"}, OrderType.STOP_MARKET),
    ("stop_limit", Side.BUY, {"trigger": "60500", "price": "60510", "amount": "0.1"}, OrderType.STOP_LIMIT),
    ("take_profit_market", Side.SELL, {"trigger": "61000", "amount": "0.1"}, OrderType.TAKE_PROFIT_MARKET),
    (
        "take_profit_limit",
        Side.BUY,
        {"trigger": "59000", "price": "58990", "amount": "0.1"},
        OrderType.TAKE_PROFIT_LIMIT,
    ),
    ("trailing_stop", Side.SELL, {"trail": "100", "amount": "0.1"}, OrderType.TRAILING_STOP),
]


@pytest.mark.parametrize("kind,side,fields,otype", CASES)
def test_ticket_places_each_order_type(gui, qtbot, kind, side, fields, otype):
    fill_ticket(gui, kind, side, **fields)
    submit(gui, qtbot)
    orders = gui.store.load_orders()
    assert len(orders) == 1 and orders[0].type is otype and orders[0].side is side
    assert orders[0].status in (OrderStatus.NEW, OrderStatus.FILLED)
    assert gui.window.ticket.status.text() == "Order sent"


def test_ticket_places_an_oco_and_a_bracket(gui, qtbot):
    fill_ticket(gui, "oco", Side.SELL, price="60500", trigger="59500", amount="0.2")
    submit(gui, qtbot)
    fill_ticket(gui, "bracket", Side.BUY, take_profit="60800", trigger="59400", amount="0.2")
    gui.window.ticket.entry_kind.setCurrentIndex(0)  # market entry
    submit(gui, qtbot)
    kinds = sorted(ol.kind for ol in gui.session.orders.order_lists())
    assert kinds == [OrderListKind.OCO, OrderListKind.BRACKET] or kinds == [OrderListKind.BRACKET, OrderListKind.OCO]
    assert len(gui.session.orders.open_orders()) == 4  # OCO legs + bracket exits after the market entry


def test_amount_below_minimum_is_explained_and_submit_is_disabled(gui):
    fill_ticket(gui, "limit", Side.BUY, price="59000", amount="0.000001")
    t = gui.window.ticket
    assert not t.submit_btn.isEnabled()
    assert t.error.text() == "Amount 0.000001 is below the minimum 0.00001 BTC"
    assert t.amount.property("invalid") is True


def test_sell_oco_with_stop_above_last_shows_the_rule(gui):
    fill_ticket(gui, "oco", Side.SELL, price="60500", trigger="60200", amount="0.2")
    t = gui.window.ticket
    assert not t.submit_btn.isEnabled()
    assert "limit 60,500 > last 60,000 > stop 60,200" in t.error.text()


def test_amount_by_value_and_by_percent_of_balance(gui):
    t = gui.window.ticket
    fill_ticket(gui, "limit", Side.BUY, price="50000", amount="1000")
    t.amount_unit.setCurrentIndex(t.amount_unit.findData("quote"))
    assert t.build().quantity == D("0.02")
    t.set_side(Side.SELL)
    t.amount_unit.setCurrentIndex(t.amount_unit.findData("pct"))
    t.amount.setText("50")
    assert t.build().quantity == D("1")


def test_price_field_steps_by_the_tick(gui, qtbot):
    t = gui.window.ticket
    fill_ticket(gui, "limit", Side.BUY, price="59000")
    t.price.setFocus()
    qtbot.keyClick(t.price, Qt.Key.Key_Up)
    assert t.price.text() == "59000.01"


def test_clicking_the_book_fills_the_ticket_price(gui, qtbot):
    gui.window.ticket.set_kind("limit")
    gui.pump(0.05)
    view = gui.window.book.view
    row = gui.window.book.model.rowCount() - 1  # the lowest bid
    rect = view.visualRect(gui.window.book.model.index(row, 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert gui.window.ticket.price.text() == str(gui.window.book.model.price_at(row))


def test_cancel_selected_and_cancel_all_from_the_orders_panel(gui, qtbot):
    om = gui.session.orders
    for px in ("59000", "58000"):
        fill_ticket(gui, "limit", Side.BUY, price=px, amount="0.1")
        submit(gui, qtbot)
    panel = gui.window.orders
    assert panel.open_model.rowCount() == 2
    panel.open_view.selectRow(0)
    qtbot.mouseClick(panel.cancel_btn, Qt.MouseButton.LeftButton)
    gui.pump(0.1)
    assert len(om.open_orders()) == 1 and panel.open_model.rowCount() == 1
    qtbot.mouseClick(panel.cancel_all_btn, Qt.MouseButton.LeftButton)
    gui.pump(0.1)
    assert om.open_orders() == [] and panel.open_model.rowCount() == 0


def test_kill_switch_cancels_everything_and_halts(gui, qtbot):
    fill_ticket(gui, "limit", Side.BUY, price="59000", amount="0.1")
    submit(gui, qtbot)
    risk = gui.window.risk
    qtbot.mouseClick(risk.kill_btn, Qt.MouseButton.LeftButton)
    gui.pump(0.1)
    assert gui.session.orders.open_orders() == []
    assert gui.session.orders.risk.state is TradingState.HALTED
    assert "1 orders cancelled" in risk.effect.text()
    assert "HALTED" in risk.state.text()
    fill_ticket(gui, "limit", Side.BUY, price="59000", amount="0.1")
    assert "halted" in gui.window.ticket.error.text()
    qtbot.mouseClick(risk.rearm_btn, Qt.MouseButton.LeftButton)
    assert gui.session.orders.risk.state is TradingState.ACTIVE


def test_risk_limits_are_edited_in_the_panel(gui, qtbot):
    risk = gui.window.risk
    risk.edits["max_order_notional"].setText("1000")
    qtbot.mouseClick(risk.apply_btn, Qt.MouseButton.LeftButton)
    assert gui.session.orders.risk.limits.max_order_notional == D("1000")
    fill_ticket(gui, "limit", Side.BUY, price="59000", amount="0.1")
    # Money in risk messages carries its unit and grouped thousands (issue 7, item 16).
    assert gui.window.ticket.error.text() == "Order value 5,900 USDT is above the limit of 1,000 USDT per order"
    risk.edits["max_open_orders"].setText("abc")
    qtbot.mouseClick(risk.apply_btn, Qt.MouseButton.LeftButton)
    assert "enter a number above zero" in risk.message.text()


def test_price_alert_fires_and_survives_a_restart(gui, qtbot):
    panel = gui.window.alerts
    panel.value.setText("60100")
    qtbot.mouseClick(panel.add_btn, Qt.MouseButton.LeftButton)
    assert panel.model.rowCount() == 1
    gui.market("60050")
    gui.market("60150")
    gui.pump(0.05)
    assert panel.notes.rowCount() >= 1
    assert "crossed above 60100" in panel.notes.rows[0].message
    assert "crossed above 60,100" in gui.window.statusBar().currentMessage()
    stored = gui.store.get_setting("alerts")
    assert stored and stored[0]["fired_ms"] is not None


def test_fills_appear_on_the_chart_and_in_the_portfolio(gui, qtbot):
    before = gui.session.portfolio.position("sim", "BTC/USDT").quantity
    fill_ticket(gui, "market", Side.BUY, amount="0.5")
    submit(gui, qtbot)
    gui.pump(0.1)
    assert len(gui.window.chart._fills) == 1
    gui.window.portfolio.refresh()
    pos = gui.window.portfolio.positions.rows
    assert pos and pos[0].quantity >= before + D("0.5")  # (coins held before the first trade may count too)
    assert gui.window.orders.fills_model.rowCount() == 1


def test_switching_to_korean_translates_the_window(gui):
    gui.window.set_language("ko")
    try:
        assert gui.window.docks["ticket"].windowTitle() == "주문"
        assert gui.window.ticket.buy_btn.text() == "매수"
        fill_ticket(gui, "limit", Side.BUY, price="59000", amount="0.000001")
        assert "최소" in gui.window.ticket.error.text()
    finally:
        gui.window.set_language("en")
    assert gui.window.ticket.buy_btn.text() == "Buy"


def test_theme_and_window_layout_are_restored_at_the_next_start(gui):
    gui.window.chart_panel.buttons["rsi"].setChecked(True)
    gui.window.apply_theme("light")
    gui.window.save_layout()
    from app.ui.main_window import MainWindow

    again = MainWindow(gui.ctx, theme_name="light")
    try:
        assert again.chart_panel.buttons["rsi"].isChecked()
        assert gui.store.get_setting("ui.theme") == "light"
        assert again.theme_action.text() == "Dark theme"
    finally:
        again.close()
        gui.window.apply_theme("dark")


def test_live_mode_shows_a_warning_badge(gui):
    gui.ctx.mode = "live"
    gui.window.retranslate()
    assert gui.window.mode_badge.text().strip() == "LIVE"
    assert "#ff3b30" in gui.window.mode_badge.styleSheet()


def test_a_long_job_shows_progress_and_can_be_cancelled(gui):
    import asyncio

    jobs = gui.window.jobs

    async def slow() -> str:
        await asyncio.sleep(30)
        return "done"

    async def scenario() -> object:
        task = asyncio.ensure_future(jobs.run("Loading history", slow()))
        await asyncio.sleep(0.05)
        assert jobs.isVisible() and jobs.running and jobs.label.text() == "Loading history"
        jobs.cancel_btn.click()
        return await task

    assert gui.run(scenario()) is None
    assert not jobs.isVisible()


def test_engine_messages_reach_the_activity_panel_in_the_users_language(gui, qtbot):
    gui.window.set_language("ko")
    try:
        fill_ticket(gui, "market", Side.BUY, amount="0.1")
        submit(gui, qtbot)
        lines = gui.window.activity.lines()
        # The order and the fill in words are Korean too, not only the sentence around them.
        assert any("체결: BTC/USDT 0.1 매수 · 가격 60,000.5" in ln for ln in lines), lines
        assert not any("bought" in ln or " buy " in ln for ln in lines), lines
    finally:
        gui.window.set_language("en")


def test_a_new_timeframe_gets_its_own_live_bars(gui):
    gui.ctx.selection.set_timeframe("5m")
    gui.pump(0.1)
    assert ("sim", "BTC/USDT", "bars:5m") in gui.session.feed._tasks
    assert gui.window.tf_actions["5m"].isChecked()


def test_chart_menu_prepares_an_order_or_sets_an_alert_at_the_price(gui):
    chart = gui.window.chart
    menu = chart.price_menu(59_500.0)
    assert menu.actions()[0].text() == "Buy limit at 59,500.00"
    menu.actions()[1].trigger()  # sell limit
    t = gui.window.ticket
    assert t.current_kind() == "limit" and t.side is Side.SELL and t.price.text() == "59500"
    chart.price_menu(60_500.0).actions()[2].trigger()  # alert
    alerts = list(gui.ctx.alerts.alerts.values())
    assert len(alerts) == 1 and alerts[0].price == D("60500") and alerts[0].kind.value == "cross_above"


def test_coins_held_before_the_first_trade_show_an_estimated_cost_the_user_can_replace(gui):
    from app.ui import dialogs

    gui.session.orders.check_daily_loss()  # the engine's timer: the first price seen becomes the estimate
    panel = gui.window.portfolio
    panel.refresh()
    (row,) = [p for p in panel.positions.rows if p.symbol == "BTC/USDT"]
    assert row.estimated and row.quantity == D("2")
    index = panel.positions.index(0, panel.cost_column)
    assert "(estimated" in panel.positions.data(index)
    panel._position_clicked(index)
    gui.pump(0.1)
    (box,) = dialogs.open_inputs()
    box.setTextValue("30,000")
    box.accept()
    gui.pump(0.1)
    pos = gui.session.portfolio.position("sim", "BTC/USDT")
    assert pos.avg_cost == D("30000") and not pos.estimated
    assert panel.positions.data(panel.positions.index(0, panel.cost_column)) == "30,000.00"
