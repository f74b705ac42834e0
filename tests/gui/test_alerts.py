"""Alerts as a trader sets them (issue 7, items 5 and 6): every alert shows in the list whatever
symbol is on screen, the same alert is not stored twice, and nonsense is refused like the ticket
refuses it."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Qt

from app.engine.alerts import AlertKind

D = Decimal


def add(gui, qtbot, kind: AlertKind, value: str, minutes: str = "5") -> None:
    panel = gui.window.alerts
    panel.kind.setCurrentIndex(panel.kind.findData(kind.value))
    panel.value.setText(value)
    panel.minutes.setText(minutes)
    qtbot.mouseClick(panel.add_btn, Qt.MouseButton.LeftButton)
    gui.pump(0.05)


def shown(gui) -> list[str]:
    m = gui.window.alerts.model
    return [m.columns[0].text(r) for r in m.rows]


def test_alerts_added_after_switching_symbol_are_listed(gui, qtbot):
    add(gui, qtbot, AlertKind.CROSS_ABOVE, "60500")
    gui.market("3000", symbol="ETH/USDT")
    gui.ctx.selection.set_symbol("ETH/USDT")
    gui.pump(0.05)
    add(gui, qtbot, AlertKind.CROSS_BELOW, "2900")
    assert sorted(shown(gui)) == ["BTC/USDT crosses above 60,500", "ETH/USDT crosses below 2,900"]
    assert len(gui.ctx.alerts.alerts) == 2


def test_adding_the_same_alert_again_does_not_store_a_duplicate(gui, qtbot):
    for _i in range(3):
        add(gui, qtbot, AlertKind.CROSS_ABOVE, "60500")
    assert len(gui.ctx.alerts.alerts) == 1 and len(shown(gui)) == 1
    assert gui.window.alerts.message.text() == "This alert exists already"


def test_a_percent_move_alert_with_a_price_in_it_is_refused(gui, qtbot):
    gui.window.chart.price_menu(64_400.61)  # the chart's menu fills nothing in the alert form by itself
    add(gui, qtbot, AlertKind.PCT_MOVE, "64400.61")
    assert gui.ctx.alerts.alerts == {}
    assert gui.window.alerts.message.text() == "A move of 64,400.61 % is not plausible: enter 0.1 to 50 %"
    assert not gui.window.alerts.add_btn.isEnabled()
    gui.window.alerts.value.setText("1.5")
    assert gui.window.alerts.add_btn.isEnabled() and gui.window.alerts.message.text() == ""
    add(gui, qtbot, AlertKind.PCT_MOVE, "1.5", minutes="5")
    assert shown(gui) == ["BTC/USDT moves 1.5% within 5 min"]


def test_price_alerts_are_checked_against_the_market_and_the_tick(gui, qtbot):
    panel = gui.window.alerts
    cases = [
        (AlertKind.CROSS_ABOVE, "59000", "The price is above 59,000 already: choose “crosses below” or a higher price"),
        (AlertKind.CROSS_BELOW, "61000", "The price is below 61,000 already: choose “crosses above” or a lower price"),
        (AlertKind.CROSS_ABOVE, "60000.005", "Price 60,000.005 is not a multiple of the tick size 0.01 USDT"),
        (AlertKind.CROSS_ABOVE, "600000", "Price 600,000 is more than 50 % away from the last price 60,000"),
        (AlertKind.CROSS_ABOVE, "abc", "Enter a number above zero"),
    ]
    for kind, value, message in cases:
        add(gui, qtbot, kind, value)
        assert panel.message.text() == message, value
    assert gui.ctx.alerts.alerts == {}
    add(gui, qtbot, AlertKind.PCT_MOVE, "2", minutes="0")
    assert panel.message.text() == "Enter the window in whole minutes, 1 to 1440"
    assert gui.ctx.alerts.alerts == {}


def test_the_chart_menu_does_not_set_the_same_alert_twice(gui):
    for _i in range(2):
        gui.window.chart.price_menu(60_500.0).actions()[2].trigger()
    assert len(gui.ctx.alerts.alerts) == 1
    assert gui.window.statusBar().currentMessage() == "This alert exists already"
