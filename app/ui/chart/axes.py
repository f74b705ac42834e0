"""Axes: time under bar indices (ticks on round local times, dates where a day begins), prices
with the instrument's decimals, compact volumes, and coloured value tags drawn on an axis (last
price, crosshair, orders, position)."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pyqtgraph as pg
from babel.dates import format_skeleton
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPainterPath

from app import i18n

from .painting import safe_paint
from .series import OhlcSeries

MINUTE, HOUR, DAY = 60_000, 3_600_000, 86_400_000
# Candidate tick steps: fixed lengths below a day, then calendar steps (days, months, years).
FIXED_STEPS = [
    1_000,
    5_000,
    15_000,
    30_000,
    MINUTE,
    5 * MINUTE,
    15 * MINUTE,
    30 * MINUTE,
    HOUR,
    2 * HOUR,
    3 * HOUR,
    4 * HOUR,
    6 * HOUR,
    12 * HOUR,
]
CALENDAR_STEPS = [
    ("day", 1),
    ("day", 2),
    ("day", 7),
    ("month", 1),
    ("month", 3),
    ("month", 6),
    ("year", 1),
    ("year", 2),
    ("year", 5),
    ("year", 10),
]
TICK_PX = 90  # room for one time label
_TICK_CACHE: dict[tuple, tuple[list, int]] = {}


def local_dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000)


def _boundaries(t0: int, t1: int, step: int | tuple[str, int]) -> list[int]:
    """Round local times (ms) in [t0, t1] on the given step."""
    start = local_dt(t0)
    if isinstance(step, int):
        utc_offset = start.astimezone().utcoffset()  # never None: astimezone() gives an aware time
        offset = int(utc_offset.total_seconds() * 1000) if utc_offset is not None else 0
        first = -(-(t0 + offset) // step) * step - offset
        return list(range(first, t1 + 1, step))
    unit, every = step
    out: list[int] = []
    if unit == "day":
        d = start.replace(hour=0, minute=0, second=0, microsecond=0)
        if every == 7:
            d -= timedelta(days=d.weekday())  # weeks start on Monday
        while True:
            ms = int(d.timestamp() * 1000)
            if ms > t1:
                return out
            if ms >= t0 and (every == 7 or (d.toordinal() % every) == 0):
                out.append(ms)
            d += timedelta(days=every if every == 7 else 1)
    y, m = start.year, start.month
    if unit == "year":
        y, m = y - y % every, 1
    else:
        m = m - (m - 1) % every
    while True:
        ms = int(datetime(y, m, 1).timestamp() * 1000)
        if ms > t1:
            return out
        if ms >= t0:
            out.append(ms)
        if unit == "year":
            y += every
        else:
            m += every
            y, m = y + (m - 1) // 12, (m - 1) % 12 + 1


class Axis(pg.AxisItem):
    """pyqtgraph's axis, safe to tear down: when Python exits, PySide may delete the axis label
    before the axis, whose next resize would then raise inside Qt and crash the process."""

    tag_layer: AxisTags | None = None

    def resizeEvent(self, ev: object = None) -> None:
        try:
            super().resizeEvent(ev)
        except RuntimeError:
            self.picture = None

    def generateDrawSpecs(self, p: QPainter) -> tuple | None:
        """pyqtgraph's ticks and labels, less the labels a value tag covers (the last price, an
        order's price, the crosshair): a tag reads cleanly instead of over half a tick label."""
        specs = super().generateDrawSpecs(p)
        layer = self.tag_layer
        if specs is None or layer is None or not layer.tags:
            return specs
        covered = [rect.adjusted(0, -1, 0, 1) for rect, _tag in layer.layout()]
        if not covered:
            return specs
        axis_spec, tick_specs, text_specs = specs
        kept = [t for t in text_specs if not any(t[0].intersects(c) for c in covered)]
        return axis_spec, tick_specs, kept


