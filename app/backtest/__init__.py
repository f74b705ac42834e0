"""Event-driven backtests through the same engine and the paper venue."""
