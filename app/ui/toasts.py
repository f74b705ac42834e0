"""Toasts: fills, alerts and rejections pop up in the window's lower right corner for a few
seconds (a click dismisses one), so nobody has to watch the status bar to notice them."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPoint, QRect, Qt, QTimer
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from .theme import colors

SHOW_MS = 6000
MAX_SHOWN = 4
WIDTH = 300


class Toast(QFrame):
    def __init__(self, parent: QWidget, kind: str, words: Callable[[], tuple[str, str]]) -> None:
        super().__init__(parent)
        self.kind = kind
        self.words = words  # (title, text) in the current language: a switch re-renders them
        self.setObjectName("toast")
        title, text = words()
        self.title = QLabel(title)
        self.text = QLabel(text)
        self.text.setWordWrap(True)
        for lbl in (self.title, self.text):
            lbl.setTextFormat(Qt.TextFormat.PlainText)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 6, 10, 8)
        lay.setSpacing(2)
        lay.addWidget(self.title)
        lay.addWidget(self.text)
        c = colors()
        accent = {"fill": c.buy, "alert": c.accent, "rejection": c.sell}.get(kind, c.muted)
        self.setStyleSheet(
            f"QFrame#toast {{ background: {c.panel}; border: 1px solid {c.border}; "
            f"border-left: 4px solid {accent}; border-radius: 4px; }} "
            f"QFrame#toast QLabel {{ border: none; color: {c.text}; }}"
        )
        self.title.setStyleSheet(f"font-weight: 700; color: {accent};")
        self.setFixedWidth(WIDTH)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def retranslate(self) -> None:
        title, text = self.words()
        self.title.setText(title)
        self.text.setText(text)

    def mousePressEvent(self, e: QMouseEvent) -> None:
        self.close()
        self.deleteLater()
        parent = self.parentWidget()
        if isinstance(parent, QWidget) and hasattr(parent, "toasts"):
            QTimer.singleShot(0, parent.toasts.place)


class Toasts:
    """The stack of toasts over ``window`` (child widgets: they move and hide with it)."""

    def __init__(self, window: QWidget, bottom_margin: int = 30, area: Callable[[], QRect] | None = None) -> None:
        self.window = window
        self.area = area  # where the toasts go, in the window's coordinates (all of it by default)
        self.bottom_margin = bottom_margin
        self.shown: list[Toast] = []

    def show(self, kind: str, words: Callable[[], tuple[str, str]]) -> Toast:
        toast = Toast(self.window, kind, words)
        self.shown.append(toast)
        while len(self.shown) > MAX_SHOWN:
            self._drop(self.shown[0])
        toast.adjustSize()
        toast.show()
        toast.raise_()
        QTimer.singleShot(SHOW_MS, toast, lambda: self._drop(toast))  # not called once the toast is gone
        self.place()
        return toast

    def _drop(self, toast: Toast) -> None:
        if toast in self.shown:
            self.shown.remove(toast)
            try:
                toast.close()
                toast.deleteLater()
            except RuntimeError:  # already gone with the window
                pass
            self.place()

    def visible(self) -> list[Toast]:
        out = []
        for t in self.shown:
            try:
                if t.isVisible():
                    out.append(t)
            except RuntimeError:
                pass
        return out

    def retranslate(self) -> None:
        for t in self.visible():
            t.retranslate()
        self.place()

    def place(self) -> None:
        """Newest at the bottom, stacked upwards from the lower right of ``area`` (the chart, left
        of its price axis: the ticket and the book stay uncovered)."""
        try:
            area = self.area() if self.area is not None else self.window.rect()
        except RuntimeError:  # the window is gone
            return
        y = area.bottom() - self.bottom_margin
        for toast in reversed(self.visible()):
            toast.adjustSize()
            y -= toast.height() + 6
            toast.move(QPoint(area.right() - toast.width() - 12, y))
