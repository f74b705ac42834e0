"""The price chart (pyqtgraph): level-of-detail candles, indicators, orders, fills and signals."""

from .widget import ChartWidget, OrderLine

__all__ = ["ChartWidget", "OrderLine"]
