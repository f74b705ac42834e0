"""The auto-trading controls as a user drives them: start on paper, stop in one click, the kill
switch stops it, bad input is refused in words; a live session asks to arm first."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from app.signals.registry import load_model
from app.ui.panels.signals_trading import AutoTradingBox

D = Decimal


def box_for(gui, qtbot, mode: str = "paper") -> AutoTradingBox:
    svc = gui.session.enable_signals(gui.tmp_path / "models")
    svc.models = [load_model()]
    svc.start()
    gui.ctx.mode = mode
    gui.session.auto.mode = mode
    box = AutoTradingBox(gui.ctx)
    qtbot.addWidget(box)
    box.show()
    return box


def click(gui, qtbot, button) -> None:
    assert button.isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    gui.pump(0.2)


def test_start_on_paper_stop_in_one_click_and_the_kill_switch_stops_it(gui, qtbot):
    box = box_for(gui, qtbot)
    assert not box.arm_btn.isVisible()  # paper: nothing to arm
    box.strategy.setCurrentIndex(box.strategy.findData("sma_cross"))
    box.params.setText("fast=5 slow=20")
    box.stop_loss.setText("2")
    box.take_profit.setText("4")
    box.size_edit.setText("10")
    click(gui, qtbot, box.start_btn)
    runner = gui.session.auto
    assert runner.running and box.error.text() == ""
    assert runner.config.strategy == "sma_cross" and runner.config.params["fast"] == 5
    assert runner.config.params["stop_loss"] == 0.02 and runner.config.fraction == D("0.1")
    assert "Running on paper" in box.state.text() and not box.start_btn.isEnabled()
    runner.decisions.append((1_722_000_000_000, 1))  # what a decision shows
    box.show_state()
    assert "Last decision: long" in box.state.text()
    assert gui.store.get_setting("strategy.runner")["running"] is True
    click(gui, qtbot, box.stop_btn)
    assert not runner.running and "Stopped" in box.state.text() and "Still holds" not in box.state.text()
    assert gui.store.get_setting("strategy.runner")["running"] is False
    runner.position = D("0.015")  # what it bought and still holds: stopping sells nothing, and says so
    box.show_state()
    assert "Still holds 0.015 BTC/USDT" in box.state.text() and "keep working" in box.state.text()
    runner.position = D("0")
    click(gui, qtbot, box.start_btn)
    assert runner.running
    gui.run(gui.session.orders.kill_switch())
    gui.pump(0.3)
    assert not runner.running and "kill switch" in box.state.text()
    click(gui, qtbot, box.start_btn)
    assert not runner.running and "halted" in box.error.text()


def test_bad_input_is_refused_in_words_and_nothing_starts(gui, qtbot):
    box = box_for(gui, qtbot)
    box.stop_loss.setText("abc")
    click(gui, qtbot, box.start_btn)
    assert "Stop-loss is not a number" in box.error.text() and not gui.session.auto.running
    box.stop_loss.setText("0")
    click(gui, qtbot, box.start_btn)
    assert "stop-loss and a take-profit" in box.error.text() and not gui.session.auto.running
    box.stop_loss.setText("3")
    box.params.setText("hold=0")
    click(gui, qtbot, box.start_btn)
    assert "refuses these parameters" in box.error.text() and not gui.session.auto.running


def questions() -> list[QMessageBox]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]


def test_a_live_session_asks_to_arm_before_it_can_start(gui, qtbot):
    box = box_for(gui, qtbot, mode="live")
    runner = gui.session.auto
    assert box.arm_btn.isVisible() and not box.start_btn.isEnabled()
    assert "needs arming" in box.state.text()
    qtbot.mouseClick(box.arm_btn, Qt.MouseButton.LeftButton)
    gui.pump(0.2)
    (q,) = questions()
    assert "real money" in q.text()
    next(b for b in q.buttons() if q.buttonRole(b) == QMessageBox.ButtonRole.YesRole).click()
    gui.pump(0.2)
    assert runner.armed and box.start_btn.isEnabled()
    click(gui, qtbot, box.start_btn)
    assert runner.running and "real money" in box.state.text()
    click(gui, qtbot, box.stop_btn)
    assert not runner.running
