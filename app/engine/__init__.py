"""The trading engine: asyncio, no Qt. Event bus, order manager, risk, portfolio."""
