"""Column types: exact decimals and JSON text, the same on every database.

SQLite has no decimal type, and its NUMERIC affinity turns numbers into 8-byte floats; both types
here therefore store text on SQLite (TEXT affinity keeps it as written).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


class ExactDecimal(TypeDecorator[Decimal]):
    """A ``Decimal`` stored without loss and never through a float.

    SQLite: the canonical text of the value, ``str(Decimal)``, which round-trips every finite
    Decimal exactly, sign of zero and exponent included (``"0.10"`` stays ``0.10``, ``"1E+30"``
    stays ``1E+30``). PostgreSQL: unconstrained ``NUMERIC`` (equal value; PostgreSQL keeps the
    digits after the point but not an exponent form).

    Only ``Decimal`` is accepted: a float here would be a bug upstream. Compare money in Python,
    not in SQL: on SQLite the stored text sorts as text.
    """

    impl = Text
    cache_ok = True

    @property
    def python_type(self) -> type[Decimal]:
        return Decimal

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(asdecimal=True))
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        checked = _money(value)
        return value if dialect.name == "postgresql" else checked

    @staticmethod
    def sqlite_bind(value: Any) -> str | None:
        """What the store's SQLite writer binds (the same as ``process_bind_param``, in one call)."""
        if value.__class__ is Decimal and value.is_finite():
            return str(value)
        return None if value is None else _money(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None or type(value) is Decimal:
            return value
        if isinstance(value, str):
            return Decimal(value)
        # Anything else means the column was written around this type (a float or int from a
        # foreign tool); refuse floats rather than guess their intended digits.
        if isinstance(value, int):
            return Decimal(value)
        raise TypeError(f"stored money is a {type(value).__name__}, expected text")


def _money(value: Any) -> str:
    if value.__class__ is not Decimal and not isinstance(value, Decimal):
        raise TypeError(f"a money column takes a Decimal, not {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"cannot store the non-finite number {value}")
    return str(value)


def dumps_json(value: Any) -> str:
    """Compact JSON; NaN and infinities are refused, a ``Decimal`` must be turned into a string
    by the caller (it is money: a float would round it)."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


class JsonText(TypeDecorator[Any]):
    """A JSON-serialisable value kept as JSON text on every database.

    Not ``sqlalchemy.JSON``: on SQLite that column has NUMERIC affinity, which turns a stored
    ``12345678901234567890`` into a float.
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str:
        return dumps_json(value)

    @staticmethod
    def sqlite_bind(value: Any) -> str:
        return dumps_json(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else json.loads(value)
