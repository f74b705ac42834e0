"""Table models for anything that updates often (``QAbstractTableModel``, never item widgets)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True, slots=True)
class Column:
    title: Callable[[], str]  # translated at display time, so a language switch needs no rebuild
    text: Callable[[Any], str]
    align_right: bool = False
    color: Callable[[Any], str | None] | None = None


class RowsModel(QAbstractTableModel):
    """Rows of any objects, shown through column functions; keyed rows update in place."""

    def __init__(
        self, columns: list[Column], key: Callable[[Any], Hashable] | None = None, max_rows: int | None = None
    ) -> None:
        super().__init__()
        self.columns = columns
        self.key = key
        self.max_rows = max_rows
        self.rows: list[Any] = []
        self._pos: dict[Hashable, int] = {}

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, col = self.rows[index.row()], self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return col.text(row)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            h = Qt.AlignmentFlag.AlignRight if col.align_right else Qt.AlignmentFlag.AlignLeft
            return h | Qt.AlignmentFlag.AlignVCenter
        if role == Qt.ItemDataRole.ForegroundRole and col.color is not None:
            c = col.color(row)
            return QColor(c) if c else None
        if role == Qt.ItemDataRole.UserRole:
            return row
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.columns[section].title()
        return None

    def set_rows(self, rows: list[Any]) -> None:
        self.beginResetModel()
        self.rows = list(rows[: self.max_rows] if self.max_rows else rows)
        self._reindex()
        self.endResetModel()

    def _reindex(self) -> None:
        if self.key is not None:
            self._pos = {self.key(r): i for i, r in enumerate(self.rows)}

    def upsert(self, row: Any, *, front: bool = True) -> None:
        """Update the row with the same key in place, or insert it (at the top by default)."""
        assert self.key is not None
        k = self.key(row)
        i = self._pos.get(k)
        if i is not None:
            self.rows[i] = row
            self.dataChanged.emit(self.index(i, 0), self.index(i, len(self.columns) - 1))
            return
        at = 0 if front else len(self.rows)
        self.beginInsertRows(QModelIndex(), at, at)
        self.rows.insert(at, row)
        self.endInsertRows()
        if self.max_rows and len(self.rows) > self.max_rows:
            self.beginRemoveRows(QModelIndex(), self.max_rows, len(self.rows) - 1)
            del self.rows[self.max_rows :]
            self.endRemoveRows()
        self._reindex()

    def remove(self, key: Hashable) -> None:
        i = self._pos.get(key)
        if i is None:
            return
        self.beginRemoveRows(QModelIndex(), i, i)
        del self.rows[i]
        self.endRemoveRows()
        self._reindex()

    def prepend_many(self, rows: list[Any]) -> None:
        """Add a batch at the top (newest first), trimming to ``max_rows``."""
        if not rows:
            return
        self.beginResetModel()
        self.rows = list(reversed(rows)) + self.rows
        if self.max_rows:
            del self.rows[self.max_rows :]
        self._reindex()
        self.endResetModel()

    def refresh(self) -> None:
        if self.rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, len(self.columns) - 1))
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self.columns) - 1)


def make_table(model: QAbstractTableModel, *, stretch: bool = True, rows: bool = False) -> QTableView:
    """A read-only table the way every panel shows one: no grid, no row numbers, compact rows."""
    v = QTableView()
    v.setModel(model)
    v.verticalHeader().setVisible(False)
    v.verticalHeader().setDefaultSectionSize(21)
    v.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    v.setShowGrid(False)
    if rows:
        v.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    else:
        v.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    header = v.horizontalHeader()
    if stretch:
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    else:
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
    return v
