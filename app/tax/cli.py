"""``python -m app tax``: a tax report from the stored fills and plain files, written as CSV and
HTML (English and Korean) to a folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from app.i18n import N_, language

from .books import Method
from .compute import ReportSettings, TaxInputError
from .export import write_report
from .imports import ImportFailed
from .loader import make_report
from .rules import HOME_CURRENCIES
from .summary import console_text
from .text import Words, translator


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("tax", help="a tax report of a year (CSV and HTML summary in English and Korean)")
    p.add_argument("--year", type=int, required=True, help="the tax year, e.g. 2027")
    p.add_argument("--method", choices=[m.value for m in Method], default="kr", help="kr (Korea), fifo or average")
    p.add_argument("--currency", choices=HOME_CURRENCIES, default="KRW", help="home currency")
    p.add_argument(
        "--import", dest="imports", action="append", default=[], metavar="FILE", help="trades in the generic CSV"
    )
    p.add_argument(
        "--columns",
        default=None,
        metavar="MAP",
        help="the import's own column names, e.g. time=Date(UTC),symbol=Pair,quantity=Executed",
    )
    p.add_argument("--fx", default=None, metavar="FILE", help="FX rates CSV: date,base,quote,rate,source")
    p.add_argument(
        "--opening-prices",
        default=None,
        metavar="FILE",
        help="prices at 2027-01-01 00:00 KST: asset,price,currency,source",
    )
    p.add_argument(
        "--fallback-50", action="store_true", help="take 50%% of the sale price as the cost where it is unknown"
    )
    p.add_argument("--no-store", action="store_true", help="only the imported files, not the app's stored fills")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the CSV and HTML files")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--db", default=None, help="database URL (default: SQLite in the data folder)")
    return p


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    tr = translator(language())
    settings = ReportSettings(args.year, Method(args.method), args.currency, args.fallback_50)
    try:
        columns = _mapping(args.columns)
    except ValueError as exc:
        print(tr(N_("--columns takes name=column pairs separated by commas, not '{part}'")).format(part=exc), file=err)
        return 2
    store = None
    try:
        if not args.no_store:
            from app.storage import Store, default_data_dir

            data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
            store = Store.open(args.db or f"sqlite:///{data_dir / 'autogrowth.sqlite3'}")
        report = make_report(
            settings,
            store=store,
            imports=[Path(f) for f in args.imports],
            fx=Path(args.fx) if args.fx else None,
            opening_prices=Path(args.opening_prices) if args.opening_prices else None,
            columns=columns,
        )
    except ImportFailed as exc:
        for e in exc.errors:
            print(f"{e.file}:{e.line}: {tr(e.template).format(**e.params)}", file=err)
        print(tr(N_("Nothing was imported: correct the rows above and run again.")), file=err)
        return 2
    except TaxInputError as exc:
        print(tr(exc.template).format(**exc.params), file=err)
        return 2
    finally:
        if store is not None:
            store.close()
    paths = write_report(report, Path(args.out))
    print(console_text(report, Words(language(), settings.currency, report.rules)), file=out)
    print("", file=out)
    for p in paths:
        print(p, file=out)
    return 0


def _mapping(text: str | None) -> dict[str, str] | None:
    """``time=Date(UTC),symbol=Pair`` → {"time": "Date(UTC)", "symbol": "Pair"}."""
    if not text:
        return None
    out: dict[str, str] = {}
    for part in text.split(","):
        ours, sep, theirs = part.partition("=")
        if not sep or not ours.strip() or not theirs.strip():
            raise ValueError(part)
        out[ours.strip().lower()] = theirs.strip()
    return out