class TimeAxis(Axis):
    """Bottom axis: integer bar index → that bar's local time. Ticks sit on the first bar at or
    after round times, so gaps in the data (maintenance, a closed market) do not break them."""

    def __init__(self, series: OhlcSeries) -> None:
        super().__init__(orientation="bottom")
        self.series = series
        self._labels: dict[tuple[int, str, str], str] = {}
        self._step_ms = MINUTE

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list:
        # Every pane asks (its grid, and the axis itself): compute once per view.
        key = (id(self.series), self.series.closed_version, minVal, maxVal, size)
        hit = _TICK_CACHE.get(key)
        if hit is None:
            if len(_TICK_CACHE) > 64:
                _TICK_CACHE.clear()
            hit = _TICK_CACHE[key] = (self._tick_values(minVal, maxVal, size), self._step_ms)
        self._step_ms = hit[1]
        return hit[0]

    def _tick_values(self, minVal: float, maxVal: float, size: float) -> list:
        s = self.series
        if s.n == 0 or size <= 0:
            return []
        i0, i1 = max(0, math.ceil(minVal)), min(s.n - 1, math.floor(maxVal))
        if i1 <= i0:
            return [(1.0, [float(i0)])] if i1 == i0 else []
        t0, t1 = int(s.t[i0]), int(s.t[i1])
        max_ticks = max(2, int(size / TICK_PX))
        bar = s.bar_ms()
        step: int | tuple[str, int] = ("year", 10)
        candidates: list[int | tuple[str, int]] = [*FIXED_STEPS, *CALENDAR_STEPS]
        for cand in candidates:
            length = (
                cand if isinstance(cand, int) else {"day": DAY, "month": 30 * DAY, "year": 365 * DAY}[cand[0]] * cand[1]
            )
            if length >= bar and (t1 - t0) / length <= max_ticks:
                step = cand
                break
        self._step_ms = step if isinstance(step, int) else DAY
        times = np.asarray(_boundaries(t0, t1, step), dtype=np.int64)
        idx = np.unique(np.searchsorted(s.t[: s.n], times, side="left"))
        idx = idx[(idx >= i0) & (idx <= i1)]
        # Gaps squeeze several round times into a few bars: keep ticks apart on screen.
        min_gap = (i1 - i0) / max_ticks * 0.6
        kept: list[float] = []
        for i in idx.tolist():
            if not kept or i - kept[-1] >= min_gap:
                kept.append(float(i))
        return [(max(1.0, (i1 - i0) / max_ticks), kept)]

    def label_kind(self, i: int) -> str:
        """What changed at bar i since the bar before: "year", "month", "day" or "time"."""
        s = self.series
        cur = local_dt(int(s.t[i]))
        if i == 0:
            return "day" if self._step_ms < DAY else "month"
        prev = local_dt(int(s.t[i - 1]))
        if cur.year != prev.year:
            return "year"
        if cur.month != prev.month:
            return "month"
        if cur.date() != prev.date():
            return "day"
        return "time"

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        s = self.series
        out = []
        lang = i18n.language()
        for v in values:
            i = round(v)
            if not 0 <= i < s.n:
                out.append("")
                continue
            kind = self.label_kind(i)
            if kind == "time" and self._step_ms >= DAY:
                kind = "day"
            key = (int(s.t[i]), kind, lang)
            text = self._labels.get(key)
            if text is None:
                if len(self._labels) > 4096:
                    self._labels.clear()
                text = self._labels[key] = format_time_label(int(s.t[i]), kind)
            out.append(text)
        return out


def format_time_label(ms: int, kind: str) -> str:
    dt = local_dt(ms)
    loc = i18n.locale()
    if kind == "year":
        return format_skeleton("y", dt, locale=loc)
    if kind == "month":
        return format_skeleton("MMM", dt, locale=loc)
    if kind == "day":
        return format_skeleton("MMMd", dt, locale=loc)
    return dt.strftime("%H:%M:%S" if ms % MINUTE else "%H:%M")


def format_readout_time(ms: int) -> str:
    """Date and time of a bar for the crosshair read-out and tag (local time)."""
    dt = local_dt(ms)
    date = format_skeleton("yMMMd", dt, locale=i18n.locale())
    return f"{date} {dt.strftime('%H:%M:%S' if ms % MINUTE else '%H:%M')}"


def price_decimals(tick: float) -> int:
    if tick <= 0:
        return 2
    return max(0, min(12, -math.floor(math.log10(tick) + 1e-9)))


def format_price(value: float, decimals: int) -> str:
    return f"{value:,.{decimals}f}"


class PriceAxis(Axis):
    """Right axis of the price pane: grouped thousands, decimals as the tick size allows."""

    def __init__(self) -> None:
        super().__init__(orientation="right")
        self.decimals = 2

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        d = min(self.decimals, max(0, -math.floor(math.log10(spacing) + 1e-9))) if spacing > 0 else self.decimals
        return [format_price(v, d) for v in values]


def compact(value: float) -> str:
    """1234567 → "1.23M" (volumes on an axis)."""
    a = abs(value)
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if a >= div:
            return f"{value / div:.3g}{suffix}"
    return f"{value:.3g}" if a >= 0.001 or a == 0 else f"{value:.1e}"


class CompactAxis(Axis):
    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [compact(v) for v in values]


