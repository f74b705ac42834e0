"""What the window shows after the app is closed and opened again (issue 7, item 3)."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Qt

from app.domain.enums import Side

D = Decimal


def available_cell(gui, asset: str) -> str:
    model = gui.window.portfolio.balances
    gui.window.portfolio.refresh()
    row = next(r for r in model.rows if r[0] == asset)
    return model.columns[2].text(row)


def test_available_funds_after_a_restart_leave_out_what_open_orders_hold(gui, qtbot):
    t = gui.window.ticket
    t.set_side(Side.BUY)
    t.set_kind("limit")
    t.price.setText("59000")
    t.amount.setText("1")
    assert t.submit_btn.isEnabled(), t.error.text()
    qtbot.mouseClick(t.submit_btn, Qt.MouseButton.LeftButton)
    gui.pump(0.1)
    assert len(gui.session.orders.open_orders()) == 1
    # 100,000 USDT less 59,000 × 1 and the 0.1 % fee the order holds back
    before = (available_cell(gui, "USDT"), t.available.text())
    assert before == ("40,941.00", "Available 40,941.00 USDT")
    gui.restart()
    t = gui.window.ticket
    t.set_side(Side.BUY)
    assert len(gui.session.orders.open_orders()) == 1  # the order is still working
    assert (available_cell(gui, "USDT"), t.available.text()) == before
