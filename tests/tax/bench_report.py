"""Time to compute a year's report from a long history (not a test: run it by hand).

.venv/bin/python tests/tax/bench_report.py [FILLS]      # "NAME: VALUE UNIT" lines
"""

from __future__ import annotations

import random
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[2]), str(Path(__file__).resolve().parent)]

from taxkit import ts  # noqa: E402

from app.tax.books import Method  # noqa: E402
from app.tax.compute import ReportSettings, compute_report  # noqa: E402
from app.tax.model import EventKind, TaxEvent  # noqa: E402

D = Decimal


def history(n: int, seed: int = 1) -> list[TaxEvent]:
    rnd = random.Random(seed)
    start, held, out = ts("2027-01-01T00:00"), {}, []
    for i in range(n):
        sym = rnd.choice(["BTC/KRW", "ETH/KRW", "XRP/KRW", "SOL/KRW"])
        q = D(rnd.randint(1, 100_000)) / D(10_000)
        buy = rnd.random() < 0.55 or held.get(sym, D(0)) < q
        held[sym] = held.get(sym, D(0)) + (q if buy else -q)
        kind = EventKind.BUY if buy else EventKind.SELL
        price = D(rnd.randint(1_000, 90_000_000))
        out.append(TaxEvent(start + i * 300_000, "upbit", sym, kind, q, price, D("10"), "KRW", f"r{i}"))
    return out


def main(n: int) -> None:
    events = history(n)
    for m in Method:
        t0 = time.perf_counter()
        r = compute_report(ReportSettings(2027, m, "KRW"), events)
        print(
            f"tax_report_{m.value}_{n // 1000}k_fills_s: {time.perf_counter() - t0:.2f} s ({len(r.disposals)} disposals)"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