@dataclass(slots=True)
class Tag:
    value: float
    text: str
    fill: QColor
    text_color: QColor
    order: int = 0  # higher draws on top
    clamp: bool = False  # stick to the edge when out of view (the last price), else hide


CROSS_ORDER = 10  # the crosshair's tag sits exactly at the cursor, over the others


def _spread(placed: list[tuple[QRectF, Tag]], top: float, bottom: float) -> None:
    """Move overlapping tags apart vertically (in place), keeping them inside [top, bottom]."""
    if len(placed) < 2:
        return
    placed.sort(key=lambda rt: rt[0].center().y())
    for (prev, _t), (rect, _u) in itertools.pairwise(placed):
        if rect.top() < prev.bottom():
            rect.moveTop(prev.bottom())
    overflow = placed[-1][0].bottom() - bottom
    if overflow > 0:
        placed[-1][0].moveBottom(bottom)
        for (rect, _t), (nxt, _u) in itertools.pairwise(reversed(placed)):
            if nxt.bottom() > rect.top():
                nxt.moveBottom(rect.top())
    if placed[0][0].top() < top:
        placed[0][0].moveTop(top)


class AxisTags(pg.GraphicsObject):
    """Value tags painted on an axis: a filled box with the value where it falls on the axis."""

    def __init__(self, axis: pg.AxisItem, vb: pg.ViewBox) -> None:
        super().__init__(axis)
        self.axis, self.vb = axis, vb
        self.tags: dict[str, Tag] = {}
        self.font = axis.style.get("tickFont") or axis.font()
        self.setZValue(1000)
        if isinstance(axis, Axis):
            axis.tag_layer = self  # the axis leaves out the tick labels under a tag
        vb.sigRangeChanged.connect(self._moved)
        vb.sigResized.connect(self._moved)

    def _moved(self, *_: object) -> None:
        self.prepareGeometryChange()
        self.update()

    def set(self, name: str, tag: Tag | None) -> None:
        if tag is None:
            if self.tags.pop(name, None) is not None:
                self._changed()
            return
        old = self.tags.get(name)
        self.tags[name] = tag
        if old is None or old.value != tag.value or old.text != tag.text:
            self._changed()
        else:
            self.update()

    def _changed(self) -> None:
        self.axis.picture = None  # its labels are drawn again around the tags where they are now
        self.axis.update()
        self.update()

    def _axis_rect(self) -> QRectF:
        """The axis' own strip (its boundingRect also spans the plot when it draws a grid)."""
        return self.axis.mapRectFromParent(self.axis.geometry())

    def boundingRect(self) -> QRectF:
        return self._axis_rect().adjusted(-2, -12, 2, 12)

    def layout(self) -> list[tuple[QRectF, Tag]]:
        """Where each tag is drawn (axis coordinates): at its value, pushed apart where they overlap."""
        vertical = self.axis.orientation in ("left", "right")
        fm = QFontMetricsF(self.font)
        h = fm.height() + 4
        ar = self._axis_rect()
        placed: list[tuple[QRectF, Tag]] = []
        for tag in self.tags.values():
            pt = self.mapFromItem(self.vb, self.vb.mapFromView(QPointF(tag.value, tag.value)))
            if vertical:
                y = pt.y()
                if not ar.top() <= y <= ar.bottom():
                    if not tag.clamp:
                        continue
                    y = min(max(y, ar.top() + h / 2), ar.bottom() - h / 2)
                rect = QRectF(ar.left() + 1, y - h / 2, ar.width() - 1, h)
            else:
                x = pt.x()
                if not ar.left() <= x <= ar.right():
                    continue
                w = fm.horizontalAdvance(tag.text) + 12
                left = min(max(x - w / 2, ar.left()), ar.right() - w)
                rect = QRectF(left, ar.top() + 1, w, h)
            placed.append((rect, tag))
        if vertical:
            _spread([(r, t) for r, t in placed if t.order < CROSS_ORDER], ar.top(), ar.bottom())
        return placed

    @safe_paint
    def paint(self, p: QPainter, *args: object) -> None:
        if not self.tags:
            return
        vertical = self.axis.orientation in ("left", "right")
        placed = self.layout()
        p.setFont(self.font)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for rect, tag in sorted(placed, key=lambda rt: rt[1].order):
            path = QPainterPath()
            path.addRoundedRect(rect, 2, 2)
            p.fillPath(path, tag.fill)
            p.setPen(tag.text_color)
            flags = Qt.AlignmentFlag.AlignVCenter | (
                Qt.AlignmentFlag.AlignLeft if vertical else Qt.AlignmentFlag.AlignHCenter
            )
            p.drawText(rect.adjusted(5 if vertical else 0, 0, 0, 0), flags, tag.text)
