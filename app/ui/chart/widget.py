"""The trading chart: candles and volume, indicator overlays, RSI/MACD panes, a crosshair with a
read-out, the user's orders as draggable lines, fills and model signals as markers.

x is the bar index (market gaps do not show); drawing cost follows the pixels on screen, not the
length of the history (see ``items``); live ticks update indicators in O(window) (``studies``).
"""

from __future__ import annotations

import math
import weakref

import numpy as np
import pyqtgraph as pg
from pyqtgraph.GraphicsScene.mouseEvents import MouseClickEvent
from PySide6.QtCore import QEvent, QObject, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QCursor, QFont, QFontMetricsF, QKeyEvent
from PySide6.QtWidgets import QApplication, QGraphicsScene, QMenu, QVBoxLayout, QWidget

from app.domain.market import Bar
from app.i18n import N_, _, on_language_changed

from .axes import (
    Axis,
    AxisTags,
    CompactAxis,
    PriceAxis,
    Tag,
    TimeAxis,
    compact,
    format_price,
    format_readout_time,
    price_decimals,
)
from .items import BandItem, CandleItem, GridItem, HistogramItem, LineItem, VolumeItem
from .markers import MarkerItem
from .orders import OrderLine, OrderLines
from .overlays import LegendItem, PriceLabel, PriceLabels, TopRule
from .palette import PALETTES, over, qcolor
from .series import APPENDED, IGNORED, OhlcSeries
from .studies import STUDIES, Study

pg.setConfigOptions(antialias=False, useNumba=False)

MIN_BARS = 8  # narrowest zoom
KEY_PAN = 0.1  # of the visible width per arrow key
KEY_ZOOM = 1.25
NAMES = {
    "sma": N_("SMA"),
    "ema": N_("EMA"),
    "bollinger": N_("BB"),
    "vwap": N_("VWAP"),
    "rsi": N_("RSI"),
    "macd": N_("MACD"),
}
OVERLAYS = ("sma", "ema", "bollinger", "vwap")  # drawn on the price pane, in the legend's order


def right_margin(width_bars: float) -> float:
    """Empty bars kept right of the last one, so the live candle is not glued to the axis."""
    return min(50.0, max(3.0, width_bars * 0.04))


