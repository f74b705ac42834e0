"""Pure values and rules of trading: no I/O, no Qt, no third-party imports."""
