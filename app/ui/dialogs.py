"""Questions and messages that never block the event loop.

A dialog is shown with ``open()`` and its answer is awaited as a future: while it is on screen
the one qasync loop keeps running, so trades, the book, candles, fills and timers go on. (A
modal ``exec()`` inside an ``@asyncSlot`` would run a nested Qt loop in which asyncio cannot
enter any other task: the market would stop until the dialog closed, and for good after it.)
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QCheckBox, QDialog, QInputDialog, QMessageBox, QWidget

from app.i18n import _

_OPEN: list[QDialog] = []  # dialogs on screen, newest last (strong references: Qt must not lose them)


@dataclass(frozen=True, slots=True)
class Answer:
    """The user's answer: ``yes`` (the accepting button was pressed) and the check box's state."""

    yes: bool
    checked: bool = False

    def __bool__(self) -> bool:
        return self.yes


def open_dialogs() -> list[QMessageBox]:
    """The questions and messages on screen now (for tests and for closing them on exit)."""
    return [b for b in _OPEN if isinstance(b, QMessageBox) and _alive(b) and b.isVisible()]


def open_inputs() -> list[QInputDialog]:
    return [b for b in _OPEN if isinstance(b, QInputDialog) and _alive(b) and b.isVisible()]


def _alive(box: QDialog) -> bool:
    try:
        box.objectName()
    except RuntimeError:  # the C++ object is gone
        return False
    return True


def close_all() -> None:
    """Answer "no" to every open question (the window is closing)."""
    for box in list(_OPEN):
        if _alive(box):
            box.reject()


def _box(parent: QWidget | None, icon: QMessageBox.Icon, title: str, text: str) -> QMessageBox:
    box = QMessageBox(parent)
    box.setIcon(icon)
    box.setWindowTitle(title)
    box.setText(text)
    box.setTextFormat(Qt.TextFormat.PlainText)
    # Window-modal: the rest of the window waits for the answer, the event loop does not.
    box.setWindowModality(Qt.WindowModality.WindowModal if parent is not None else Qt.WindowModality.ApplicationModal)
    return box


async def ask(
    parent: QWidget | None,
    title: str,
    text: str,
    *,
    accept: str | None = None,
    reject: str | None = None,
    checkbox: str | None = None,
    danger: bool = False,
) -> Answer:
    """Ask a yes/no question without blocking; the answer once the user gives it. Buttons carry
    verbs in the user's language (``accept``/``reject``, "Yes"/"No" by default); the safe answer
    is the default one, so Enter never confirms something by accident."""
    box = _box(parent, QMessageBox.Icon.Warning if danger else QMessageBox.Icon.Question, title, text)
    yes_btn = box.addButton(accept or _("Yes"), QMessageBox.ButtonRole.YesRole)
    no_btn = box.addButton(reject or _("No"), QMessageBox.ButtonRole.NoRole)
    box.setDefaultButton(no_btn)
    box.setEscapeButton(no_btn)
    check: QCheckBox | None = None
    if checkbox:
        check = QCheckBox(checkbox)
        box.setCheckBox(check)
    return await _show(box, yes_btn, check)


async def _show(box: QMessageBox, yes_btn: QAbstractButton | None, check: QCheckBox | None) -> Answer:
    fut: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()

    def finished(_code: int) -> None:
        if not fut.done():
            yes = yes_btn is not None and box.clickedButton() is yes_btn
            fut.set_result(Answer(yes, bool(check is not None and check.isChecked())))

    def gone(*_a: object) -> None:
        if not fut.done():
            fut.set_result(Answer(False))

    box.finished.connect(finished)
    box.destroyed.connect(gone)
    _OPEN.append(box)
    box.open()
    try:
        return await fut
    finally:
        if box in _OPEN:
            _OPEN.remove(box)
        if _alive(box):
            box.hide()
            box.deleteLater()


async def ask_number(parent: QWidget | None, title: str, label: str, value: str = "") -> Decimal | None:
    """Ask for a number above zero without blocking; ``None`` when the user cancels or types
    something that is not one (the caller says so)."""
    box = QInputDialog(parent)
    box.setWindowTitle(title)
    box.setLabelText(label)
    box.setTextValue(value)
    box.setOkButtonText(_("OK"))
    box.setCancelButtonText(_("Cancel"))
    box.setWindowModality(Qt.WindowModality.WindowModal if parent is not None else Qt.WindowModality.ApplicationModal)
    fut: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()

    def finished(code: int) -> None:
        if not fut.done():
            fut.set_result(box.textValue() if code == QDialog.DialogCode.Accepted else None)

    box.finished.connect(finished)
    box.destroyed.connect(lambda *_a: None if fut.done() else fut.set_result(None))
    _OPEN.append(box)
    box.open()
    try:
        text = await fut
    finally:
        if box in _OPEN:
            _OPEN.remove(box)
        if _alive(box):
            box.hide()
            box.deleteLater()
    if text is None:
        return None
    try:
        number = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        return None
    return number if number.is_finite() and number > 0 else None


def inform(parent: QWidget | None, title: str, text: str, *, error: bool = False) -> QMessageBox:
    """Show a message and return at once (nothing waits for the OK)."""
    box = _box(parent, QMessageBox.Icon.Critical if error else QMessageBox.Icon.Information, title, text)
    box.setWindowModality(Qt.WindowModality.NonModal)
    box.addButton(_("OK"), QMessageBox.ButtonRole.AcceptRole)
    _OPEN.append(box)

    def finished(_code: int) -> None:
        if box in _OPEN:
            _OPEN.remove(box)
        box.deleteLater()

    box.finished.connect(finished)
    box.show()
    return box
