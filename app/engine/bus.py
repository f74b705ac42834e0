"""A typed publish/subscribe bus. Handlers run synchronously in publication order; one failing
handler is logged and never stops the others (a chart bug must not stop a stop-loss)."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any, TypeVar

log = logging.getLogger(__name__)
E = TypeVar("E")
Handler = Callable[[Any], None]


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[type, list[Handler]] = defaultdict(list)
        self.errors = 0

    def subscribe(self, event_type: type[E], handler: Callable[[E], None]) -> Callable[[], None]:
        """Call ``handler`` for every published event of exactly ``event_type``; returns an
        unsubscribe function (widgets call it when they close)."""
        handlers = self._handlers[event_type]
        handlers.append(handler)

        def unsubscribe() -> None:
            if handler in handlers:
                handlers.remove(handler)

        return unsubscribe

    def publish(self, event: object) -> None:
        handlers = self._handlers.get(type(event))
        if not handlers:
            return
        for handler in tuple(handlers):
            try:
                handler(event)
            except Exception:
                self.errors += 1
                log.exception("event handler %r failed on %s", handler, type(event).__name__)
