"""Orders as the window draws and lists them (issue 7, items 7, 10, 14 and 16): both prices of a
stop-limit on the chart, a trailing stop's trigger and distance, locked group legs, a ✕ and a
Cancel on each order, a Close on each position, alerts on the chart."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from app.domain.enums import OrderType, Side, TrailingMode
from app.domain.order import OrderRequest
from app.domain.order_list import BracketRequest, OcoRequest
from app.engine.alerts import AlertKind

D = Decimal


def place(gui, req):
    order = gui.run(gui.session.orders.submit(req))
    gui.pump(0.1)
    assert order is not None
    return order


def questions() -> list[QMessageBox]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]


def yes(gui) -> None:
    (box,) = questions()
    next(b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.YesRole).click()
    gui.pump(0.2)


def cell(model, row: int, title: str) -> str:
    col = next(i for i, c in enumerate(model.columns) if c.title() == title)
    return model.columns[col].text(model.rows[row])


def test_a_stop_limit_shows_its_trigger_and_its_limit_and_either_can_be_dragged(gui):
    o = place(
        gui,
        OrderRequest(
            "sim", "BTC/USDT", Side.BUY, OrderType.STOP_LIMIT, D("0.1"), price=D("60510"), stop_price=D("60500")
        ),
    )
    chart = gui.window.chart
    assert chart.order_line(o.client_order_id).value() == 60510.0
    trigger = chart.order_line(f"{o.client_order_id}#trigger")
    assert trigger.value() == 60500.0 and trigger.pen.style() == Qt.PenStyle.DotLine
    chart.orderLineMoved.emit(f"{o.client_order_id}#trigger", 60600.0)
    gui.pump(0.1)
    assert "60,500" in questions()[0].text() and "60,600" in questions()[0].text()
    yes(gui)
    (moved,) = gui.session.orders.open_orders()
    assert moved.stop_price == D("60600") and moved.price == D("60510")


def test_a_trailing_stop_lists_its_trigger_price_and_its_distance_apart(gui):
    place(
        gui,
        OrderRequest(
            "sim",
            "BTC/USDT",
            Side.SELL,
            OrderType.TRAILING_STOP,
            D("0.1"),
            trail_mode=TrailingMode.AMOUNT,
            trail_value=D("200"),
        ),
    )
    gui.market("60100")
    model = gui.window.orders.open_model
    assert cell(model, 0, "Trail") == "200 USDT"
    assert cell(model, 0, "Trigger") in ("59,900.00", "59,800.00")  # a price under the market, not "200"


def test_oco_legs_are_dragged_within_their_group_and_a_bracket_entry_is_locked(gui):
    from test_dialogs import answer, questions

    orders = gui.session.orders
    ol = gui.run(orders.submit_oco(OcoRequest("sim", "BTC/USDT", Side.SELL, D("0.1"), D("60500"), D("59500"))))
    bracket = gui.run(
        orders.submit_bracket(
            BracketRequest(
                "sim",
                "BTC/USDT",
                Side.BUY,
                D("0.1"),
                OrderType.LIMIT,
                D("59000"),
                take_profit=D("60800"),
                stop_loss=D("58000"),
            )
        )
    )
    gui.pump(0.1)
    chart = gui.window.chart
    for key in (ol.limit_id, ol.stop_id):
        assert chart.order_line(key).movable and "OCO" in chart.labels.labels[f"order:{key}"].text
    entry = bracket.entry_id
    assert not chart.order_line(entry).movable and chart.labels.labels[f"order:{entry}"].locked
    chart.orderLineMoved.emit(ol.stop_id, 59400.0)  # drag the stop leg
    gui.pump(0.1)
    (box,) = questions()
    answer(box, yes=True)
    gui.pump(0.2)
    group = orders.order_list(ol.list_id)
    stop = orders.get(group.stop_id)
    assert stop.stop_price == D("59400") and stop.is_open and orders.get(group.limit_id).is_open
    chart.orderLineMoved.emit(group.limit_id, 60600.0)  # and the limit leg: replaced within the group
    gui.pump(0.1)
    (box,) = questions()
    answer(box, yes=True)
    gui.pump(0.2)
    group = orders.order_list(ol.list_id)
    assert orders.get(group.limit_id).price == D("60600") and len(group.pairs()) == 1
    assert len([o for o in orders.open_orders() if o.list_id == ol.list_id]) == 2


def test_the_cross_on_the_chart_and_the_cancel_cell_cancel_an_order(gui, qtbot):
    a = place(gui, OrderRequest("sim", "BTC/USDT", Side.BUY, OrderType.LIMIT, D("0.1"), price=D("59000")))
    b = place(gui, OrderRequest("sim", "BTC/USDT", Side.BUY, OrderType.LIMIT, D("0.1"), price=D("58900")))
    gui.window.chart.orderCancelRequested.emit(a.client_order_id)  # the ✕ on its label
    gui.pump(0.1)
    assert [o.client_order_id for o in gui.session.orders.open_orders()] == [b.client_order_id]
    panel = gui.window.orders
    view = panel.open_view
    assert cell(panel.open_model, 0, "") == "✕ Cancel"
    rect = view.visualRect(panel.open_model.index(0, panel.cancel_column))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    gui.pump(0.1)
    assert gui.session.orders.open_orders() == []


def test_double_clicking_an_open_order_cancels_it_after_a_question(gui, qtbot):
    place(gui, OrderRequest("sim", "BTC/USDT", Side.BUY, OrderType.LIMIT, D("0.1"), price=D("59000")))
    panel = gui.window.orders
    rect = panel.open_view.visualRect(panel.open_model.index(0, 1))
    vp = panel.open_view.viewport()
    qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, pos=rect.center())  # a double-click: a click, then the second
    qtbot.mouseDClick(vp, Qt.MouseButton.LeftButton, pos=rect.center())
    gui.pump(0.1)
    assert len(gui.session.orders.open_orders()) == 1 and "Cancel Buy Limit 0.1 BTC/USDT?" in questions()[0].text()
    yes(gui)
    assert gui.session.orders.open_orders() == []


def test_a_position_is_closed_from_its_row(gui):
    place(gui, OrderRequest("sim", "BTC/USDT", Side.BUY, OrderType.MARKET, D("0.5")))
    pf = gui.window.portfolio
    pf.refresh()
    row = next(i for i, p in enumerate(pf.positions.rows) if p.symbol == "BTC/USDT")
    assert cell(pf.positions, row, "") == "Close"
    held = pf.positions.rows[row].quantity
    pf._position_clicked(pf.positions.index(row, pf.close_column))
    gui.pump(0.1)
    assert f"Sell {held.normalize():f} BTC at market to close the BTC/USDT position?" == questions()[0].text()
    yes(gui)
    (sale,) = [o for o in gui.store.load_orders() if o.side is Side.SELL]
    assert sale.type is OrderType.MARKET and sale.filled_qty == held


def test_balances_show_each_asset_to_its_precision(gui):
    pf = gui.window.portfolio
    pf.refresh()
    usdt = next(i for i, r in enumerate(pf.balances.rows) if r[0] == "USDT")
    btc = next(i for i, r in enumerate(pf.balances.rows) if r[0] == "BTC")
    assert cell(pf.balances, usdt, "Total") == "100,000.00" and cell(pf.balances, btc, "Total") == "2.00000"


def test_price_alerts_are_drawn_on_the_chart_and_removed_from_it(gui):
    alert = gui.ctx.alerts.add("BTC/USDT", AlertKind.CROSS_ABOVE, price=D("60500"))
    gui.pump(0.05)
    assert gui.window.chart.alert_line_ids() == [alert.alert_id]
    gui.window.chart.alertRemoveRequested.emit(alert.alert_id)
    gui.pump(0.05)
    assert gui.ctx.alerts.alerts == {} and gui.window.chart.alert_line_ids() == []
