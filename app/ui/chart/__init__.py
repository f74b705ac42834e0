"""The price chart (pyqtgraph): level-of-detail candles, indicators, orders, fills and signals."""

from .orders import OrderLine
from .widget import ChartWidget

__all__ = ["ChartWidget", "OrderLine"]
