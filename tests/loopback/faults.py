"""Fault injection for loopback exchanges: one-shot rules on HTTP requests, switches on sockets
and the clock. Tests flip them; the server consults them on every request and message."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Fault:
    """``kind``: ``429`` / ``418`` (with ``retry_after`` s), ``5xx``, ``malformed`` (HTTP 200 with broken
    JSON), ``timeout`` (the request is carried out, the answer is held ``delay`` s), ``signature``
    (answered as a wrong signature). Applies to the next ``count`` requests whose method and path
    contain ``method`` and ``path``."""

    kind: str
    path: str = ""
    method: str = ""
    count: int = 1
    retry_after: float = 1.0
    delay: float = 5.0
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        return self.count > 0 and self.path in path and (not self.method or self.method == method)


@dataclass
class Faults:
    http: list[Fault] = field(default_factory=list)
    clock_drift_ms: int = 0  # the server's clock runs this far ahead of the machine's
    book_gap: int = 0  # the next depth update skips this many update ids
    requests: list[tuple[float, str, str]] = field(default_factory=list)  # (monotonic, method, path): what came in

    def add(
        self,
        kind: str,
        path: str = "",
        *,
        method: str = "",
        count: int = 1,
        retry_after: float = 1.0,
        delay: float = 5.0,
    ) -> Fault:
        f = Fault(kind, path, method, count, retry_after, delay)
        self.http.append(f)
        return f

    def take(self, method: str, path: str) -> Fault | None:
        for f in self.http:
            if f.matches(method, path):
                f.count -= 1
                f.hits += 1
                return f
        return None

    def clear(self) -> None:
        self.http.clear()
        self.clock_drift_ms = 0
        self.book_gap = 0
        self.requests.clear()
