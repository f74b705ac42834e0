"""Writing a report: CSV files of every line (exact figures, for a spreadsheet or an accountant)
and an HTML summary in English and Korean with the audit trail."""

from __future__ import annotations

import csv
import html
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path

from app.i18n import N_

from .compute import TaxReport
from .summary import notice, summary_rows
from .text import Words

Q8 = Decimal("0.00000001")
LANGS = ("en", "ko")


def _d(v: Decimal | None) -> str:
    if v is None:
        return ""
    q = v.quantize(Q8) if v.as_tuple().exponent < -8 else v  # type: ignore[operator]
    return format(q.normalize(), "f") if q else "0"


def _write(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(header)
        for row in rows:
            out.writerow([_d(c) if isinstance(c, Decimal) else ("" if c is None else c) for c in row])


def stem(report: TaxReport) -> str:
    s = report.settings
    return f"tax-{s.year}-{s.method.value}-{s.currency}"


def write_csv(report: TaxReport, out_dir: Path) -> list[Path]:
    w = Words("en", report.settings.currency, report.rules)
    base = stem(report)
    names = ("disposals", "pools", "acquisitions", "listed", "summary", "income")
    paths = [out_dir / f"{base}-{n}.csv" for n in names]
    _write(
        paths[0],
        ["time", "asset", "quantity", "proceeds", "cost_basis", "fees", "gain", "status", "fee_amount", "fee_currency",
         "estimated_cost", "deemed_cost", "venue", "symbol", "source", "price_source"],
        (
            [w.time(d.ts_ms), d.asset, d.quantity, d.proceeds, d.cost, d.fees, d.gain, d.status.value, d.fee_amount,
             d.fee_asset, d.estimated, d.deemed, d.venue, d.symbol, d.source, d.price_source]
            for d in report.disposals
        ),
    )  # fmt: skip
    _write(
        paths[1],
        ["asset", "opening_qty", "opening_cost", "bought_qty", "bought_cost", "sold_qty", "cost_of_sold", "unknown_cost_qty",
         "closing_qty", "closing_cost", "year_average", "gain", "opening_cost_source", "income_qty", "income_cost"],
        (
            [p.asset, p.opening_qty, p.opening_cost, p.bought_qty, p.bought_cost, p.sold_qty, p.sold_cost, p.unknown_qty,
             p.closing_qty, p.closing_cost, p.average, p.gain, w.note(p.opening_source) if p.opening_source else "",
             p.income_qty, p.income_cost]
            for p in sorted(report.pools.values(), key=lambda p: p.asset)
        ),
    )  # fmt: skip
    _write(
        paths[2],
        ["time", "asset", "quantity", "cost", "fee_amount", "fee_currency", "fee_value", "venue", "symbol", "source", "price_source"],
        (
            [w.time(a.ts_ms), a.asset, a.quantity, a.cost, a.fee_amount, a.fee_asset, a.fee_value, a.venue, a.symbol, a.source, a.price_source]
            for a in report.acquisitions
        ),
    )  # fmt: skip
    _write(
        paths[3],
        ["time", "asset", "quantity", "kind", "venue", "source"],
        ([w.time(x.ts_ms), x.asset, x.quantity, x.kind.value, x.venue, x.source] for x in report.listed),
    )
    s = report.settings
    _write(
        paths[4],
        ["item", "value"],
        [
            ["year", s.year], ["method", s.method.value], ["currency", s.currency], ["rules_version", report.rules.version],
            ["net_gain", report.net], ["deduction", report.deduction], ["taxable", report.taxable], ["tax", report.tax],
            ["local_tax", report.local_tax], ["total_tax", report.total_tax], ["filing", report.filing],
            ["fallback_50", s.fallback_50], ["left_out", len(report.incomplete)],
            ["disposal_gain", report.disposal_gain], ["lending_income", report.income_total],
            ["lending_income_in_net", report.income_in_net],
        ],
    )  # fmt: skip
    _write(
        paths[5],
        ["time", "asset", "quantity", "value", "status", "kind", "venue", "symbol", "source", "price_source"],
        (
            [w.time(i.ts_ms), i.asset, i.quantity, i.value, i.status.value, i.kind.value, i.venue, i.symbol, i.source,
             i.price_source]
            for i in report.income
        ),
    )  # fmt: skip
    return paths


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], numeric: Sequence[int] = ()) -> str:
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(f'<td class="n">{e(c)}</td>' if i in numeric else f"<td>{e(c)}</td>" for i, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


CSS = (
    "body{font-family:'Noto Sans KR','Malgun Gothic',sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}"
    "th{background:#f0f0f0;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".notice{background:#fff6d6;border:1px solid #e6c200;padding:.6em 1em}small{color:#666}"
)


def render_html(report: TaxReport, lang: str) -> str:
    w = Words(lang, report.settings.currency, report.rules)
    t, e = w.tr, html.escape
    s = report.settings
    title = e(t(N_("Tax report {year}")).format(year=s.year))
    own_price = t(N_("the trade's price in {currency}")).format(currency=s.currency)

    def h2(text: str) -> str:
        return f"<h2>{e(t(text))}</h2>"

    def li(text: str) -> str:
        return f"<li>{e(text)}</li>"

    parts = [
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>',
        f"<style>{CSS}</style></head><body>",
        f"<h1>{title}</h1>",
        f'<p class="notice">{e(notice(report, w))}</p>',
        _table([t(N_("Item")), t(N_("Value"))], summary_rows(report, w), numeric=(1,)),
    ]
    if report.notes:
        parts.append(h2(N_("Notes")) + "<ul>" + "".join(f"<li>{e(w.note(n))}</li>" for n in report.notes) + "</ul>")
    parts.append(h2(N_("Coins")))
    parts.append(
        _table(
            [t(N_("Coin")), t(N_("Held at the start")), t(N_("Opening cost")), t(N_("Bought")), t(N_("Cost of purchases")),
             t(N_("Disposed")), t(N_("Cost of disposals")), t(N_("Held at the end")), t(N_("Year average")), t(N_("Gain")),
             t(N_("Opening cost source")), t(N_("Received as lending income"))],
            (
                [p.asset, w.qty(p.opening_qty), w.money(p.opening_cost), w.qty(p.bought_qty), w.money(p.bought_cost),
                 w.qty(p.sold_qty + p.unknown_qty), w.money(p.sold_cost), w.qty(p.closing_qty),
                 w.money(p.average) if p.average is not None else "—", w.money(p.gain),
                 w.note(p.opening_source) if p.opening_source else "", w.qty(p.income_qty)]
                for p in sorted(report.pools.values(), key=lambda p: p.asset)
            ),
            numeric=(*range(1, 10), 11),
        )
    )  # fmt: skip
    parts.append(h2(N_("Disposals")))
    parts.append(
        _table(
            [t(N_("Time")), t(N_("Coin")), t(N_("Quantity")), t(N_("Proceeds")), t(N_("Cost basis")), t(N_("Fees")),
             t(N_("Gain")), t(N_("Status")), t(N_("Fee paid")), t(N_("Source row")), t(N_("Price and FX source"))],
            (
                [w.time(d.ts_ms), d.asset, w.qty(d.quantity), w.money(d.proceeds),
                 w.money(d.cost) if d.gain is not None else "—", w.money(d.fees),
                 w.money(d.gain) if d.gain is not None else "—",
                 w.status(d.status) + (" · " + t(N_("estimated cost")) if d.estimated else "")
                 + (" · " + t(N_("2027-01-01 price")) if d.deemed else ""),
                 f"{w.qty(d.fee_amount)} {d.fee_asset}" if d.fee_asset else "", d.source,
                 d.price_source or own_price]
                for d in report.disposals
            ),
            numeric=range(2, 7),
        )
    )  # fmt: skip
    if report.income:
        row_price = t(N_("the row's price in {currency}")).format(currency=s.currency)
        parts.append(h2(N_("Lending income")))
        parts.append(
            _table(
                [t(N_("Time")), t(N_("Coin")), t(N_("Quantity")), t(N_("Value when received")), t(N_("Status")),
                 t(N_("Source row")), t(N_("Price and FX source"))],
                (
                    [w.time(i.ts_ms), i.asset, w.qty(i.quantity), w.money(i.value) if i.value is not None else "—",
                     w.status(i.status), i.source, i.price_source or row_price]
                    for i in report.income
                ),
                numeric=range(2, 4),
            )
        )  # fmt: skip
    if report.listed:
        parts.append(h2(N_("Not computed")))
        parts.append(
            _table(
                [t(N_("Time")), t(N_("Coin")), t(N_("Quantity")), t(N_("Kind")), t(N_("Source row"))],
                ([w.time(x.ts_ms), x.asset, w.qty(x.quantity), w.kind(x.kind), x.source] for x in report.listed),
            )
        )
    parts.append(h2(N_("Audit trail")) + "<ul>")
    parts.append(li(t(N_("Rules: {version}, {law}")).format(version=report.rules.version, law=report.rules.law or "—")))
    parts.append(li(t(N_("Method: {method}")).format(method=w.method(s.method))))
    parts.append(li(t(N_("Times are in {zone}.")).format(zone=report.rules.tz.tzname(None) or "UTC")))
    parts += [li(src) for src in report.inputs]
    parts.append(li(t(N_("Acquisitions: {count} (see the acquisitions CSV)")).format(count=len(report.acquisitions))))
    parts.append("</ul></body></html>")
    return "\n".join(parts)


def write_report(report: TaxReport, out_dir: Path) -> list[Path]:
    """Every CSV and the HTML summary in each language; returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = write_csv(report, out_dir)
    for lang in LANGS:
        p = out_dir / f"{stem(report)}-summary.{lang}.html"
        p.write_text(render_html(report, lang), encoding="utf-8")
        paths.append(p)
    return paths
