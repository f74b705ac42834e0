"""Everything a trader needs is usable at 1280×720 (issue 7, item 13): the ticket's fields, error
and submit for every order type, the book's spread and best bids, whole column headers."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QWidget

from app.domain.enums import Side


@pytest.fixture
def small(gui):
    w = gui.window
    w.resize(1280, 720)
    gui.pump(0.05)
    w.default_layout()
    gui.pump(0.1)
    return gui


def fully_visible(widget: QWidget, inside: QWidget) -> bool:
    """``widget`` is shown whole within ``inside`` (not cut by a scroll area or the dock's edge)."""
    if not widget.isVisible():
        return False
    rect = QRect(widget.mapTo(inside, widget.rect().topLeft()), widget.size())
    return inside.rect().contains(rect) and widget.visibleRegion().boundingRect().size() == widget.size()


@pytest.mark.parametrize("kind", ["limit", "stop_limit", "trailing_stop", "oco", "bracket"])
def test_the_ticket_is_usable_at_1280x720_for_every_order_type(small, kind):
    t = small.window.ticket
    t.set_side(Side.SELL)
    t.set_kind(kind)
    t.amount.setText("0.000001")  # an error to show
    small.pump(0.1)
    dock = small.window.docks["ticket"]
    for w in (t.submit_btn, t.error, t.amount):
        assert fully_visible(w, dock), (kind, w)
    assert t.error.text() and not t.form_scroll.horizontalScrollBar().isVisible()
    assert not t.form_scroll.verticalScrollBar().isVisible(), kind  # the ticket took the height its form needs


def test_the_book_shows_the_spread_and_both_sides_at_1280x720(small):
    book = small.window.book
    small.market("60000")
    model = book.model
    assert len(model.bids) >= 3 and len(model.asks) >= 3
    last_bid = book.view.visualRect(model.index(model.rowCount() - 1, 0))
    assert book.view.viewport().rect().contains(last_bid)


def test_portfolio_headers_are_whole_at_1280x720(small):
    small.window.docks["portfolio"].raise_()
    small.pump(0.05)
    from PySide6.QtWidgets import QTableView

    for view in small.window.portfolio.findChildren(QTableView):
        header = view.horizontalHeader()
        fm = header.fontMetrics()
        for i in range(header.count()):
            text = view.model().headerData(i, header.orientation())
            assert header.sectionSize(i) >= fm.horizontalAdvance(text), text
