"""The chart as a user sees it: candles on screen with the price axis fitted to them, live ticks,
level of detail on a million bars, the crosshair read-out, dragging an order line, clicks that
fill the ticket, indicators, keys, markers, themes."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QApplication

from app.domain.market import Bar
from app.ui.chart import ChartWidget, OrderLine
from app.ui.chart.series import OhlcSeries
from app.ui.chart.studies import STUDIES

T0 = 1_700_000_040_000  # a whole minute


def history(n: int, seed: int = 1, start: float = 100.0):
    rng = np.random.default_rng(seed)
    c = start + np.cumsum(rng.standard_normal(n))
    o = np.empty(n)
    o[0], o[1:] = c[0], c[:-1]
    h = np.maximum(o, c) + rng.random(n)
    low = np.minimum(o, c) - rng.random(n)
    t = T0 + np.arange(n, dtype=np.int64) * 60_000
    return t, o, h, low, c, rng.random(n) * 10 + 0.1


@pytest.fixture
def chart(qtbot):
    w = ChartWidget()
    w.resize(1000, 640)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


@pytest.fixture(scope="module")
def million():
    return history(1_000_000, seed=2, start=1000.0)


def viewport_point(chart: ChartWidget, plot, x: float, y: float) -> QPoint:
    """Where data point (x, y) of a pane is, in the chart's viewport (for mouse events)."""
    QApplication.processEvents()  # let the layout settle first
    scene = plot.getViewBox().mapViewToScene(QPointF(x, y))
    return chart.glw.mapFromScene(scene)


def y_range(chart: ChartWidget, plot=None) -> tuple[float, float]:
    return tuple((plot or chart.price_plot).getViewBox().viewRange()[1])  # type: ignore[return-value]


# -- history and live ------------------------------------------------------------------------------
def test_history_is_drawn_and_the_price_axis_fits_the_visible_bars(chart):
    t, o, h, low, c, v = history(5000)
    chart.set_history(t, o, h, low, c, v)
    chart.grab()
    i0, i1 = chart.visible_bars()
    assert i1 == 4999 and 100 <= i1 - i0 <= 160
    y0, y1 = y_range(chart)
    lo, hi = low[i0 : i1 + 1].min(), h[i0 : i1 + 1].max()
    assert y0 <= lo and y1 >= hi
    assert (y1 - y0) < 1.6 * (hi - lo)  # fitted to what is visible, with a margin
    assert (y1 - y0) < (h.max() - low.min())
    assert chart.candles.paints > 0 and chart.candles.lod_level == -1  # real candles
    vy0, vy1 = y_range(chart, chart.volume_plot)
    assert vy0 == 0 and vy1 >= v[i0 : i1 + 1].max()


def test_panning_back_refits_the_price_axis_to_the_new_bars(chart):
    t, o, h, low, c, v = history(5000)
    chart.set_history(t, o, h, low, c, v)
    chart.price_plot.getViewBox().setXRange(1000, 1100, padding=0)
    y0, y1 = y_range(chart)
    assert y0 <= low[1000:1101].min() and y1 >= h[1000:1101].max()
    assert y1 - y0 < 1.6 * (h[1000:1101].max() - low[1000:1101].min())
    assert not chart.follow_live


def test_live_update_replaces_the_forming_candle_then_appends_and_follows(chart):
    t, o, h, low, c, v = history(300)
    chart.set_history(t, o, h, low, c, v)
    chart.grab()
    builds = chart.candles.builds
    chart.update_bar(int(t[-1]), o[-1], h[-1] + 5, low[-1], c[-1] + 4, v[-1] + 1)
    chart.grab()
    s = chart.series
    assert s.n == 300 and s.h[299] == h[-1] + 5 and s.c[299] == c[-1] + 4
    assert chart.candles.builds == builds  # the closed candles' drawing was reused
    assert y_range(chart)[1] >= h[-1] + 5  # the new high is in view
    chart.update_bar(int(t[-1]) + 60_000, 1.0, 2.0, 0.5, 1.5, 3.0)
    chart.grab()
    assert s.n == 301 and chart.visible_bars()[1] == 300  # following the live edge
    assert chart.update_bar(int(t[0]), 1, 1, 1, 1, 1) is None and s.n == 301  # old bars are ignored


