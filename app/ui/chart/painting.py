"""A paint method must never raise: Qt calls it from C++, and an exception escaping there can take
the whole window down. The guard logs the first failure of each item type and draws nothing."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QPainter

log = logging.getLogger(__name__)
_reported: set[str] = set()


def safe_paint(fn: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(fn)
    def paint(self: Any, p: QPainter, *args: object) -> None:
        p.save()
        try:
            fn(self, p, *args)
        except Exception:
            name = type(self).__name__
            if name not in _reported:
                _reported.add(name)
                log.exception("chart: %s failed to paint", name)
        finally:
            p.restore()

    return paint
