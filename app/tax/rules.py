"""Every tax rule in one versioned place. Rules and dates may change: a report names the rules
version it used, and the notice says so.

Lending income (``lending_is_income``): Korea's law names the income from lending virtual assets
as "other income" beside disposals. Interest or rewards received for coins lent count at their
home-currency value when received (the row's price × the quote's value, else the coin's market
price then), are added to the year's net before the deduction, and the coins received join the
coin's pool with that value as their cost, so a later sale is taxed only on what it gains beyond
it. Where the rules do not say so (other countries), the same value is listed as income apart
from the gains on disposals. Airdrops, staking and mining stay "treatment unsettled".

Fees ("incidental costs, in their own currency with their home value"): a fee in the coin given
adds to the quantity disposed and is deducted from the proceeds; a fee in the coin received
lowers the quantity received; a fee in money or in the quote is added to the cost of a purchase
and deducted from the proceeds of a sale. A fee paid in a third coin (BNB on a BTC/USDT trade) is
both: the fee coins are a disposal of their own (proceeds = their market value then, cost = their
pool's cost, no fee of their own), and that same value is the trade's incidental cost (deducted
from the proceeds of the coin given; added to the cost of a coin bought with money). Where the
fee coin has no market price then, its disposal is left out (no price) and the trade is computed
without the fee, which the report says (a fee not deducted never lowers the tax).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from app.i18n import N_

KST = timezone(timedelta(hours=9), "KST")


@dataclass(frozen=True, slots=True)
class TaxRules:
    """A country's rules for gains on virtual assets, as they stood on ``as_of``."""

    version: str
    country: str
    currency: str  # the currency the deduction and the tax are in
    first_year: int  # the first tax year the tax applies to
    rate: Decimal  # national income tax on the taxable gain
    local_rate: Decimal  # local income tax on the taxable gain
    deduction: Decimal  # basic deduction per person and year
    deemed_cost_at: datetime  # coins held before this moment: cost = max(actual, market price then)
    tz: timezone  # the calendar of the tax year
    filing_month: int  # the month of the following year when residents file
    as_of: date  # when these rules were written down
    unknown_cost_share: Decimal  # share of the proceeds that may stand for an unknown cost (if chosen)
    payable_unit: Decimal  # a tax payable is cut down to a multiple of this (Korea: below 10 won is not paid)
    law: str  # where the rules come from
    notice: str  # "rules and dates may change" (translated where shown)
    lending_is_income: bool = False  # lending income is taxed with the gains (added to the year's net)

    def year_bounds_ms(self, year: int) -> tuple[int, int]:
        """Start (inclusive) and end (exclusive) of the tax year, in ms since the epoch."""
        start = datetime(year, 1, 1, tzinfo=self.tz)
        end = datetime(year + 1, 1, 1, tzinfo=self.tz)
        return int(start.timestamp() * 1000), int(end.timestamp() * 1000)

    def year_of(self, ts_ms: int) -> int:
        return datetime.fromtimestamp(ts_ms / 1000, tz=self.tz).year

    @property
    def deemed_cost_ms(self) -> int:
        return int(self.deemed_cost_at.timestamp() * 1000)


KR_2027 = TaxRules(
    version="KR-2027.1",
    country="KR",
    currency="KRW",
    first_year=2027,
    rate=Decimal("0.20"),
    local_rate=Decimal("0.02"),
    deduction=Decimal("2500000"),
    deemed_cost_at=datetime(2027, 1, 1, 0, 0, tzinfo=KST),
    tz=KST,
    filing_month=5,
    as_of=date(2025, 2, 28),
    unknown_cost_share=Decimal("0.5"),
    payable_unit=Decimal(10),  # National Treasury Management Act art. 47; local taxes alike
    law=(
        "Income Tax Act art. 21, 37, 64-3, 84; Enforcement Decree art. 88 (as amended 2025-02-28); "
        "amounts below 10 won not payable (National Treasury Management Act art. 47)"
    ),
    notice=N_(
        "Korea's tax on virtual assets starts on 2027-01-01 as the law stood on {as_of} (rules version "
        "{version}); the start was postponed before, and rules and dates may change. This report is an aid, "
        "not tax advice: check it before you file."
    ),
    lending_is_income=True,  # "other income" with the disposals (Income Tax Act art. 21(1)27)
)

# Other countries: no national rates are built in; FIFO or average cost in the home currency, on
# the UTC calendar year, with no deduction and no tax computed.
GENERIC = TaxRules(
    version="GENERIC-1",
    country="",
    currency="",
    first_year=1970,
    rate=Decimal(0),
    local_rate=Decimal(0),
    deduction=Decimal(0),
    deemed_cost_at=datetime(1970, 1, 1, tzinfo=UTC),
    tz=UTC,
    filing_month=0,
    as_of=date(2025, 2, 28),
    unknown_cost_share=Decimal(0),
    payable_unit=Decimal(1),
    law="",
    notice=N_(
        "Gains by {method} in {currency} on the calendar year (UTC). No tax is computed: rates and "
        "allowances depend on your country. Rules version {version}."
    ),
)

HOME_CURRENCIES = ("KRW", "USD", "EUR")
FIAT = frozenset({"KRW", "USD", "EUR", "JPY", "GBP", "AUD", "CAD", "CHF", "TRY", "BRL", "IDR", "SGD", "HKD"})
STABLECOINS = frozenset({"USDT", "USDC", "FDUSD", "BUSD", "DAI", "TUSD", "USDP", "PYUSD"})
USD_PEG_OF = "USD"  # what a dollar stablecoin is taken to be worth one of, converted by the FX table


def rules_for(method: str) -> TaxRules:
    return KR_2027 if method == "kr" else GENERIC
