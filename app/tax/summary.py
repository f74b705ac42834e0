"""The figures of a report as labelled rows (for the window, the console and the HTML file)."""

from __future__ import annotations

from decimal import Decimal

from app.i18n import N_

from .compute import TaxReport
from .text import Words


def pct(rate: Decimal) -> str:
    return format((rate * 100).normalize(), "f")


def summary_rows(report: TaxReport, w: Words) -> list[tuple[str, str]]:
    """(label, value) in the language of ``w``: what the year adds up to."""
    s, r, tr = report.settings, report.rules, w.tr
    ccy = s.currency
    rows = [
        (tr(N_("Tax year")), str(s.year)),
        (tr(N_("Method")), w.method(s.method)),
        (tr(N_("Home currency")), ccy),
        (tr(N_("Disposals")), str(len(report.disposals))),
    ]
    if report.income and report.income_in_net:  # other income: the disposals and the lending together
        rows += [
            (tr(N_("Gain on disposals")), f"{w.money(report.disposal_gain)} {ccy}"),
            (tr(N_("Lending income")), f"{w.money(report.income_total)} {ccy}"),
        ]
    rows.append((tr(N_("Net gain of the year")), f"{w.money(report.net)} {ccy}"))
    if report.income and not report.income_in_net:
        rows.append((tr(N_("Lending income (apart, not in the net gain)")), f"{w.money(report.income_total)} {ccy}"))
    if report.taxes_apply:
        rows += [
            (tr(N_("Basic deduction")), f"{w.money(report.deduction)} {ccy}"),
            (tr(N_("Taxable gain")), f"{w.money(report.taxable)} {ccy}"),
            (tr(N_("Income tax ({rate} %)")).format(rate=pct(r.rate)), f"{w.money(report.tax)} {ccy}"),
            (
                tr(N_("Local income tax ({rate} %)")).format(rate=pct(r.local_rate)),
                f"{w.money(report.local_tax)} {ccy}",
            ),
            (tr(N_("Total tax")), f"{w.money(report.total_tax)} {ccy}"),
            (tr(N_("Filing")), tr(N_("May {year} (residents)")).format(year=s.year + 1)),
        ]
    elif r.country == "KR":
        rows.append((tr(N_("Tax")), tr(N_("none due before {year}")).format(year=r.first_year)))
    else:
        rows.append((tr(N_("Tax")), tr(N_("not computed (rates depend on your country)"))))
    if report.incomplete:
        rows.append((tr(N_("Left out of the net")), str(len(report.incomplete))))
    unvalued = sum(1 for i in report.income if i.value is None)
    if unvalued:
        rows.append((tr(N_("Lending income without a value")), str(unvalued)))
    rows.append((tr(N_("Rules version")), r.version))
    return rows


def notice(report: TaxReport, w: Words) -> str:
    r, s = report.rules, report.settings
    return w.tr(r.notice).format(
        as_of=r.as_of.isoformat(), version=r.version, method=w.method(s.method), currency=s.currency
    )


def console_text(report: TaxReport, w: Words) -> str:
    width = max(len(k) for k, _ in summary_rows(report, w))
    lines = [f"{k:<{width}}  {v}" for k, v in summary_rows(report, w)]
    lines.append("")
    lines.append(notice(report, w))
    lines += [f"- {w.note(n)}" for n in report.notes]
    return "\n".join(lines)
