"""Adapters at the edge: the venue protocol, ccxt exchanges, the paper matching engine, the demo market."""
