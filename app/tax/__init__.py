"""Tax reports: capital gains on coins per tax year by Korea's total-average method, FIFO or
average cost, in the user's home currency. The core (rules, valuation, methods, report) is pure
computation; ``loader`` reads the store and ``imports`` reads CSV files."""