class ChartWidget(QWidget):
    orderLineMoved = Signal(str, float)  # line id (the client order id, "#trigger" for a trigger), new price
    orderCancelRequested = Signal(str)  # client order id: the ✕ on its label
    alertRemoveRequested = Signal(str)  # alert id: the ✕ on its label
    priceClicked = Signal(float)  # left click in the price pane (rounded to the tick)
    priceAction = Signal(str, float)  # "buy" | "sell" | "alert", price (from the right-click menu)
    visibleRangeChanged = Signal(int, int)  # first and last visible bar index

    INDICATORS = tuple(STUDIES)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.series = OhlcSeries()
        self.tick = 0.01
        self.decimals = 2
        self.follow_live = True
        self.hover_index: int | None = None
        self.palette_ = PALETTES["dark"]
        self.params: dict[str, dict[str, float]] = {k: dict(cls.defaults) for k, cls in STUDIES.items()}
        self.studies: dict[str, Study] = {}
        self.curves: dict[str, list[LineItem | HistogramItem]] = {}
        self._bands: dict[str, BandItem] = {}
        self._outputs: dict[str, list[tuple[str, LineItem | HistogramItem]]] = {}

        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.glw.viewport().setFocusPolicy(Qt.FocusPolicy.NoFocus)
        # Items here change bounds with every pan and zoom; a BSP index would only be rebuilt.
        self.glw.scene().setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        self.glw.scene().contextMenu = []  # pyqtgraph's "Export..." (untranslated, not a trader's tool)
        self.glw.ci.layout.setSpacing(0)
        self.glw.ci.setContentsMargins(0, 0, 0, 0)
        self._pane_on: dict[int, bool] = {}
        self.price_plot = self._plot(0, PriceAxis())
        self.volume_plot = self._plot(1, CompactAxis(orientation="right"))
        self.rsi_plot = self._plot(2, Axis(orientation="right"))
        self.macd_plot = self._plot(3, CompactAxis(orientation="right"))
        self.plots = [self.price_plot, self.volume_plot, self.rsi_plot, self.macd_plot]
        self._show_pane(self.price_plot, True)
        self._show_pane(self.volume_plot, True)
        self.rsi_plot.getAxis("right").setTicks([[(30, "30"), (70, "70")]])
        self.rsi_plot.getViewBox().setYRange(-4, 118, padding=0)
        self._show_pane(self.rsi_plot, False)
        self._show_pane(self.macd_plot, False)

        vb = self.price_plot.getViewBox()
        self.candles = CandleItem(self.series)
        self.volume = VolumeItem(self.series)
        self.price_plot.addItem(self.candles, ignoreBounds=True)
        self.volume_plot.addItem(self.volume, ignoreBounds=True)
        self.markers = MarkerItem(self.series)
        self.markers.setZValue(60)
        self.price_plot.addItem(self.markers, ignoreBounds=True)
        self.grids = [GridItem(p.getAxis("bottom"), p.getAxis("right"), QColor("#222833")) for p in self.plots]
        for plot, grid in zip(self.plots, self.grids, strict=True):
            grid.setZValue(-100)
            plot.addItem(grid, ignoreBounds=True)

        self.tags = {id(p): AxisTags(p.getAxis("right"), p.getViewBox()) for p in self.plots}
        self.time_tags = {id(p): AxisTags(p.getAxis("bottom"), p.getViewBox()) for p in self.plots}
        self.price_tags = self.tags[id(self.price_plot)]
        self.labels = PriceLabels(vb, self._label_closed)
        self.legends = {id(p): LegendItem(p.getViewBox()) for p in self.plots if p is not self.volume_plot}
        self.rules = [TopRule(p.getViewBox()) for p in self.plots[1:]]
        self.orders = OrderLines(
            self.price_plot,
            self.labels,
            self.price_tags,
            self.orderLineMoved.emit,
            self.round_price,
            lambda: self.decimals,
        )

        self.last_line = pg.InfiniteLine(angle=0, movable=False)
        self.position_line = pg.InfiniteLine(angle=0, movable=False)
        self.position_line.setVisible(False)
        for line in (self.last_line, self.position_line):
            line.setZValue(40)
            self.price_plot.addItem(line, ignoreBounds=True)
        self._position: tuple[float, float, str] | None = None
        self._alert_lines: dict[str, pg.InfiniteLine] = {}
        self._alert_specs: list[tuple[str, float, str]] = []

        # Crosshair: a vertical line in every pane, a horizontal one in the pane under the mouse.
        self.vlines = {id(p): pg.InfiniteLine(angle=90, movable=False) for p in self.plots}
        self.hlines = {id(p): pg.InfiniteLine(angle=0, movable=False) for p in self.plots}
        for p in self.plots:
            for line in (self.vlines[id(p)], self.hlines[id(p)]):
                line.setVisible(False)
                line.setZValue(200)
                p.addItem(line, ignoreBounds=True)
        scene = self.glw.scene()
        scene.sigMouseMoved.connect(self._mouse_moved)
        scene.sigMouseClicked.connect(self._mouse_clicked)
        self.glw.viewport().installEventFilter(self)
        vb.sigXRangeChanged.connect(self._x_changed)
        vb.sigResized.connect(self._resized)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.glw, 1)
        self.set_theme("dark")
        self._update_limits()
        self._listen_for_language()

    def _label_closed(self, key: str) -> None:
        kind, _sep, ident = key.partition(":")
        if kind == "cancel":
            self.orderCancelRequested.emit(ident)
        elif kind == "alert":
            self.alertRemoveRequested.emit(ident)

    def _plot(self, row: int, right: pg.AxisItem) -> pg.PlotItem:
        plot = self.glw.addPlot(
            row=row,
            col=0,
            axisItems={"bottom": TimeAxis(self.series), "right": right, "left": Axis("left"), "top": Axis("top")},
        )
        plot.hideAxis("left")
        plot.hideAxis("top")
        plot.showAxis("right")
        plot.hideButtons()
        plot.setMenuEnabled(False)
        plot.layout.setContentsMargins(0, 0, 0, 0)
        vb = plot.getViewBox()
        vb.setMouseEnabled(x=True, y=False)
        vb.disableAutoRange()
        vb.setDefaultPadding(0)
        right.setWidth(72)
        right.setStyle(hideOverlappingLabels=True)  # no label spills into the pane above or below
        if row:
            plot.setXLink(self.price_plot)
        plot.hideAxis("bottom")
        return plot

    def _show_pane(self, plot: pg.PlotItem, on: bool) -> None:
        row = self.plots.index(plot)
        plot.setVisible(on)
        self._pane_on[id(plot)] = on
        plot.setMaximumHeight((130 if plot is self.volume_plot else 16_777_215) if on else 0)
        self.glw.ci.layout.setRowStretchFactor(row, (6 if row == 0 else 1 if row == 1 else 2) if on else 0)
        # Which panes are on, not isVisible(): before the chart is first shown nothing is "visible",
        # and the time axis must sit under the lowest pane from the first start.
        bottom = next(p for p in reversed(self.plots) if self._pane_on.get(id(p)) or p is self.price_plot)
        for p in self.plots:
            if p is bottom:
                p.showAxis("bottom")
            else:
                p.hideAxis("bottom")

    def _bottom_plot(self) -> pg.PlotItem:
        return next(p for p in reversed(self.plots) if self._pane_on.get(id(p)) or p is self.price_plot)

    def bottom_axis_plot(self) -> pg.PlotItem:
        """The pane that shows the time axis (the lowest one switched on)."""
        return next(p for p in self.plots if p.getAxis("bottom").isVisible() and self._pane_on.get(id(p)))

    # -- data -------------------------------------------------------------------------------------
    def set_history(
        self,
        t_ms: np.ndarray,
        o: np.ndarray,
        h: np.ndarray,
        l: np.ndarray,  # noqa: E741
        c: np.ndarray,
        v: np.ndarray,
        tick: float = 0.01,
    ) -> None:
        """Replace the whole history (bars in time order). Fill and signal markers are cleared;
        order lines and the position stay (the window re-sends them for a new symbol)."""
        self.tick = tick if tick > 0 else 0.01
        self.decimals = price_decimals(self.tick)
        self.price_plot.getAxis("right").decimals = self.decimals
        self.series.set(
            np.asarray(t_ms, np.int64),
            np.asarray(o, float),
            np.asarray(h, float),
            np.asarray(l, float),
            np.asarray(c, float),
            np.asarray(v, float),
        )
        self.markers.clear()
        self.hover_index = None
        self._fit_axis_width()
        for name, study in self.studies.items():
            study.compute(self.series)
            self._push(name)
        self._update_limits()
        self.candles.data_changed()
        self.volume.data_changed()
        self._last_price()
        self.show_last(min(150, max(self.series.n, 10)))
        self._fit_y()
        self._legend()

    def set_bars(self, bars: list[Bar], tick: float = 0.01) -> None:
        """History from domain bars; Decimals become floats here, for drawing only."""
        n = len(bars)
        t = np.fromiter((b.open_ms for b in bars), np.int64, n)
        op, hi, lo, cl, vol = (
            np.fromiter((float(getattr(b, f)) for b in bars), float, n)
            for f in ("open", "high", "low", "close", "volume")
        )
        self.set_history(t, op, hi, lo, cl, vol, tick=tick)

    def update_bar(self, t_ms: int, o: float, h: float, l: float, c: float, v: float) -> None:  # noqa: E741
        """A live bar: the same open time as the last bar replaces it (the forming candle), a
        newer one is appended, an older one is ignored."""
        s = self.series
        result = s.update(int(t_ms), float(o), float(h), float(l), float(c), float(v))
        if result == IGNORED:
            return
        i = s.n - 1
        for name, study in self.studies.items():
            study.update(s, i)
            self._push(name)
        self._last_price()
        if result == APPENDED:
            self._update_limits()
            if s.n == 1:
                self.show_last(150)
            elif self.follow_live:
                vb = self.price_plot.getViewBox()
                (x0, x1), _yr = vb.viewRange()
                vb.setXRange(x0 + 1, x1 + 1, padding=0)  # fits y through _x_changed
        i0, i1 = self.visible_bars()
        if i0 <= i <= i1:
            self._fit_y()
        self.candles.data_changed()
        self.volume.data_changed()
        if self.hover_index is None:
            self._legend()

    def update_from_bar(self, bar: Bar) -> None:
        self.update_bar(
            bar.open_ms, float(bar.open), float(bar.high), float(bar.low), float(bar.close), float(bar.volume)
        )

    def round_price(self, price: float) -> float:
        return round(round(price / self.tick) * self.tick, self.decimals)

    # -- view -------------------------------------------------------------------------------------
    def show_last(self, count: int) -> None:
        """The last ``count`` bars, following new ones."""
        end = self.series.n - 1
        count = max(MIN_BARS, count)
        self.price_plot.getViewBox().setXRange(end - count + 0.5, end + 0.5 + right_margin(count), padding=0)
        self.follow_live = True

    def show_all(self) -> None:
        n = self.series.n
        self.price_plot.getViewBox().setXRange(-0.5, n - 0.5 + right_margin(n), padding=0)

    def visible_bars(self) -> tuple[int, int]:
        (x0, x1), _yr = self.price_plot.getViewBox().viewRange()
        return max(0, math.floor(x0 + 0.5)), min(self.series.n - 1, math.ceil(x1 - 0.5))

    def _update_limits(self) -> None:
        n = max(self.series.n, MIN_BARS)
        for p in self.plots:
            p.getViewBox().setLimits(
                xMin=-0.5 - right_margin(n),
                xMax=n - 0.5 + right_margin(n) * 2,
                minXRange=MIN_BARS,
                maxXRange=n + right_margin(n) * 3,
            )

    def _resized(self, *_: object) -> None:
        self._fit_y()

    def _x_changed(self, *_: object) -> None:
        (_x0, x1), _yr = self.price_plot.getViewBox().viewRange()
        self.follow_live = x1 >= self.series.n - 1
        self._fit_y()
        self.visibleRangeChanged.emit(*self.visible_bars())

    def _pixels_to_value(self, plot: pg.PlotItem, span: float, top_px: float, bottom_px: float) -> tuple[float, float]:
        """Padding (below, above) in data units so that ``span`` fills the pane minus the pixels."""
        height = max(40.0, plot.getViewBox().height())
        per_px = span / max(10.0, height - top_px - bottom_px)
        return bottom_px * per_px, top_px * per_px

    def _fit_y(self) -> None:
        """Fit each pane's y range to what is visible (and the price pane to nearby orders)."""
        s = self.series
        i0, i1 = self.visible_bars()
        if s.n == 0 or i1 < i0:
            return
        vb = self.price_plot.getViewBox()
        (x0, x1), _yr = vb.viewRange()
        bpp = (x1 - x0) / max(1.0, vb.width())
        extent = s.range_minmax(i0, i1)
        if extent is None:  # not while visible_bars() is clamped to the history (checked above)
            return
        lo, hi = extent
        for name in OVERLAYS:
            for item in self.curves.get(name, []):
                ext = item.visible_extent() if isinstance(item, LineItem) else None
                if ext is not None:
                    lo, hi = min(lo, ext[0]), max(hi, ext[1])
        span = hi - lo
        extra = self.orders.prices()
        if self._position is not None:
            extra.append(self._position[0])
        for v in extra:  # orders and the position near the market stay in view; far ones do not
            if lo - span * 0.5 <= v <= hi + span * 0.5:
                lo, hi = min(lo, v), max(hi, v)
        span = hi - lo or max(abs(hi) * 0.002, self.tick * 10)
        legend_px = self.legends[id(self.price_plot)].boundingRect().height()
        below, above = self._pixels_to_value(self.price_plot, span, legend_px + 10, 22)
        vb.setYRange(lo - below, hi + above, padding=0)
        vmax = s.vmax_range(i0, i1)
        self.volume_plot.getViewBox().setYRange(0, vmax * 1.12 if vmax > 0 else 1.0, padding=0)
        if "macd" in self.curves:
            exts = [e for it in self.curves["macd"] if (e := self._extent(it, i0, i1, bpp)) is not None]
            if exts:
                a, b = min(e[0] for e in exts), max(e[1] for e in exts)
                a, b = min(a, 0.0), max(b, 0.0)
                legend = self.legends[id(self.macd_plot)].boundingRect().height()
                below, above = self._pixels_to_value(self.macd_plot, (b - a) or 1.0, legend + 4, 4)
                self.macd_plot.getViewBox().setYRange(a - below, b + above, padding=0)

    @staticmethod
    def _extent(item: LineItem | HistogramItem, i0: int, i1: int, bpp: float) -> tuple[float, float] | None:
        if isinstance(item, LineItem):
            return item.visible_extent()
        seg = item.y[max(0, i0) : min(item.n, i1 + 1) : max(1, int(bpp / 64))]
        if len(seg) == 0:
            return None
        a, b = np.fmin.reduce(seg), np.fmax.reduce(seg)
        return (float(a), float(b)) if np.isfinite(a) and np.isfinite(b) else None

    def _fit_axis_width(self) -> None:
        s = self.series
        widest = float(np.max(np.abs(s.h[: s.n]))) if s.n else 100_000.0
        axis = self.price_plot.getAxis("right")
        fm = QFontMetricsF(axis.style.get("tickFont") or axis.font())
        width = int(min(140, max(64, fm.horizontalAdvance(format_price(widest * 10, self.decimals)) + 14)))
        for p in self.plots:
            p.getAxis("right").setWidth(width)

    def zoom(self, factor: float) -> None:
        """Zoom by ``factor`` (>1 shows more bars): around the live end when following it."""
        vb = self.price_plot.getViewBox()
        (x0, x1), _yr = vb.viewRange()
        n = max(self.series.n, MIN_BARS)
        width = min(max(MIN_BARS, (x1 - x0) * factor), n + right_margin(n) * 3)
        if self.follow_live:
            vb.setXRange(x1 - width, x1, padding=0)
        else:
            mid = (x0 + x1) / 2
            vb.setXRange(mid - width / 2, mid + width / 2, padding=0)

    def pan(self, bars: float) -> None:
        vb = self.price_plot.getViewBox()
        (x0, x1), _yr = vb.viewRange()
        vb.setXRange(x0 + bars, x1 + bars, padding=0)

    def keyPressEvent(self, e: QKeyEvent) -> None:
        (x0, x1), _yr = self.price_plot.getViewBox().viewRange()
        width = x1 - x0
        key = e.key()
        if key == Qt.Key.Key_Left:
            self.pan(-max(1.0, width * KEY_PAN))
        elif key == Qt.Key.Key_Right:
            self.pan(max(1.0, width * KEY_PAN))
        elif key in (Qt.Key.Key_Up, Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom(1 / KEY_ZOOM)
        elif key in (Qt.Key.Key_Down, Qt.Key.Key_Minus):
            self.zoom(KEY_ZOOM)
        elif key == Qt.Key.Key_Home:
            self.price_plot.getViewBox().setXRange(-0.5 - right_margin(width), width - 0.5, padding=0)
        elif key == Qt.Key.Key_End:
            self.show_last(int(width - right_margin(width)))
        else:
            super().keyPressEvent(e)
            return
        e.accept()

    # -- crosshair and read-out --------------------------------------------------------------------
    def _plot_at(self, pos: QPointF) -> pg.PlotItem | None:
        for p in self.plots:
            if p.isVisible() and p.getViewBox().sceneBoundingRect().contains(pos):
                return p
        return None

    def _mouse_moved(self, pos: QPointF) -> None:
        plot = self._plot_at(pos)
        if plot is None or self.series.n == 0:
            self._hide_crosshair()
            return
        pt = plot.getViewBox().mapSceneToView(pos)
        i = min(max(0, round(pt.x())), self.series.n - 1)
        self.hover_index = i
        pal = self.palette_
        fill, text = qcolor(pal.crosshair), qcolor(pal.background)
        for p in self.plots:
            v, h = self.vlines[id(p)], self.hlines[id(p)]
            v.setPos(i)
            v.setVisible(p.isVisible())
            h.setVisible(p is plot)
            if p is plot:
                h.setPos(pt.y())
            value = self._axis_value(p, pt.y())
            self.tags[id(p)].set("cross", Tag(pt.y(), value, fill, text, order=10) if p is plot else None)
        bottom = self._bottom_plot()
        for p in self.plots:
            self.time_tags[id(p)].set(
                "cross", Tag(float(i), format_readout_time(int(self.series.t[i])), fill, text) if p is bottom else None
            )
        self._legend(i)

    def _axis_value(self, plot: pg.PlotItem, y: float) -> str:
        if plot is self.price_plot or plot is self.macd_plot:
            return format_price(y, self.decimals)
        if plot is self.rsi_plot:
            return f"{y:.2f}"
        return compact(y)

    def _hide_crosshair(self) -> None:
        if self.hover_index is None and not any(v.isVisible() for v in self.vlines.values()):
            return
        self.hover_index = None
        for p in self.plots:
            self.vlines[id(p)].setVisible(False)
            self.hlines[id(p)].setVisible(False)
            self.tags[id(p)].set("cross", None)
            self.time_tags[id(p)].set("cross", None)
        self._legend()

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:
        if ev.type() == QEvent.Type.Leave:
            self._hide_crosshair()
        return super().eventFilter(obj, ev)

    def readout_text(self, i: int, price: float | None = None) -> str:
        """The read-out of bar i as plain text (what the legend's first line says)."""
        text = "".join(t for t, _c in self._readout_runs(i))
        if price is not None:
            text += f"   {_('Cursor')} {format_price(price, self.decimals)}"
        return text

    def legend_text(self) -> str:
        return self.legends[id(self.price_plot)].text()

    def _readout_runs(self, i: int) -> list[tuple[str, QColor]]:
        s, pal, d = self.series, self.palette_, self.decimals
        if not 0 <= i < s.n:
            return []
        muted, txt = qcolor(pal.muted), qcolor(pal.text)
        color = qcolor(pal.up if s.c[i] >= s.o[i] else pal.down)
        runs = [(format_readout_time(int(s.t[i])) + "   ", muted)]
        for name, value in ((_("O"), s.o[i]), (_("H"), s.h[i]), (_("L"), s.l[i]), (_("C"), s.c[i])):
            runs += [(f"{name} ", muted), (format_price(float(value), d) + "  ", color)]
        runs += [(f"{_('V')} ", muted), (f"{s.v[i]:,.4g}", txt)]
        if i > 0 and s.c[i - 1]:
            change = (s.c[i] / s.c[i - 1] - 1) * 100
            runs.append((f"  {change:+.2f}%", color))
        return runs

    def _legend(self, i: int | None = None) -> None:
        """Legends show the bar under the crosshair, or the last bar."""
        s, pal = self.series, self.palette_
        i = s.n - 1 if i is None else i
        muted = qcolor(pal.muted)
        lines = [self._readout_runs(i)] if s.n else []
        overlay: list[tuple[str, QColor]] = []
        for name in OVERLAYS:
            study = self.studies.get(name)
            if study is None:
                continue
            color = qcolor(getattr(pal, name))
            outs = ("upper", "mid", "lower") if name == "bollinger" else study.outputs[:1]
            values = " ".join(self._fmt(study.value(o, i), self.decimals) for o in outs)
            overlay += [(f"{_(NAMES[name])} {study.param_text()} ".replace("  ", " "), muted), (values + "    ", color)]
        if overlay:
            lines.append(overlay)
        self.legends[id(self.price_plot)].set_lines(lines)
        for name, plot in (("rsi", self.rsi_plot), ("macd", self.macd_plot)):
            study = self.studies.get(name)
            if study is None:
                continue
            runs = [(f"{_(NAMES[name])} {study.param_text()}  ", muted)]
            if name == "rsi":
                runs.append((self._fmt(study.value("rsi", i), 2), qcolor(pal.rsi)))
            else:
                d = self.decimals
                runs += [
                    (self._fmt(study.value("macd", i), d) + "  ", qcolor(pal.macd)),
                    (self._fmt(study.value("signal", i), d) + "  ", qcolor(pal.signal)),
                    (self._fmt(study.value("hist", i), d), qcolor(pal.up if study.value("hist", i) >= 0 else pal.down)),
                ]
            self.legends[id(plot)].set_lines([runs])

    @staticmethod
    def _fmt(value: float, decimals: int) -> str:
        return "—" if not math.isfinite(value) else format_price(value, decimals)

    # -- clicks -----------------------------------------------------------------------------------
    def _mouse_clicked(self, ev: MouseClickEvent) -> None:
        pos = ev.scenePos()
        plot = self._plot_at(pos)
        if ev.isAccepted() or plot is not self.price_plot:
            return
        price = self.round_price(plot.getViewBox().mapSceneToView(pos).y())
        if ev.button() == Qt.MouseButton.LeftButton:
            self.priceClicked.emit(price)
        elif ev.button() == Qt.MouseButton.RightButton:
            self.price_menu(price).popup(QCursor.pos())

    def price_menu(self, price: float) -> QMenu:
        """Right-click on the price pane: an order or an alert at that price."""
        menu = QMenu(self)
        text = format_price(price, self.decimals)
        for action, label in (
            ("buy", _("Buy limit at {price}")),
            ("sell", _("Sell limit at {price}")),
            ("alert", _("Alert when the price crosses {price}")),
        ):
            menu.addAction(label.format(price=text)).triggered.connect(
                lambda _c=False, a=action: self.priceAction.emit(a, price)
            )
        return menu

    # -- indicators -------------------------------------------------------------------------------
    def set_indicator(self, name: str, enabled: bool, **params: float) -> None:
        """Switch an indicator on or off; parameters (``n``, ``k``, ``fast``…) are kept for the
        next time it is switched on."""
        if name not in STUDIES:
            raise ValueError(f"unknown indicator {name!r}")
        if params:
            STUDIES[name](**params)  # refuses unknown parameters before anything changes
            self.params[name].update(params)
        self._remove_curves(name)
        self.studies.pop(name, None)
        if enabled:
            study = self.studies[name] = STUDIES[name](**self.params[name])
            study.compute(self.series)
            self._add_curves(name)
            self._push(name)
        if name == "rsi":
            self._show_pane(self.rsi_plot, enabled)
        elif name == "macd":
            self._show_pane(self.macd_plot, enabled)
        self._fit_y()
        self._legend(self.hover_index)

    def indicator_enabled(self, name: str) -> bool:
        return name in self.studies

    def _add_curves(self, name: str) -> None:
        pal = self.palette_
        plot = {"rsi": self.rsi_plot, "macd": self.macd_plot}.get(name, self.price_plot)
        outs: list[tuple[str, LineItem | HistogramItem]] = []
        if name == "bollinger":
            color = qcolor(pal.bollinger)
            band = self._bands[name] = BandItem(over(qcolor(pal.band_fill), qcolor(pal.background)))
            band.setZValue(-10)
            plot.addItem(band, ignoreBounds=True)
            outs = [
                ("upper", LineItem(color)),
                ("mid", LineItem(color, style=Qt.PenStyle.DashLine)),
                ("lower", LineItem(color)),
            ]
        elif name == "macd":
            hist = HistogramItem()
            hist.set_colors(qcolor(pal.up), qcolor(pal.down))
            outs = [("hist", hist), ("macd", LineItem(qcolor(pal.macd))), ("signal", LineItem(qcolor(pal.signal)))]
        elif name == "rsi":
            outs = [("rsi", LineItem(qcolor(pal.rsi)))]
            for level in (30, 70):
                ln = pg.InfiniteLine(
                    level, angle=0, movable=False, pen=pg.mkPen(qcolor(pal.muted), style=Qt.PenStyle.DashLine)
                )
                ln.is_rsi_level = True
                plot.addItem(ln, ignoreBounds=True)
        else:
            outs = [(name, LineItem(qcolor(getattr(pal, name))))]
        for _o, item in outs:
            item.setZValue(20)
            plot.addItem(item, ignoreBounds=True)
        self._outputs[name] = outs
        self.curves[name] = [item for _o, item in outs]

    def _remove_curves(self, name: str) -> None:
        plot = {"rsi": self.rsi_plot, "macd": self.macd_plot}.get(name, self.price_plot)
        for item in self.curves.pop(name, []):
            plot.removeItem(item)
        band = self._bands.pop(name, None)
        if band is not None:
            plot.removeItem(band)
        self._outputs.pop(name, None)
        if name == "rsi":
            for it in [i for i in plot.items if getattr(i, "is_rsi_level", False)]:
                plot.removeItem(it)

    def _push(self, name: str) -> None:
        """Hand the study's arrays (views, no copies) to its items."""
        study, n = self.studies[name], self.series.n
        for out, item in self._outputs.get(name, []):
            if isinstance(item, HistogramItem):
                item.set_data(study.out[out], n)
            else:
                item.set_data(study.out[out], n, study.breaks)
        band = self._bands.get(name)
        if band is not None:
            band.set_data(study.out["upper"], study.out["lower"], n)

    # -- orders, fills, signals, position -----------------------------------------------------------
    def set_order_lines(self, lines: list[OrderLine]) -> None:
        self.orders.set(lines)
        self._fit_y()

    def set_alert_lines(self, alerts: list[tuple[str, float, str]]) -> None:
        """The active price alerts of the symbol on screen: (alert id, price, label); a ✕ removes one."""
        keep = {a for a, _p, _t in alerts}
        for aid in [a for a in self._alert_lines if a not in keep]:
            self.price_plot.removeItem(self._alert_lines.pop(aid))
            self.labels.set(f"alert:{aid}", None)
            self.price_tags.set(f"alert:{aid}", None)
        color = qcolor(self.palette_.alert)
        for aid, price, text in alerts:
            line = self._alert_lines.get(aid)
            if line is None:
                line = self._alert_lines[aid] = pg.InfiniteLine(angle=0, movable=False)
                line.setZValue(45)
                self.price_plot.addItem(line, ignoreBounds=True)
            line.setPen(pg.mkPen(color, width=1, style=Qt.PenStyle.DotLine))
            line.setValue(price)
            self.labels.set(f"alert:{aid}", PriceLabel(price, text, color, close_key=f"alert:{aid}", dashed=True))
            self.price_tags.set(
                f"alert:{aid}",
                Tag(price, format_price(price, self.decimals), color, qcolor(self.palette_.background), order=1),
            )
        self._alert_specs = list(alerts)

    def alert_line_ids(self) -> list[str]:
        return list(self._alert_lines)

    def settle_order_line(self, client_order_id: str) -> None:
        """The move proposed by dragging this line was answered: it follows its order again."""
        self.orders.settle(client_order_id)

    def order_line(self, client_order_id: str) -> pg.InfiniteLine | None:
        return self.orders.items.get(client_order_id)

    def add_fill_marker(self, t_ms: int, price: float, side: str) -> None:
        """A fill: "buy" draws ▲ under the price, "sell" ▼ over it."""
        self.markers.add(t_ms, price, "buy" if side == "buy" else "sell")

    def clear_fill_markers(self) -> None:
        """Remove the fills; model signals stay."""
        self.markers.remove_kinds(("buy", "sell"))

    def add_signal_marker(self, t_ms: int, price: float, direction: str, label: str = "") -> None:
        """A model signal: "long", "short" or "flat", with a short label (e.g. "long 0.71")."""
        if direction not in ("long", "short", "flat"):
            raise ValueError(f"unknown signal direction {direction!r}")
        self.markers.add(t_ms, price, direction, label)

    def fill_count(self) -> int:
        return self.markers.count(("buy", "sell"))

    @property
    def _fills(self) -> list[str]:
        """The fill markers' sides (tests/gui/test_window.py counts them; prefer ``fill_count``)."""
        return [k for k in self.markers.kinds() if k in ("buy", "sell")]

    def set_position(self, avg_price: float | None, qty: float, pnl_text: str) -> None:
        """The open position's entry price as a line, with its size and P&L; None or 0 hides it."""
        visible = avg_price is not None and qty != 0
        self.position_line.setVisible(visible)
        if not visible:
            self._position = None
            self.labels.set("position", None)
            self.price_tags.set("position", None)
            return
        assert avg_price is not None
        self._position = (avg_price, qty, pnl_text)
        self.position_line.setValue(avg_price)
        color = qcolor(self.palette_.position)
        text = f"{_('Position')} {qty:+g} @ {format_price(avg_price, self.decimals)}"
        if pnl_text:
            text += f"   {pnl_text}"
        self.labels.set("position", PriceLabel(avg_price, text, color))
        self.price_tags.set(
            "position",
            Tag(avg_price, format_price(avg_price, self.decimals), color, qcolor(self.palette_.background), order=3),
        )

    def _last_price(self) -> None:
        s = self.series
        if s.n == 0:
            self.last_line.setVisible(False)
            self.price_tags.set("last", None)
            return
        c = float(s.c[s.n - 1])
        pal = self.palette_
        color = qcolor(pal.up if s.c[s.n - 1] >= s.o[s.n - 1] else pal.down)
        self.last_line.setVisible(True)
        self.last_line.setValue(c)
        self.last_line.setPen(
            pg.mkPen(QColor(color.red(), color.green(), color.blue(), 150), style=Qt.PenStyle.DotLine)
        )
        self.price_tags.set(
            "last", Tag(c, format_price(c, self.decimals), color, qcolor(pal.last_tag_text), order=5, clamp=True)
        )

    # -- language -------------------------------------------------------------------------------
    def retranslate(self) -> None:
        """Legends and time labels in the current language (also done on a language change), in
        the window's font family (Korean needs one with Hangul)."""
        family = QApplication.font().family()
        for f in [lg.font for lg in self.legends.values()] + [self.labels.font, self.markers.font]:
            f.setFamily(family)
        for p in self.plots:
            for name in ("right", "bottom"):
                ax = p.getAxis(name)
                tick = QFont(ax.style.get("tickFont") or ax.font())
                tick.setFamily(family)
                ax.setStyle(tickFont=tick)
        for tags in list(self.tags.values()) + list(self.time_tags.values()):
            tags.font.setFamily(family)
        for p in self.plots:
            p.getAxis("bottom").picture = None
            p.getAxis("bottom").update()
        self._legend(self.hover_index)
        if self._position is not None:
            self.set_position(*self._position)

    def _listen_for_language(self) -> None:
        ref = weakref.ref(self)  # the listener list must not keep a closed chart (and its arrays) alive

        def changed(_lang: str) -> None:
            chart = ref()
            if chart is not None:
                chart.retranslate()

        unlisten = on_language_changed(changed)
        self.destroyed.connect(lambda *_a: unlisten())

    # -- theme ------------------------------------------------------------------------------------
    def set_theme(self, name: str) -> None:
        pal = self.palette_ = PALETTES.get(name, PALETTES["dark"])
        self.glw.setBackground(pal.background)
        muted = qcolor(pal.muted)
        for p in self.plots:
            for axis in ("right", "bottom"):
                ax = p.getAxis(axis)
                ax.setPen(pg.mkPen(qcolor(pal.grid).lighter(160) if name == "dark" else qcolor(pal.grid).darker(130)))
                ax.setTextPen(pg.mkPen(muted))
            cross = pg.mkPen(qcolor(pal.crosshair), width=1, style=Qt.PenStyle.DashLine)
            self.vlines[id(p)].setPen(cross)
            self.hlines[id(p)].setPen(cross)
        for grid in self.grids:
            grid.set_color(qcolor(pal.grid))
        for rule in self.rules:
            rule.color = qcolor(pal.grid).lighter(170) if name == "dark" else qcolor(pal.grid).darker(125)
            rule.update()
        up, down = qcolor(pal.up), qcolor(pal.down)
        self.candles.set_colors(up, down)
        self.volume.alpha = pal.volume_alpha
        self.volume.background = qcolor(pal.background)
        self.volume.set_colors(up, down)
        self.markers.set_colors(
            {"buy": up, "sell": down, "long": qcolor(pal.long), "short": qcolor(pal.short), "flat": qcolor(pal.flat)},
            qcolor(pal.background),
            qcolor(pal.label_fill),
        )
        self.orders.set_colors(up, down, qcolor(pal.last_tag_text))
        fill = qcolor(pal.label_fill)
        self.labels.fill = fill
        for legend in self.legends.values():
            legend.fill = QColor(fill.red(), fill.green(), fill.blue(), 150)
        self.position_line.setPen(pg.mkPen(qcolor(pal.position), width=1, style=Qt.PenStyle.DashLine))
        for name in list(self.studies):
            self._remove_curves(name)
            self._add_curves(name)
            self._push(name)
        if self._position is not None:
            self.set_position(*self._position)
        if self._alert_specs:
            self.set_alert_lines(self._alert_specs)
        self._last_price()
        self._legend(self.hover_index)
        self.labels.update()