def test_new_bars_do_not_move_a_view_scrolled_into_the_past(chart):
    t, o, h, low, c, v = history(300)
    chart.set_history(t, o, h, low, c, v)
    chart.price_plot.getViewBox().setXRange(50, 120, padding=0)
    before = chart.price_plot.getViewBox().viewRange()[0]
    chart.update_bar(int(t[-1]) + 60_000, c[-1], c[-1] + 1, c[-1] - 1, c[-1], 1.0)
    assert chart.price_plot.getViewBox().viewRange()[0] == before


def test_domain_bars_are_loaded_and_updated(chart):
    def bar(i: int, close: str) -> Bar:
        px = Decimal(close)
        return Bar("sim", "BTC/USDT", "1m", T0 + i * 60_000, px, px + 1, px - 1, px, Decimal("0.5"))

    chart.set_bars([bar(i, str(60_000 + i)) for i in range(50)], tick=0.01)
    assert chart.series.n == 50 and chart.series.c[49] == 60_049.0
    chart.update_from_bar(bar(50, "60100.25"))
    assert chart.series.n == 51 and chart.series.c[50] == 60_100.25
    chart.set_bars([])
    chart.grab()
    assert chart.series.n == 0


def test_zoomed_out_million_bars_draw_one_stroke_per_pixel_column(chart, million):
    t, o, h, low, c, v = million
    chart.set_history(t, o, h, low, c, v)
    chart.show_all()
    chart.grab()
    i0, i1 = chart.visible_bars()
    assert i0 == 0 and i1 == 999_999
    assert chart.candles.lod_level >= 9  # blocks of 512+ bars, not a million candles
    width = chart.price_plot.getViewBox().width()
    elements = sum(path.elementCount() for _pen, _brush, path in chart.candles._cached)
    assert elements <= 4 * width + 8  # two points per stroke, at most two strokes per pixel
    y0, y1 = y_range(chart)
    assert y0 <= low.min() and y1 >= h.max()
    chart.show_last(100)
    chart.grab()
    assert chart.candles.lod_level == -1


# -- mouse -----------------------------------------------------------------------------------------
def test_crosshair_readout_shows_the_bar_under_the_mouse(chart, qtbot):
    t, o, h, low, c, v = history(300)
    chart.set_history(t, o, h, low, c, v)
    chart.grab()
    qtbot.mouseMove(chart.glw.viewport(), viewport_point(chart, chart.price_plot, 250, (h[250] + low[250]) / 2))
    assert chart.hover_index == 250
    text = chart.legend_text()
    for value in (o[250], h[250], low[250], c[250]):
        assert f"{value:,.2f}" in text
    assert f"{v[250]:,.4g}" in text
    assert chart.vlines[id(chart.price_plot)].value() == 250 and chart.hlines[id(chart.price_plot)].isVisible()
    assert "cross" in chart.price_tags.tags
    assert chart.readout_text(250) in text
    chart.eventFilter(chart.glw.viewport(), _leave_event())
    assert chart.hover_index is None and f"{c[-1]:,.2f}" in chart.legend_text()  # back to the last bar


def _leave_event():
    from PySide6.QtCore import QEvent

    return QEvent(QEvent.Type.Leave)


def test_dragging_an_order_line_reports_the_new_price_on_release(chart, qtbot):
    t, o, h, low, c, v = history(300)
    chart.set_history(t, o, h, low, c, v, tick=0.5)
    price = round(float(c[-1]) / 0.5) * 0.5
    chart.set_order_lines([OrderLine("ord1", "buy", "BUY LIMIT 0.01 @ x", price)])
    chart.grab()
    vp = chart.glw.viewport()
    start = viewport_point(chart, chart.price_plot, 200, price)
    end = start + QPoint(0, 40)
    seen: list[tuple[str, float]] = []
    chart.orderLineMoved.connect(lambda cid, p: seen.append((cid, p)))
    qtbot.mouseMove(vp, start)  # hover first: pyqtgraph picks the drag target from the hover
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=start)
    for k in range(1, 5):
        qtbot.wait(12)  # pyqtgraph drops mouse moves closer than 10 ms
        qtbot.mouseMove(vp, start + QPoint(0, 10 * k))
    assert seen == []  # nothing until the mouse is released
    assert "→" in chart.labels.labels["order:ord1"].text  # the label shows where it would go
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=end)
    expected = chart.round_price(chart.price_plot.getViewBox().mapSceneToView(chart.glw.mapToScene(end)).y())
    assert len(seen) == 1 and seen[0][0] == "ord1"
    assert seen[0][1] == pytest.approx(expected, abs=0.5) and seen[0][1] < price and seen[0][1] % 0.5 == 0
    # While the window asks the user, the line stays where it was dropped, and cannot be dragged again.
    chart.set_order_lines([OrderLine("ord1", "buy", "BUY LIMIT 0.01 @ x", price)])
    assert chart.order_line("ord1").value() == seen[0][1] and not chart.order_line("ord1").movable
    chart.settle_order_line("ord1")  # the user said no
    assert chart.order_line("ord1").value() == price and chart.order_line("ord1").movable


