"""Per-venue state in the status bar: connected or not, the last request's latency and the clock's
offset from the exchange's (a large one is shown in the warning colour: signed requests fail with
Binance's -1021 beyond its receive window); and what reconciliation found after the start and after
each reconnect (a toast and the line's tooltip)."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlparse

from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from app.domain.errors import AppError
from app.engine.events import ReconciliationDone
from app.i18n import _

from . import theme
from .context import UiContext
from .words import message_text

CLOCK_WARN_MS = 1000  # an offset this large is shown in the warning colour


def data_source(venue: Any) -> Any:
    """Where a venue's market data comes from: a paper venue's source (an exchange on live data),
    the venue itself otherwise."""
    return getattr(venue, "source", venue)


def link_figures(venue: Any) -> tuple[float | None, int | None]:
    """(latency ms, clock offset ms) of the exchange behind ``venue``; None where there is none (demo)."""
    src = data_source(venue)
    latency = getattr(src, "latency_ms", None)
    client = getattr(src, "client", None)
    offset = getattr(src, "clock_offset_ms", None)
    if client is not None and getattr(client, "clock_synced_ms", None) is None:
        offset = None  # not measured yet
    return (float(latency) if isinstance(latency, int | float) else None, offset if isinstance(offset, int) else None)


def connect_error_text(exc: AppError) -> str:
    """Why a venue could not be reached, short: "cannot reach api.binance.com: no network"."""
    if exc.key == "error.no_network":
        host = str(exc.params.get("host", ""))
        return _("cannot reach {host}: no network").format(host=urlparse(host).netloc or host)
    return message_text(exc.key, exc.template, exc.params)


def reconciliation_text(e: ReconciliationDone) -> str:
    if not e.changes:
        return _("Reconciled with {venue}: nothing changed").format(venue=e.venue)
    lines = [message_text("", m.template, m.params) for m in e.messages] or list(e.changes)
    return (
        _("Reconciled with {venue}: {n} change(s)").format(venue=e.venue, n=len(e.changes))
        + "\n"
        + "\n".join("• " + line for line in lines[:8])
    )


class VenueStatus(QWidget):
    """One line per venue of the session: ``binance ● connected · 42 ms · clock +3 ms``."""

    def __init__(self, ctx: UiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.labels: dict[str, QLabel] = {}
        self.reconciled: dict[str, tuple[float, ReconciliationDone]] = {}
        self._lay = QHBoxLayout(self)
        self._lay.setContentsMargins(0, 0, 0, 0)
        ctx.bridge.reconciled.connect(self.on_reconciled)

    def on_reconciled(self, e: ReconciliationDone) -> None:
        self.reconciled[e.venue] = (time.time(), e)
        self.refresh()

    def _label(self, venue: str) -> QLabel:
        lab = self.labels.get(venue)
        if lab is None:
            lab = QLabel()
            lab.setObjectName(f"venue_status_{venue}")
            self._lay.addWidget(lab)
            self.labels[venue] = lab
        return lab

    def connected(self, venue: Any) -> bool:
        """Market data came in the last few seconds for a symbol of this venue."""
        ages = [
            self.ctx.bridge.data_age_s(s)
            for (v, s) in self.ctx.orders.instruments
            if v == venue.name and s in [*self.ctx.session.symbols, self.ctx.selection.symbol]
        ]
        return any(a is not None and a < 5 for a in ages)

    def text_of(self, venue: Any) -> tuple[str, bool]:
        """The line for ``venue`` and whether it needs the warning colour."""
        ok = self.connected(venue)
        parts = [venue.name, "● " + (_("connected") if ok else _("no data"))]
        latency, offset = link_figures(venue)
        if latency is not None:
            parts.append(_("{ms} ms").format(ms=int(latency)))
        warn = not ok
        if offset is not None:
            parts.append(_("clock {offset} ms").format(offset=f"{offset:+d}"))
            warn = warn or abs(offset) >= CLOCK_WARN_MS
        return " · ".join(parts), warn

    def refresh(self) -> None:
        c = theme.colors()
        for venue in self.ctx.session.venues:
            lab = self._label(venue.name)
            text, warn = self.text_of(venue)
            lab.setText(" " + text + " ")
            sheet = f"color: {c.warning if warn else c.buy};"
            if lab.styleSheet() != sheet:
                lab.setStyleSheet(sheet)
            tip = [_("Latency: the last request's round trip. Clock: the exchange's time minus this computer's.")]
            if venue.name in self.reconciled:
                at, e = self.reconciled[venue.name]
                tip.append(time.strftime("%H:%M:%S", time.localtime(at)) + " — " + reconciliation_text(e))
            lab.setToolTip("\n".join(tip))
