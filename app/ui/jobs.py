"""Long jobs (history downloads, backtests) run as asyncio tasks or in an executor, never on the
GUI thread's time: the status bar shows a progress bar and a Cancel button while they run."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from app.i18n import _

T = TypeVar("T")


class JobBar(QWidget):
    """One running job at a time in the status bar: its name, a progress bar, Cancel."""

    def __init__(self) -> None:
        super().__init__()
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(160)
        self.bar.setMaximumHeight(14)
        self.cancel_btn = QPushButton(_("Cancel"))
        self.cancel_btn.clicked.connect(self.cancel)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.label)
        lay.addWidget(self.bar)
        lay.addWidget(self.cancel_btn)
        self._task: asyncio.Task[Any] | None = None
        self.setVisible(False)

    def retranslate(self) -> None:
        self.cancel_btn.setText(_("Cancel"))

    def progress(self, done: int, total: int) -> None:
        """Report progress from the job (total 0: unknown, a busy bar)."""
        self.bar.setRange(0, total)
        self.bar.setValue(done)

    async def run(self, title: str, job: Awaitable[T], *, cancellable: bool = True) -> T | None:
        """Run ``job`` with the bar shown; None if the user cancelled it."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self.label.setText(title)
        self.cancel_btn.setText(_("Cancel"))
        self.cancel_btn.setVisible(cancellable)
        self.progress(0, 0)
        self.setVisible(True)
        task = asyncio.ensure_future(job)
        self._task = task
        try:
            return await task
        except asyncio.CancelledError:
            return None
        finally:
            self.setVisible(False)

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()
