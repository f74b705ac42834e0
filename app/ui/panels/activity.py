"""The activity log: what the app did, in words."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtWidgets import QPlainTextEdit, QVBoxLayout, QWidget

from app.engine.events import ActivityLogged
from app.i18n import _

from ..context import UiContext

MAX_LINES = 2000


class ActivityPanel(QWidget):
    def __init__(self, ctx: UiContext) -> None:
        super().__init__()
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setMaximumBlockCount(MAX_LINES)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.text)
        ctx.bridge.activity.connect(self.on_activity)

    def on_activity(self, e: ActivityLogged) -> None:
        when = datetime.fromtimestamp(e.ts_ms / 1000).strftime("%H:%M:%S")
        mark = {"warning": "⚠ ", "error": "✖ "}.get(e.level, "")
        self.text.appendPlainText(f"{when}  {mark}{e.text(_)}")

    def lines(self) -> list[str]:
        return self.text.toPlainText().splitlines()