def test_a_line_that_is_not_draggable_does_not_move(chart, qtbot):
    t, o, h, low, c, v = history(300)
    chart.set_history(t, o, h, low, c, v)
    chart.set_order_lines([OrderLine("oco", "sell", "SELL STOP", float(c[-1]), draggable=False)])
    assert not chart.order_line("oco").movable
    chart.set_order_lines([])
    assert chart.order_line("oco") is None and "order:oco" not in chart.labels.labels


def test_clicking_the_price_pane_emits_a_price_on_the_tick(chart, qtbot):
    t, o, h, low, c, v = history(300)
    chart.set_history(t, o, h, low, c, v, tick=0.5)
    chart.grab()
    pos = viewport_point(chart, chart.price_plot, 280, float(c[280]))
    with qtbot.waitSignal(chart.priceClicked, timeout=1000) as sig:
        qtbot.mouseClick(chart.glw.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert sig.args[0] % 0.5 == 0 and abs(sig.args[0] - c[280]) < 1.0


def test_wheel_zooms_time_only(chart, qtbot):
    from PySide6.QtCore import QPoint as P
    from PySide6.QtGui import QWheelEvent

    t, o, h, low, c, v = history(2000)
    chart.set_history(t, o, h, low, c, v)
    chart.grab()
    (x0, x1), _ = chart.price_plot.getViewBox().viewRange()
    pos = QPointF(viewport_point(chart, chart.price_plot, 1950, float(c[1950])))
    ev = QWheelEvent(
        pos,
        chart.glw.viewport().mapToGlobal(pos),
        P(0, 0),
        P(0, -240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(chart.glw.viewport(), ev)
    (a0, a1), _ = chart.price_plot.getViewBox().viewRange()
    assert a1 - a0 > x1 - x0  # zoomed out around the cursor
    y0, y1 = y_range(chart)
    i0, i1 = chart.visible_bars()
    assert y0 <= low[i0 : i1 + 1].min() and y1 >= h[i0 : i1 + 1].max()


# -- keys ------------------------------------------------------------------------------------------
def test_keys_pan_and_zoom_and_jump_to_either_end(chart, qtbot):
    t, o, h, low, c, v = history(2000)
    chart.set_history(t, o, h, low, c, v)
    vb = chart.price_plot.getViewBox()
    (x0, x1), _ = vb.viewRange()
    qtbot.keyClick(chart, Qt.Key.Key_Left)
    (a0, a1), _ = vb.viewRange()
    assert a0 < x0 and a1 < x1 and not chart.follow_live
    qtbot.keyClick(chart, Qt.Key.Key_Down)
    (b0, b1), _ = vb.viewRange()
    assert (b1 - b0) > (a1 - a0)
    qtbot.keyClick(chart, Qt.Key.Key_Plus)
    qtbot.keyClick(chart, Qt.Key.Key_Up)
    (d0, d1), _ = vb.viewRange()
    assert (d1 - d0) < (b1 - b0)
    qtbot.keyClick(chart, Qt.Key.Key_Home)
    assert chart.visible_bars()[0] == 0
    qtbot.keyClick(chart, Qt.Key.Key_End)
    assert chart.visible_bars()[1] == 1999 and chart.follow_live
    y0, y1 = y_range(chart)
    i0, i1 = chart.visible_bars()
    assert y0 <= low[i0 : i1 + 1].min() and y1 >= h[i0 : i1 + 1].max()


# -- indicators ------------------------------------------------------------------------------------
def test_indicators_switch_on_and_off_with_their_panes(chart):
    t, o, h, low, c, v = history(500)
    chart.set_history(t, o, h, low, c, v)
    for name in ("sma", "ema", "bollinger", "vwap"):
        chart.set_indicator(name, True)
    chart.set_indicator("rsi", True)
    chart.set_indicator("macd", True, fast=8, slow=21, signal=5)
    chart.grab()
    assert len(chart.curves["bollinger"]) == 3 and chart.rsi_plot.isVisible() and chart.macd_plot.isVisible()
    assert all(item.paints > 0 for items in chart.curves.values() for item in items)
    rsi = chart.curves["rsi"][0].yData
    assert np.nanmin(rsi) >= 0 and np.nanmax(rsi) <= 100
    assert "MACD 8 21 5" in chart.legends[id(chart.macd_plot)].text()
    assert "SMA 20" in chart.legend_text() and "VWAP" in chart.legend_text()
    assert chart.macd_plot.getAxis("bottom").isVisible()  # the time axis is under the lowest pane
    assert not chart.volume_plot.getAxis("bottom").isVisible()
    chart.set_indicator("rsi", False)
    chart.set_indicator("macd", False)
    chart.set_indicator("sma", False)
    chart.grab()
    assert "rsi" not in chart.curves and not chart.rsi_plot.isVisible() and not chart.macd_plot.isVisible()
    assert "SMA" not in chart.legend_text()
    assert chart.price_plot.getViewBox().height() > 350  # the hidden panes gave their height back
    with pytest.raises(ValueError):
        chart.set_indicator("ichimoku", True)
    with pytest.raises(ValueError):
        chart.set_indicator("sma", True, window=3)


def test_price_pane_indicators_stay_in_view(chart):
    t, o, h, low, c, v = history(500)
    chart.set_history(t, o, h, low, c, v)
    chart.set_indicator("bollinger", True, n=20, k=3)
    i0, i1 = chart.visible_bars()
    upper = chart.studies["bollinger"].out["upper"][i0 : i1 + 1]
    assert y_range(chart)[1] >= np.nanmax(upper)


def test_live_ticks_keep_indicators_equal_to_a_full_recompute(chart):
    t, o, h, low, c, v = history(400)
    chart.set_history(t[:300], o[:300], h[:300], low[:300], c[:300], v[:300])
    for name in chart.INDICATORS:
        chart.set_indicator(name, True)
    for i in range(300, 400):
        chart.update_bar(int(t[i]), o[i], h[i], low[i], o[i], v[i] / 2)  # a first tick
        chart.update_bar(int(t[i]), o[i], h[i], low[i], c[i], v[i])  # the bar's final values
    full = OhlcSeries()
    full.set(t, o, h, low, c, v)
    for name, study in chart.studies.items():
        ref = STUDIES[name](**chart.params[name])
        ref.compute(full)
        for out in ref.outputs:
            assert np.allclose(study.out[out][:400], ref.out[out][:400], equal_nan=True, rtol=1e-9, atol=1e-9), (
                name,
                out,
            )


# -- markers, position, theme ------------------------------------------------------------------------
def test_fills_and_signals_are_markers_on_their_bars(chart):
    t, o, h, low, c, v = history(300)
    chart.set_history(t, o, h, low, c, v)
    chart.add_fill_marker(int(t[290]) + 12_345, float(c[290]), "buy")
    chart.add_fill_marker(int(t[295]), float(c[295]), "sell")
    chart.add_signal_marker(int(t[280]), float(low[280]), "long", "long 0.71")
    chart.add_fill_marker(int(t[0]) - 60_000, 1.0, "buy")  # before the history: not drawn
    chart.grab()
    idx, _price, _kind, _order = chart.markers.positions()
    assert list(idx) == [280, 290, 295] and chart.markers.paints > 0
    assert chart.fill_count() == 3 and len(chart._fills) == 3
    chart.clear_fill_markers()
    assert chart.fill_count() == 0 and len(chart.markers) == 1  # the signal stays
    with pytest.raises(ValueError):
        chart.add_signal_marker(int(t[1]), 1.0, "sideways", "")


def test_a_fill_after_the_last_bar_moves_to_the_bar_it_belongs_to(chart):
    t, o, h, low, c, v = history(100)
    chart.set_history(t, o, h, low, c, v)
    chart.add_fill_marker(int(t[-1]) + 90_000, float(c[-1]), "sell")  # in the next bar, not here yet
    assert list(chart.markers.positions()[0]) == [99]
    chart.update_bar(int(t[-1]) + 60_000, c[-1], c[-1], c[-1], c[-1], 1.0)
    assert list(chart.markers.positions()[0]) == [100]


def test_position_line_shows_size_price_and_pnl(chart):
    t, o, h, low, c, v = history(100)
    chart.set_history(t, o, h, low, c, v)
    chart.set_position(float(c[50]), 0.25, "P&L +12.30")
    assert chart.position_line.isVisible() and chart.position_line.value() == float(c[50])
    assert "+0.25" in chart.labels.labels["position"].text and "P&L +12.30" in chart.labels.labels["position"].text
    chart.set_position(None, 0.0, "")
    assert not chart.position_line.isVisible() and "position" not in chart.labels.labels


def test_themes_recolour_the_chart(chart):
    t, o, h, low, c, v = history(200)
    chart.set_history(t, o, h, low, c, v)
    chart.set_indicator("ema", True)
    chart.set_theme("light")
    img = chart.grab().toImage()
    corner = img.pixelColor(5, img.height() // 3)
    assert corner.lightness() > 200
    chart.set_theme("dark")
    img = chart.grab().toImage()
    assert img.pixelColor(5, img.height() // 3).lightness() < 60
    assert len(chart.curves["ema"]) == 1


def test_series_range_queries_match_numpy_after_live_updates():
    rng = np.random.default_rng(4)
    t, o, h, low, c, v = history(1500, seed=4)
    s = OhlcSeries()
    s.set(t[:7], o[:7], h[:7], low[:7], c[:7], v[:7])
    for i in range(7, 1500):
        s.update(int(t[i]), o[i], h[i] + 3, low[i] - 3, c[i], v[i] * 2)  # a wide first tick
        s.update(int(t[i]), o[i], h[i], low[i], c[i], v[i])
    for _ in range(500):
        a = int(rng.integers(0, 1500))
        b = int(rng.integers(a, 1500))
        assert s.range_minmax(a, b) == (low[a : b + 1].min(), h[a : b + 1].max())
        assert s.vmax_range(a, b) == v[a : b + 1].max()
    with pytest.raises(ValueError):
        s.set(t[::-1], o, h, low, c, v)


def test_a_live_bar_before_the_history_is_drawn(chart):
    """Streams may start before the history download ends: the first live bars are drawn, then the
    history replaces them."""
    chart.update_bar(T0, 100.0, 101.0, 99.0, 100.5, 1.0)
    chart.update_bar(T0 + 60_000, 100.5, 102.0, 100.0, 101.5, 1.0)
    chart.grab()
    assert chart.series.n == 2 and chart.series.range_minmax(0, 1) == (99.0, 102.0)
    t, o, h, low, c, v = history(300)
    chart.set_history(t, o, h, low, c, v)
    assert chart.series.n == 300


def test_the_time_axis_is_under_the_lowest_pane_from_the_first_start(qtbot):
    w = ChartWidget()  # no indicator switched on, never toggled
    qtbot.addWidget(w)
    assert w.bottom_axis_plot() is w.volume_plot
    w.resize(900, 500)
    w.show()
    qtbot.waitExposed(w)
    t, o, h, low, c, v = history(300)
    w.set_history(t, o, h, low, c, v)
    assert w.volume_plot.getAxis("bottom").isVisible() and not w.price_plot.getAxis("bottom").isVisible()
    w.set_indicator("rsi", True)
    assert w.bottom_axis_plot() is w.rsi_plot
    w.set_indicator("rsi", False)
    assert w.bottom_axis_plot() is w.volume_plot


def test_order_labels_never_overlap_and_stay_left_of_the_candles_area(chart):
    t, o, h, low, c, v = history(300)
    chart.set_history(t, o, h, low, c, v)
    px = float(c[-1])
    chart.set_order_lines([OrderLine(f"o{i}", "buy", f"Buy Limit 0.0{i}", px + i * 0.01) for i in range(5)])
    chart.grab()
    rects = [r for r, _lab in chart.labels.layout()]
    assert len(rects) == 5 and all(r.left() == rects[0].left() for r in rects)
    for i, a in enumerate(rects):
        for b in rects[i + 1 :]:
            assert not a.intersects(b)


def test_the_cross_on_an_order_label_asks_to_cancel_that_order(chart, qtbot):
    t, o, h, low, c, v = history(300)
    chart.set_history(t, o, h, low, c, v)
    chart.set_order_lines([OrderLine("ord7", "sell", "Sell Limit 0.01", float(c[-1]) + 2)])
    chart.grab()
    seen: list[str] = []
    chart.orderCancelRequested.connect(seen.append)
    ((rect, _lab),) = chart.labels.layout()
    cross = chart.labels.mapToScene(chart.labels.close_rect(rect).center())
    vp = chart.glw.viewport()
    qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, pos=chart.glw.mapFromScene(cross))
    assert seen == ["ord7"]


def test_locked_and_trigger_lines_look_different_and_do_not_move(chart):
    t, o, h, low, c, v = history(300)
    chart.set_history(t, o, h, low, c, v)
    px = float(c[-1])
    chart.set_order_lines(
        [
            OrderLine("leg", "sell", "Sell Limit 0.01 · OCO", px + 3, locked=True),
            OrderLine("sl", "buy", "Buy Stop limit 0.01", px + 4),
            OrderLine(
                "sl",
                "buy",
                "Buy Stop limit 0.01 · trigger",
                px + 3.5,
                line_id="sl#trigger",
                trigger=True,
                cancellable=False,
            ),
        ]
    )
    assert not chart.order_line("leg").movable and chart.labels.labels["order:leg"].locked
    assert chart.order_line("sl").movable and chart.order_line("sl#trigger").movable
    assert chart.order_line("sl#trigger").pen.style() == Qt.PenStyle.DotLine
    assert chart.labels.labels["order:sl#trigger"].close_key == ""


def test_alert_lines_are_drawn_and_their_cross_removes_them(chart):
    t, o, h, low, c, v = history(300)
    chart.set_history(t, o, h, low, c, v)
    removed: list[str] = []
    chart.alertRemoveRequested.connect(removed.append)
    chart.set_alert_lines([("al1", float(c[-1]) + 1, "Alert: crosses above")])
    assert chart.alert_line_ids() == ["al1"] and "alert:al1" in chart.price_tags.tags
    chart._label_closed("alert:al1")
    assert removed == ["al1"]
    chart.set_alert_lines([])
    assert chart.alert_line_ids() == [] and "alert:al1" not in chart.labels.labels


def test_price_and_volume_axis_labels_do_not_spill_into_each_other(chart):
    for p in chart.plots:
        assert p.getAxis("right").style["hideOverlappingLabels"] is True


def _axis_labels(axis) -> list[str]:
    from PySide6.QtGui import QPainter, QPixmap

    pix = QPixmap(10, 10)
    p = QPainter(pix)
    try:
        specs = axis.generateDrawSpecs(p)
    finally:
        p.end()
    return [text for _rect, _flags, text in specs[2]]


def test_a_price_tag_hides_the_tick_label_it_covers_and_only_that_one(chart):
    t, o, h, low, c, v = history(500)
    chart.set_history(t, o, h, low, c, v)
    chart.grab()
    axis = chart.price_plot.getAxis("right")
    before = _axis_labels(axis)
    values = [float(x.replace(",", "")) for x in before]
    step = values[1] - values[0]
    free = [(text, x) for text, x in zip(before, values, strict=True) if abs(x - c[-1]) > step]
    assert len(before) >= 4 and free  # a label away from the last price's own tag
    text, value = free[0]
    chart.set_order_lines([OrderLine("o1", "buy", "Buy Limit 1", value, draggable=False)])
    chart.grab()
    assert y_range(chart)[0] < value < y_range(chart)[1]
    after = _axis_labels(axis)
    assert text not in after and set(after) <= set(before) and len(after) >= len(before) - 2
    chart.set_order_lines([])
    chart.grab()
    assert _axis_labels(axis) == before  # the label is back once the tag is gone
