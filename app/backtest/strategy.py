"""The strategy API lives in ``app.signals.strategy`` (the live runner and the backtester share it);
re-exported here for the backtester's modules and older imports."""

from app.signals.strategy import (
    FULL_EQUITY,
    YEAR_MS,
    Context,
    FixedFraction,
    Plan,
    Sizing,
    Strategy,
    VolatilityTarget,
    WholeUnits,
    parse_params,
    realised_vol,
)

__all__ = [
    "FULL_EQUITY",
    "YEAR_MS",
    "Context",
    "FixedFraction",
    "Plan",
    "Sizing",
    "Strategy",
    "VolatilityTarget",
    "WholeUnits",
    "parse_params",
    "realised_vol",
]
