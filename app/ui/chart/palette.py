"""The chart's colours for the dark and the light theme, taken from the application theme where
they overlap (background, text, buy/sell), so the chart and the panels agree."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor

from app.ui import theme


def over(color: QColor, background: QColor) -> QColor:
    """The opaque colour a translucent one shows over the background (opaque fills paint faster)."""
    a = color.alphaF()
    return QColor(
        *(round(getattr(color, ch)() * a + getattr(background, ch)() * (1 - a)) for ch in ("red", "green", "blue"))
    )


def qcolor(spec: str, alpha: int | None = None) -> QColor:
    """ "#rrggbb" or "#rrggbbaa" (CSS order; Qt would read the latter as #aarrggbb)."""
    s = spec.lstrip("#")
    c = QColor(int(s[0:2], 16), int(s[2:4], 16), int(s[4:6], 16), int(s[6:8], 16) if len(s) == 8 else 255)
    if alpha is not None:
        c.setAlpha(alpha)
    return c


@dataclass(frozen=True, slots=True)
class ChartPalette:
    name: str
    background: str
    text: str
    muted: str
    grid: str
    crosshair: str
    up: str
    down: str
    volume_alpha: int
    sma: str
    ema: str
    bollinger: str
    band_fill: str  # RGBA hex
    vwap: str
    rsi: str
    macd: str
    signal: str
    position: str
    alert: str
    last_tag_text: str
    long: str
    short: str
    flat: str
    label_fill: str  # RGBA hex, behind text drawn over candles


def _make(c: theme.Colors, dark: bool) -> ChartPalette:
    return ChartPalette(
        name=c.name,
        background=c.window if dark else c.panel,
        text=c.text,
        muted=c.muted,
        grid="#222833" if dark else "#e6e9ee",
        crosshair="#9aa3b0" if dark else "#6b7480",
        up=c.buy,
        down=c.sell,
        volume_alpha=110 if dark else 120,
        sma="#f5a623" if dark else "#c27c0e",
        ema="#4c8bf5" if dark else "#1f6feb",
        bollinger="#b07cff" if dark else "#7b3fe4",
        band_fill="#b07cff14" if dark else "#7b3fe412",
        vwap="#22d3ee" if dark else "#0e7490",
        rsi="#b07cff" if dark else "#7b3fe4",
        macd="#4c8bf5" if dark else "#1f6feb",
        signal="#f5a623" if dark else "#c27c0e",
        position=c.warning,
        alert="#e879f9" if dark else "#a21caf",
        last_tag_text="#ffffff",
        long="#4c8bf5" if dark else "#1f6feb",
        short="#ff9f43" if dark else "#d9480f",
        flat=c.muted,
        label_fill="#14171cc8" if dark else "#ffffffd2",
    )


PALETTES = {"dark": _make(theme.DARK, True), "light": _make(theme.LIGHT, False)}
