"""The activity log: what the app did, in words, in the user's language (switching the language
rewrites the lines already shown)."""

from __future__ import annotations

from collections import deque
from datetime import datetime

from PySide6.QtWidgets import QPlainTextEdit, QVBoxLayout, QWidget

from app.engine.events import ActivityLogged
from app.i18n import _

from ..context import UiContext
from ..words import message_text

MAX_LINES = 2000


class ActivityPanel(QWidget):
    def __init__(self, ctx: UiContext) -> None:
        super().__init__()
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setMaximumBlockCount(MAX_LINES)
        self.events: deque[ActivityLogged] = deque(maxlen=MAX_LINES)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.text)
        ctx.bridge.activity.connect(self.on_activity)

    @staticmethod
    def line(e: ActivityLogged) -> str:
        when = datetime.fromtimestamp(e.ts_ms / 1000).strftime("%H:%M:%S")
        mark = {"warning": "⚠ ", "error": "✖ "}.get(e.level, "")
        text = message_text("", e.template, e.params) if e.template else e.text(_)
        return f"{when}  {mark}{text}"

    def on_activity(self, e: ActivityLogged) -> None:
        self.events.append(e)
        self.text.appendPlainText(self.line(e))

    def retranslate(self) -> None:
        self.text.setPlainText("\n".join(self.line(e) for e in self.events))
        self.text.moveCursor(self.text.textCursor().MoveOperation.End)

    def lines(self) -> list[str]:
        return self.text.toPlainText().splitlines()
