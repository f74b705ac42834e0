"""Pre-trade risk and trading state: limits, rule functions, the risk engine, the daily loss
limit and the kill switch."""

from .engine import RiskEngine
from .limits import Denial, OrderContext, RiskLimits

__all__ = ["Denial", "OrderContext", "RiskEngine", "RiskLimits"]
