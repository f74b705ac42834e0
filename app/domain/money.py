"""Exact numbers: every price, amount, fee and P&L is a ``Decimal`` parsed once at the edge."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_UP, Context, Decimal, InvalidOperation

ZERO = Decimal(0)
ONE = Decimal(1)
# Prices and amounts a trading app accepts: below 10^15 and with at most 18 decimals (no
# exchange lists a smaller step). Within these, the arithmetic below is exact.
MAX_NUMBER = Decimal("1e15")
MAX_DECIMALS = 18
_WIDE = Context(prec=80)  # room for (value / step) with both at their limits


def in_range(value: Decimal) -> bool:
    """True for a finite number within ``MAX_NUMBER`` and ``MAX_DECIMALS``."""
    if not value.is_finite() or not -MAX_NUMBER < value < MAX_NUMBER:
        return False
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -MAX_DECIMALS:
        return True  # the usual case; trailing zeros ("0.10000…") need the normalized form
    exponent = value.normalize(_WIDE).as_tuple().exponent
    return not isinstance(exponent, int) or exponent >= -MAX_DECIMALS


def to_decimal(value: object) -> Decimal:
    """Parse a wire value exactly. Floats go through ``str`` (their shortest repr), never binary."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise TypeError("a bool is not a number")
    elif isinstance(value, int | str):
        try:
            result = Decimal(value.strip() if isinstance(value, str) else value)
        except InvalidOperation as exc:
            raise ValueError(f"not a number: {value!r}") from exc
    elif isinstance(value, float):
        result = Decimal(repr(value))
    else:
        raise TypeError(f"cannot read a number from {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def require_decimal(name: str, value: object, *, positive: bool = False, allow_none: bool = False) -> None:
    """Refuse floats, NaN and infinities in value objects (floats lose cents silently)."""
    if value is None and allow_none:
        return
    if not isinstance(value, Decimal):
        raise TypeError(f"{name} must be a Decimal, not {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"{name} must be finite, got {value}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")


def quantize_step(value: Decimal, step: Decimal, mode: str = "nearest") -> Decimal:
    """Round ``value`` to a multiple of ``step`` (``nearest``, ``down`` or ``up``)."""
    if step <= 0:
        return value
    rounding = {"nearest": ROUND_HALF_EVEN, "down": ROUND_DOWN, "up": ROUND_UP}[mode]
    units = _WIDE.divide(value, step).quantize(ONE, rounding=rounding, context=_WIDE)
    product = _WIDE.multiply(units, step)
    return product.quantize(step, context=_WIDE) if step.as_tuple().exponent < 0 else product  # type: ignore[operator]


def is_multiple(value: Decimal, step: Decimal) -> bool:
    return step <= 0 or _WIDE.remainder(value, step) == 0


def fmt(value: Decimal) -> str:
    """Plain text of a decimal without exponent or trailing zeros (``0.00001``, ``65000``)."""
    if value == 0:
        return "0"
    text = format(value.normalize(), "f")
    return text
