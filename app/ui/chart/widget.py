"""The trading chart: candles and volume, indicators, RSI/MACD panes, crosshair read-out, the
user's orders as draggable lines, fills and model signals as markers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QCursor, QKeyEvent
from PySide6.QtWidgets import QLabel, QMenu, QVBoxLayout, QWidget

from app.domain.market import Bar
from app.i18n import _
from app.signals import indicators as ind

from .items import CandleItem, LineItem, VolumeItem
from .series import OhlcSeries

pg.setConfigOptions(antialias=False, useNumba=False)


@dataclass(frozen=True, slots=True)
class OrderLine:
    client_order_id: str
    side: str  # "buy" | "sell"
    label: str
    price: float  # drawing only
    draggable: bool = True


class TimeAxis(pg.AxisItem):
    """Bottom axis: integer bar index → the bar's time."""

    def __init__(self, series: OhlcSeries) -> None:
        super().__init__(orientation="bottom")
        self.series = series

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        s = self.series
        out = []
        span_ms = 0
        if s.n > 1:
            i_a = int(np.clip(values[0] if values else 0, 0, s.n - 1))
            i_b = int(np.clip(values[-1] if values else 0, 0, s.n - 1))
            span_ms = abs(int(s.t[i_b]) - int(s.t[i_a]))
        fmt = "%H:%M" if span_ms < 2 * 86_400_000 else "%m-%d %H:%M" if span_ms < 20 * 86_400_000 else "%Y-%m-%d"
        for v in values:
            i = round(v)
            if 0 <= i < s.n:
                out.append(datetime.fromtimestamp(int(s.t[i]) / 1000, tz=UTC).strftime(fmt))
            else:
                out.append("")
        return out


