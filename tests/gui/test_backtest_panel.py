"""The Backtest panel as a user drives it: a run in its own process while the market keeps coming
in, its metrics, plots and trade list (exported to CSV); Cancel; a sweep with its heat map."""

from __future__ import annotations

import multiprocessing
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer

from app.backtest.job import run_job

CANDLES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "candles" / "binance"


@pytest.fixture
def panel(gui):
    path = CANDLES / "1h" / "BTC_USDT-1h.csv.gz"
    if not path.exists():
        pytest.skip("the shared candles are not here")
    p = gui.window.backtest
    gui.window.docks["backtest"].raise_()
    p.set_file(path)
    return p


def click(gui, qtbot, button) -> None:
    assert button.isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    gui.pump(0.05)


def test_a_backtest_shows_metrics_plots_and_trades(gui, qtbot, panel, tmp_path):
    panel.strategy.setCurrentIndex(panel.strategy.findData("sma_cross"))
    panel.params.setText("fast=10 slow=30")
    panel.start_edit.setText("2022-01-01")
    click(gui, qtbot, panel.run_btn)
    qtbot.waitUntil(lambda: not panel.running, timeout=180_000)
    assert panel.error.text() == "", panel.error.text()
    r = panel.result
    assert r is not None and r.strategy == "sma_cross" and r.metrics.trades > 20
    # What a user reads: metrics, the plots, the trade list; the same run as in this process.
    assert panel.metric_labels["trades"][1].text() == str(r.metrics.trades)
    assert panel.metric_labels["total_return"][1].text().endswith("%")
    x, y = panel.equity_curve.getData()
    assert len(x) == len(r.equity) and y[-1] == pytest.approx(float(r.final_equity))
    assert panel.drawdown_curve.getData()[1].max() <= 0
    assert len(panel.trade_rows()) == len(r.trades)
    job = gui.run(panel.job(False))
    same = run_job(job)
    assert same.final_equity == r.final_equity and [t.entry_ms for t in same.trades] == [t.entry_ms for t in r.trades]
    out = tmp_path / "trades.csv"
    assert panel.export_csv(out)
    lines = out.read_text().splitlines()
    assert lines[0].startswith("direction,quantity,entry_time_utc") and len(lines) == len(r.trades) + 1
    assert Decimal(lines[1].split(",")[7]) == r.trades[0].pnl


def test_a_sweep_runs_apart_while_trades_keep_arriving_and_cancel_ends_it(gui, qtbot, panel):
    panel.strategy.setCurrentIndex(panel.strategy.findData("sma_cross"))
    panel.params.setText("")
    panel.grid.setText("fast=2:40:1 slow=50:150:5")  # 819 full-history runs: a minute or more anywhere
    ticks: list[int] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(20)
    click(gui, qtbot, panel.sweep_btn)
    assert panel.running and panel.cancel_btn.isEnabled() and panel.progress.isVisible()
    shown: list[str] = []
    for i in range(8):
        gui.market(str(60001 + i))  # the market goes on: each trade reaches the window at once
        shown.append(gui.window.last_label.text())
    gui.pump(0.3)
    timer.stop()
    assert panel.running  # still sweeping: everything above happened while it ran
    assert all(s.endswith(f"{60001 + i:,}.00") for i, s in enumerate(shown)), shown
    assert len(ticks) > 10  # the loop kept turning
    click(gui, qtbot, panel.cancel_btn)
    qtbot.waitUntil(lambda: not panel.running, timeout=20_000)
    assert "Cancelled" in panel.status.text() and panel.sweep is None
    qtbot.waitUntil(lambda: not multiprocessing.active_children(), timeout=10_000)
    assert panel.run_btn.isEnabled() and not panel.cancel_btn.isEnabled()


def test_a_sweep_fills_its_table_and_heat_map(gui, qtbot, panel):
    panel.strategy.setCurrentIndex(panel.strategy.findData("sma_cross"))
    panel.start_edit.setText("2024-01-01")
    panel.grid.setText("fast=5,10,15 slow=20,40")
    click(gui, qtbot, panel.sweep_btn)
    qtbot.waitUntil(lambda: not panel.running, timeout=180_000)
    s = panel.sweep
    assert s is not None and len(s.rows) == 6, panel.error.text()
    assert panel.sweep_rows.rowCount() == 6 and panel.heat.image.shape == (3, 2)
    assert "best" in panel.status.text() and panel.tabs.currentIndex() == 2


def test_bad_input_is_refused_in_words(gui, qtbot, panel):
    panel.fee.setText("abc")
    click(gui, qtbot, panel.run_btn)
    assert "Fee is not a number" in panel.error.text() and not panel.running
    panel.fee.setText("0.1")
    panel.start_edit.setText("2099-01-01")
    click(gui, qtbot, panel.run_btn)
    qtbot.waitUntil(lambda: not panel.running, timeout=60_000)
    assert "No candles in that period" in panel.error.text() and not panel.running
