"""The chart as a user sees it: candles on screen, live updates, level of detail, crosshair,
draggable order lines, clicks that fill the ticket, indicators."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from app.ui.chart import ChartWidget, OrderLine


def history(n: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    c = 100 + np.cumsum(rng.standard_normal(n))
    o = np.roll(c, 1)
    o[0] = c[0]
    h = np.maximum(o, c) + rng.random(n)
    low = np.minimum(o, c) - rng.random(n)
    t = 1_700_000_000_000 + np.arange(n, dtype=np.int64) * 60_000
    return t, o, h, low, c, rng.random(n) * 10


@pytest.fixture
def chart(qtbot):
    w = ChartWidget()
    w.resize(1000, 600)
    qtbot.addWidget(w)
    w.show()
    return w


def test_history_is_drawn_and_the_price_axis_fits_the_visible_bars(chart):
    t, o, h, low, c, v = history(5000)
    chart.set_history(t, o, h, low, c, v)
    chart.grab()
    i0, i1 = chart.visible_bars()
    assert i1 == 4999 and i1 - i0 < 200
    y0, y1 = chart.price_plot.getViewBox().viewRange()[1]
    assert y0 <= low[i0 : i1 + 1].min() and y1 >= h[i0 : i1 + 1].max()
    assert y1 - y0 < (h.max() - low.min())  # zoomed on what is visible, not the whole history
    assert chart.candles.paints > 0


def test_live_update_replaces_the_forming_candle_then_appends(chart):
    t, o, h, low, c, v = history(100)
    chart.set_history(t, o, h, low, c, v)
    chart.update_bar(int(t[-1]), o[-1], h[-1] + 5, low[-1], c[-1] + 4, v[-1])
    assert chart.series.n == 100 and chart.series.h[99] == h[-1] + 5
    chart.update_bar(int(t[-1]) + 60_000, 1.0, 2.0, 0.5, 1.5, 3.0)
    assert chart.series.n == 101
    assert chart.visible_bars()[1] == 100  # following the live edge


def test_zoomed_out_million_bars_uses_level_of_detail(chart):
    t, o, h, low, c, v = history(1_000_000)
    chart.set_history(t, o, h, low, c, v)
    chart.show_all()
    i0, i1 = chart.visible_bars()
    assert i1 - i0 > 900_000
    level = chart.series.level_for((i1 - i0) / chart.price_plot.getViewBox().width())
    assert level >= 9  # blocks of 512+ bars: one stroke per pixel column, not a million candles
    chart.grab()
    y0, y1 = chart.price_plot.getViewBox().viewRange()[1]
    assert y0 <= low.min() and y1 >= h.max()


def test_crosshair_readout_shows_the_bar_under_the_mouse(chart):
    t, o, h, low, c, v = history(300)
    chart.set_history(t, o, h, low, c, v)
    text = chart.readout_text(250)
    assert f"{c[250]:,.2f}" in text and f"{h[250]:,.2f}" in text
    vb = chart.price_plot.getViewBox()
    scene_pt = vb.mapViewToScene(QPointF(250, (h[250] + low[250]) / 2))
    chart._mouse_moved(scene_pt)
    assert chart.readout.text().startswith(text.split("   ")[0][:16])


def test_dragging_an_order_line_reports_the_new_price(chart, qtbot):
    t, o, h, low, c, v = history(300)
    chart.set_history(t, o, h, low, c, v)
    chart.set_order_lines([OrderLine("ord1", "buy", "BUY LIMIT", float(c[-1]) - 2)])
    line = chart.order_line("ord1")
    with qtbot.waitSignal(chart.orderLineMoved) as sig:
        line.setValue(float(c[-1]) - 1.234)
        line.sigPositionChangeFinished.emit(line)
    assert sig.args[0] == "ord1" and sig.args[1] == pytest.approx(round((float(c[-1]) - 1.234) / 0.01) * 0.01)


def test_clicking_the_price_pane_emits_a_price_on_the_tick(chart, qtbot):
    t, o, h, low, c, v = history(300)
    chart.set_history(t, o, h, low, c, v, tick=0.5)
    chart.grab()
    vb = chart.price_plot.getViewBox()
    target = vb.mapViewToScene(QPointF(280, float(c[280])))
    view_pt = chart.glw.mapFromScene(target)
    with qtbot.waitSignal(chart.priceClicked) as sig:
        qtbot.mouseClick(chart.glw.viewport(), Qt.MouseButton.LeftButton, pos=view_pt)
    assert sig.args[0] % 0.5 == pytest.approx(0) and abs(sig.args[0] - c[280]) < 1.0


def test_indicators_switch_on_and_off_with_their_panes(chart):
    t, o, h, low, c, v = history(500)
    chart.set_history(t, o, h, low, c, v)
    chart.set_indicator("bollinger", True)
    chart.set_indicator("rsi", True)
    assert len(chart.curves["bollinger"]) == 3 and chart.rsi_plot.isVisible()
    rsi = chart.curves["rsi"][0].y
    assert np.nanmin(rsi) >= 0 and np.nanmax(rsi) <= 100
    chart.set_indicator("rsi", False)
    assert "rsi" not in chart.curves and not chart.rsi_plot.isVisible()


def test_keys_pan_and_zoom(chart, qtbot):
    t, o, h, low, c, v = history(2000)
    chart.set_history(t, o, h, low, c, v)
    (x0, x1), _yr = chart.price_plot.getViewBox().viewRange()
    qtbot.keyClick(chart, Qt.Key.Key_Left)
    (a0, a1), _yr = chart.price_plot.getViewBox().viewRange()
    assert a0 < x0 and a1 < x1
    qtbot.keyClick(chart, Qt.Key.Key_Down)
    (b0, b1), _yr = chart.price_plot.getViewBox().viewRange()
    assert (b1 - b0) > (a1 - a0)
    qtbot.keyClick(chart, Qt.Key.Key_End)
    assert chart.visible_bars()[1] == 1999