class ChartWidget(QWidget):
    orderLineMoved = Signal(str, float)  # client order id, new price
    priceClicked = Signal(float)
    priceAction = Signal(str, float)  # "buy" | "sell" | "alert", price (from the right-click menu)

    INDICATORS = ("sma", "ema", "bollinger", "vwap", "rsi", "macd")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.series = OhlcSeries()
        self.tick = 0.01
        self.follow_live = True
        self._params: dict[str, dict] = {"sma": {"n": 20}, "ema": {"n": 50}, "bollinger": {"n": 20, "k": 2.0},
                                         "rsi": {"n": 14}, "macd": {"fast": 12, "slow": 26, "signal": 9}, "vwap": {}}
        self.enabled: dict[str, bool] = dict.fromkeys(self.INDICATORS, False)

        self.glw = pg.GraphicsLayoutWidget()
        self.glw.ci.layout.setSpacing(0)
        self.price_plot = self.glw.addPlot(row=0, col=0, axisItems={"bottom": TimeAxis(self.series)})
        self.volume_plot = self.glw.addPlot(row=1, col=0, axisItems={"bottom": TimeAxis(self.series)})
        self.rsi_plot = self.glw.addPlot(row=2, col=0, axisItems={"bottom": TimeAxis(self.series)})
        self.macd_plot = self.glw.addPlot(row=3, col=0, axisItems={"bottom": TimeAxis(self.series)})
        self.glw.ci.layout.setRowStretchFactor(0, 6)
        self.glw.ci.layout.setRowStretchFactor(1, 1)
        for plot in (self.price_plot, self.volume_plot, self.rsi_plot, self.macd_plot):
            plot.showAxis("right")
            plot.hideAxis("left")
            plot.showGrid(x=False, y=False)
            plot.setMenuEnabled(False)
            plot.getViewBox().setMouseEnabled(x=True, y=False)
            plot.hideButtons()
            if plot is not self.price_plot:
                plot.setXLink(self.price_plot)
                plot.getAxis("right").setWidth(72)
        self.price_plot.getAxis("right").setWidth(72)
        for plot in (self.price_plot, self.volume_plot, self.rsi_plot):
            plot.hideAxis("bottom")
        self.volume_plot.setMaximumHeight(110)
        for row, plot in ((2, self.rsi_plot), (3, self.macd_plot)):
            plot.setVisible(False)
            plot.setMaximumHeight(0)
            self.glw.ci.layout.setRowStretchFactor(row, 0)
        self.rsi_plot.setYRange(0, 100)

        self.candles = CandleItem(self.series)
        self.volume = VolumeItem(self.series)
        self.price_plot.addItem(self.candles)
        self.volume_plot.addItem(self.volume)
        self.curves: dict[str, list[LineItem]] = {}
        self._order_lines: dict[str, pg.InfiniteLine] = {}
        self.fill_markers = pg.ScatterPlotItem(size=11, pen=pg.mkPen(None))
        self.signal_markers = pg.ScatterPlotItem(size=13, pen=pg.mkPen("w", width=1))
        self.price_plot.addItem(self.fill_markers)
        self.price_plot.addItem(self.signal_markers)
        self._fills: list[tuple[int, float, str]] = []
        self._signals: list[tuple[int, float, str, str]] = []
        self.position_line = pg.InfiniteLine(angle=0, movable=False, pen=pg.mkPen("#f5a623", style=Qt.PenStyle.DashLine))
        self.position_line.setVisible(False)
        self.position_label = pg.TextItem(anchor=(0, 1), color="#f5a623")
        self.price_plot.addItem(self.position_line, ignoreBounds=True)
        self.price_plot.addItem(self.position_label, ignoreBounds=True)
        self.position_label.setVisible(False)
        self.last_line = pg.InfiniteLine(angle=0, movable=False, pen=pg.mkPen("#8a93a0", style=Qt.PenStyle.DotLine))
        self.price_plot.addItem(self.last_line, ignoreBounds=True)

        # Crosshair and read-out.
        self.vline = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#8a93a0", width=1))
        self.hline = pg.InfiniteLine(angle=0, movable=False, pen=pg.mkPen("#8a93a0", width=1))
        self.price_plot.addItem(self.vline, ignoreBounds=True)
        self.price_plot.addItem(self.hline, ignoreBounds=True)
        self.readout = QLabel(self)
        self.readout.setObjectName("muted")
        self.readout.setTextFormat(Qt.TextFormat.PlainText)
        self.price_plot.scene().sigMouseMoved.connect(self._mouse_moved)
        self.price_plot.scene().sigMouseClicked.connect(self._mouse_clicked)
        self.price_plot.getViewBox().sigXRangeChanged.connect(self._x_changed)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.readout)
        layout.addWidget(self.glw, 1)
        self._autorange_pending = False
        self._indicator_timer = QTimer(self)
        self._indicator_timer.setSingleShot(True)
        self._indicator_timer.setInterval(250)
        self._indicator_timer.timeout.connect(self._recompute_indicators)
        self.set_theme("dark")

    # -- data -------------------------------------------------------------------------------------
    def set_history(self, t_ms: np.ndarray, o: np.ndarray, h: np.ndarray, l: np.ndarray,  # noqa: E741
                    c: np.ndarray, v: np.ndarray, tick: float = 0.01) -> None:
        self.tick = tick
        self.series.set(np.asarray(t_ms, np.int64), o, h, l, c, v)
        self._fills.clear()
        self._signals.clear()
        self._refresh_markers()
        self.candles.data_changed()
        self.volume.data_changed()
        self._recompute_indicators()
        self.show_last(min(150, max(self.series.n, 10)))

    def set_bars(self, bars: list[Bar], tick: float = 0.01) -> None:
        if not bars:
            self.set_history(*(np.empty(0) for _ in range(6)), tick=tick)
            return
        arr = np.array([[b.open_ms, float(b.open), float(b.high), float(b.low), float(b.close), float(b.volume)]
                        for b in bars])
        self.set_history(arr[:, 0].astype(np.int64), arr[:, 1], arr[:, 2], arr[:, 3], arr[:, 4], arr[:, 5], tick)

    def update_bar(self, t_ms: int, o: float, h: float, l: float, c: float, v: float) -> None:  # noqa: E741
        appended = self.series.update(t_ms, o, h, l, c, v)
        self.last_line.setValue(c)
        if appended and self.follow_live:
            vb = self.price_plot.getViewBox()
            (x0, x1), _yr = vb.viewRange()
            vb.setXRange(x0 + 1, x1 + 1, padding=0)
        self.candles.update()
        self.volume.update()
        self._schedule_autorange()
        if any(self.enabled.values()) and not self._indicator_timer.isActive():
            self._indicator_timer.start()

    def update_from_bar(self, bar: Bar) -> None:
        self.update_bar(bar.open_ms, float(bar.open), float(bar.high), float(bar.low), float(bar.close),
                        float(bar.volume))

    # -- view -------------------------------------------------------------------------------------
    def show_last(self, n: int) -> None:
        end = self.series.n
        self.price_plot.getViewBox().setXRange(end - n, end + 3, padding=0)
        self.follow_live = True

    def show_all(self) -> None:
        self.price_plot.getViewBox().setXRange(-1, self.series.n + 1, padding=0)

    def visible_bars(self) -> tuple[int, int]:
        (x0, x1), _yr = self.price_plot.getViewBox().viewRange()
        return max(0, int(np.floor(x0))), min(self.series.n - 1, int(np.ceil(x1)))

    def _x_changed(self, *_: object) -> None:
        (_x0, x1), _yr = self.price_plot.getViewBox().viewRange()
        self.follow_live = x1 >= self.series.n - 1
        self._autorange_y()

    def _schedule_autorange(self) -> None:
        if not self._autorange_pending:
            self._autorange_pending = True
            QTimer.singleShot(0, self._autorange_y)

    def _autorange_y(self) -> None:
        self._autorange_pending = False
        i0, i1 = self.visible_bars()
        mm = self.series.range_minmax(i0, i1)
        if mm is None:
            return
        lo, hi = mm
        # Keep the user's nearby orders and position in view (not ones far away).
        span = hi - lo
        extra = [ln.value() for ln in self._order_lines.values()]
        if self.position_line.isVisible():
            extra.append(self.position_line.value())
        for v in extra:
            if lo - span <= v <= hi + span:
                lo, hi = min(lo, v), max(hi, v)
        pad = (hi - lo) * 0.08 or max(abs(hi) * 0.001, self.tick)
        self.price_plot.getViewBox().setYRange(lo - pad, hi + pad, padding=0)
        vmax = self.series.vmax_range(i0, i1)
        self.volume_plot.getViewBox().setYRange(0, vmax * 1.1 if vmax > 0 else 1, padding=0)
        for name, plot in (("rsi", self.rsi_plot), ("macd", self.macd_plot)):
            if self.enabled[name] and name == "macd":
                curves = self.curves.get("macd", [])
                if curves:
                    ys = [c.yData[i0 : i1 + 1] for c in curves if c.yData is not None and len(c.yData)]
                    vals = np.concatenate(ys) if ys else np.empty(0)
                    vals = vals[np.isfinite(vals)]
                    if len(vals):
                        m = float(np.abs(vals).max()) or 1.0
                        plot.getViewBox().setYRange(-m * 1.1, m * 1.1, padding=0)

    def keyPressEvent(self, e: QKeyEvent) -> None:
        vb = self.price_plot.getViewBox()
        (x0, x1), _yr = vb.viewRange()
        w = x1 - x0
        key = e.key()
        if key == Qt.Key.Key_Left:
            vb.setXRange(x0 - w * 0.1, x1 - w * 0.1, padding=0)
        elif key == Qt.Key.Key_Right:
            vb.setXRange(x0 + w * 0.1, x1 + w * 0.1, padding=0)
        elif key in (Qt.Key.Key_Up, Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            vb.setXRange(x1 - w * 0.8, x1, padding=0)
        elif key in (Qt.Key.Key_Down, Qt.Key.Key_Minus):
            vb.setXRange(x1 - w * 1.25, x1, padding=0)
        elif key == Qt.Key.Key_Home:
            vb.setXRange(-1, w - 1, padding=0)
        elif key == Qt.Key.Key_End:
            self.show_last(int(w))
        else:
            super().keyPressEvent(e)

    # -- crosshair ---------------------------------------------------------------------------------
    def _mouse_moved(self, pos: QPointF) -> None:
        vb = self.price_plot.getViewBox()
        if not self.price_plot.sceneBoundingRect().contains(pos):
            return
        pt = vb.mapSceneToView(pos)
        self.vline.setPos(pt.x())
        self.hline.setPos(pt.y())
        self.readout.setText(self.readout_text(round(pt.x()), pt.y()))

    def readout_text(self, i: int, price: float | None = None) -> str:
        s = self.series
        if not 0 <= i < s.n:
            return ""
        when = datetime.fromtimestamp(int(s.t[i]) / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")
        d = max(0, -int(np.floor(np.log10(self.tick)))) if self.tick > 0 else 2
        text = (f"{when}  {_('O')} {s.o[i]:,.{d}f}  {_('H')} {s.h[i]:,.{d}f}  {_('L')} {s.l[i]:,.{d}f}  "
                f"{_('C')} {s.c[i]:,.{d}f}  {_('V')} {s.v[i]:,.4f}")
        if price is not None:
            text += f"   {_('Cursor')} {price:,.{d}f}"
        return text

    def _mouse_clicked(self, ev: object) -> None:
        pos = ev.scenePos()  # type: ignore[attr-defined]
        if not self.price_plot.sceneBoundingRect().contains(pos):
            return
        pt = self.price_plot.getViewBox().mapSceneToView(pos)
        price = round(pt.y() / self.tick) * self.tick
        if ev.button() == Qt.MouseButton.LeftButton:  # type: ignore[attr-defined]
            self.priceClicked.emit(price)
        elif ev.button() == Qt.MouseButton.RightButton:  # type: ignore[attr-defined]
            self.price_menu(price).popup(QCursor.pos())

    def price_menu(self, price: float) -> QMenu:
        """Right-click on the price pane: order or alert at that price."""
        menu = QMenu(self)
        text = f"{price:,.{max(0, -int(np.floor(np.log10(self.tick))))}f}"
        for action, label in (("buy", _("Buy limit at {price}")), ("sell", _("Sell limit at {price}")),
                              ("alert", _("Alert when the price crosses {price}"))):
            menu.addAction(label.format(price=text)).triggered.connect(
                lambda _c=False, a=action: self.priceAction.emit(a, price))
        return menu

    # -- indicators --------------------------------------------------------------------------------
    def set_indicator(self, name: str, enabled: bool, **params: object) -> None:
        if name not in self.enabled:
            raise ValueError(f"unknown indicator {name}")
        self.enabled[name] = enabled
        self._params[name].update(params)
        for key, row, plot in (("rsi", 2, self.rsi_plot), ("macd", 3, self.macd_plot)):
            on = self.enabled[key]
            plot.setVisible(on)
            # A hidden pane must not keep its share of the height.
            self.glw.ci.layout.setRowStretchFactor(row, 2 if on else 0)
            plot.setMaximumHeight(16_777_215 if on else 0)
        bottom = "macd" if self.enabled["macd"] else "rsi" if self.enabled["rsi"] else "volume"
        for key, plot in (("volume", self.volume_plot), ("rsi", self.rsi_plot), ("macd", self.macd_plot)):
            plot.showAxis("bottom") if key == bottom else plot.hideAxis("bottom")
        self._recompute_indicators()

    def _curve(self, plot: pg.PlotItem, color: str) -> LineItem:
        c = LineItem(color)
        plot.addItem(c)
        return c

    def _recompute_indicators(self) -> None:
        s = self.series
        n = s.n
        close = s.c[:n]
        wanted: dict[str, list[tuple[pg.PlotItem, str, np.ndarray]]] = {}
        if self.enabled["sma"]:
            wanted["sma"] = [(self.price_plot, "#f5a623", ind.sma(close, self._params["sma"]["n"]))]
        if self.enabled["ema"]:
            wanted["ema"] = [(self.price_plot, "#4c8bf5", ind.ema(close, self._params["ema"]["n"]))]
        if self.enabled["bollinger"]:
            mid, up, lo = ind.bollinger(close, self._params["bollinger"]["n"], self._params["bollinger"]["k"])
            wanted["bollinger"] = [(self.price_plot, "#b07cff", up), (self.price_plot, "#b07cff", mid),
                                   (self.price_plot, "#b07cff", lo)]
        if self.enabled["vwap"]:
            days = s.t[:n] // 86_400_000
            starts = np.flatnonzero(np.diff(days)) + 1 if n > 1 else np.empty(0, int)
            wanted["vwap"] = [(self.price_plot, "#e0e0e0", ind.vwap(s.h[:n], s.l[:n], close, s.v[:n], starts))]
        if self.enabled["rsi"]:
            wanted["rsi"] = [(self.rsi_plot, "#4c8bf5", ind.rsi(close, self._params["rsi"]["n"]))]
        if self.enabled["macd"]:
            p = self._params["macd"]
            line, sig, hist = ind.macd(close, p["fast"], p["slow"], p["signal"])
            wanted["macd"] = [(self.macd_plot, "#4c8bf5", line), (self.macd_plot, "#f5a623", sig),
                              (self.macd_plot, "#8a93a0", hist)]
        for name in list(self.curves):
            if name not in wanted:
                for c in self.curves.pop(name):
                    vb = c.getViewBox()
                    if vb is not None:
                        vb.removeItem(c)
        for name, specs in wanted.items():
            curves = self.curves.get(name)
            if curves is None or len(curves) != len(specs):
                curves = self.curves[name] = [self._curve(plot, color) for plot, color, _ in specs]
            for c, (_plot, _color, y) in zip(curves, specs, strict=True):
                c.set_y(y)
        if self.enabled["rsi"]:
            for level in (30, 70):
                if not any(getattr(i, "_rsi_level", None) == level for i in self.rsi_plot.items):
                    ln = pg.InfiniteLine(level, angle=0, pen=pg.mkPen("#8a93a0", style=Qt.PenStyle.DashLine))
                    ln._rsi_level = level  # type: ignore[attr-defined]
                    self.rsi_plot.addItem(ln)
        self._autorange_y()

    # -- orders, fills, signals, position -----------------------------------------------------------------
    def set_order_lines(self, lines: list[OrderLine]) -> None:
        keep = {ln.client_order_id for ln in lines}
        for cid in list(self._order_lines):
            if cid not in keep:
                self.price_plot.removeItem(self._order_lines.pop(cid))
        for ln in lines:
            color = self._buy if ln.side == "buy" else self._sell
            item = self._order_lines.get(ln.client_order_id)
            if item is None:
                item = pg.InfiniteLine(angle=0, movable=ln.draggable,
                                       pen=pg.mkPen(color, width=1.5, style=Qt.PenStyle.DashLine),
                                       hoverPen=pg.mkPen(color, width=3),
                                       label=ln.label, labelOpts={"position": 0.35, "color": color, "fill": (0, 0, 0, 120),
                                                                   "anchors": [(0, 1), (0, 1)]})
                item.client_order_id = ln.client_order_id  # type: ignore[attr-defined]
                item.sigPositionChangeFinished.connect(self._line_released)
                self.price_plot.addItem(item, ignoreBounds=True)
                self._order_lines[ln.client_order_id] = item
            item.blockSignals(True)
            item.setValue(ln.price)
            item.blockSignals(False)
            item.label.setFormat(ln.label)
            item.setMovable(ln.draggable)
        self._schedule_autorange()

    def order_line(self, client_order_id: str) -> pg.InfiniteLine | None:
        return self._order_lines.get(client_order_id)

    def _line_released(self, line: pg.InfiniteLine) -> None:
        price = round(line.value() / self.tick) * self.tick
        self.orderLineMoved.emit(line.client_order_id, price)  # type: ignore[attr-defined]

    def _index_of(self, t_ms: int) -> int:
        s = self.series
        i = int(np.searchsorted(s.t[: s.n], t_ms, side="right")) - 1
        return max(0, min(i, s.n - 1))

    def add_fill_marker(self, t_ms: int, price: float, side: str) -> None:
        self._fills.append((t_ms, price, side))
        self._refresh_markers()

    def clear_fill_markers(self) -> None:
        self._fills.clear()
        self._refresh_markers()

    def add_signal_marker(self, t_ms: int, price: float, direction: str, label: str = "") -> None:
        self._signals.append((t_ms, price, direction, label))
        self._refresh_markers()

    def _refresh_markers(self) -> None:
        spots = [{"pos": (self._index_of(t), p), "symbol": "t1" if side == "buy" else "t",
                  "brush": pg.mkBrush(self._buy if side == "buy" else self._sell)} for t, p, side in self._fills]
        self.fill_markers.setData(spots)
        sig = [{"pos": (self._index_of(t), p), "symbol": {"long": "t1", "short": "t"}.get(d, "o"),
                "brush": pg.mkBrush({"long": "#4c8bf5", "short": "#f5a623"}.get(d, "#8a93a0")), "data": label}
               for t, p, d, label in self._signals]
        self.signal_markers.setData(sig)

    def set_position(self, avg_price: float | None, qty: float, pnl_text: str) -> None:
        visible = avg_price is not None and qty != 0
        self.position_line.setVisible(visible)
        self.position_label.setVisible(visible)
        if visible:
            self.position_line.setValue(avg_price)
            self.position_label.setText(f"{_('Position')} {qty:g} @ {avg_price:,.2f}  {pnl_text}")
            i0, _i1 = self.visible_bars()
            self.position_label.setPos(i0, avg_price)

    # -- theme ------------------------------------------------------------------------------------
    def set_theme(self, name: str) -> None:
        dark = name == "dark"
        bg, fg = ("#14171c", "#8a93a0") if dark else ("#ffffff", "#5d6673")
        self._buy, self._sell = ("#26a69a", "#ef5350") if dark else ("#089981", "#d9363e")
        self.glw.setBackground(bg)
        for plot in (self.price_plot, self.volume_plot, self.rsi_plot, self.macd_plot):
            for axis in ("right", "bottom"):
                ax = plot.getAxis(axis)
                ax.setPen(pg.mkPen(fg))
                ax.setTextPen(pg.mkPen(fg))
        self.candles.set_colors(self._buy, self._sell)
        self.volume.set_colors(self._buy, self._sell)
        self._refresh_markers()
