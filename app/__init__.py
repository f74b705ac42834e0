"""AutoGrowth Trader: a desktop crypto trading terminal."""

__version__ = "0.1.0"
