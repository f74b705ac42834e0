"""Running the store's pre-built Core write statements on its one connection.

On SQLite each statement is compiled once and then run on the driver connection with the
statement's own parameter conversions (the very functions SQLAlchemy would apply, e.g.
``ExactDecimal`` → text), which skips SQLAlchemy's per-call work: a third of the cost of a save.
Elsewhere (PostgreSQL) statements go through ``Connection.execute`` as usual. Same SQL, same
values, same autocommit/transaction behaviour either way.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Boolean, Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.types import TypeEngine

Params = dict[str, Any]


class Statement:
    """A Core statement and, on SQLite, its compiled SQL and positional parameter converters."""

    def __init__(self, stmt: UpdateBase, keys: Sequence[str], conn: Connection, *, direct: bool) -> None:
        self.stmt = stmt
        self.sql = ""
        self.converters: tuple[tuple[str, Callable[[Any], Any] | None], ...] = ()
        self.row: Callable[[Params], tuple[Any, ...]] = _no_row
        if direct:
            dialect = conn.dialect
            compiled = stmt.compile(dialect=dialect, column_keys=list(keys))
            if compiled.positiontup is None:
                raise ValueError(f"{dialect.name} does not use positional parameters")
            self.sql = compiled.string
            self.converters = tuple(
                (name, _converter(compiled.binds[name].type, dialect)) for name in compiled.positiontup
            )
            self.row = _row_builder(self.converters)


def _converter(type_: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """The parameter conversion SQLAlchemy would apply, in one call: our own types say how they
    bind on SQLite (``sqlite_bind``); sqlite3 stores a bool as 0/1 by itself."""
    fast: Callable[[Any], Any] | None = getattr(type_, "sqlite_bind", None)
    if fast is not None:
        return fast
    if isinstance(type_, Boolean):
        return None
    return type_.dialect_impl(dialect).bind_processor(dialect)


def _no_row(params: Params) -> tuple[Any, ...]:
    raise TypeError("rows are built for SQLite's driver only")


def _row_builder(
    converters: tuple[tuple[str, Callable[[Any], Any] | None], ...],
) -> Callable[[Params], tuple[Any, ...]]:
    """A function that turns a parameter dict into the driver's row: the values picked in C, then
    only the columns that need it converted (a save happens at every change of an order: a generic
    loop over its 30 columns cost a third of it)."""
    pick = itemgetter(*(name for name, _conv in converters))
    convert = tuple((i, conv) for i, (_name, conv) in enumerate(converters) if conv is not None)

    def row(params: Params) -> tuple[Any, ...]:
        values = list(pick(params))
        for i, conv in convert:
            values[i] = conv(values[i])
        return tuple(values)

    if len(converters) == 1:  # itemgetter of one key returns the value, not a tuple
        name, conv = converters[0]
        return lambda params: (params[name] if conv is None else conv(params[name]),)
    return row


class Writer:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.direct = conn.dialect.name == "sqlite"
        self._raw: sqlite3.Connection | None = conn.connection.dbapi_connection if self.direct else None  # type: ignore[assignment]

    def prepare(self, stmt: UpdateBase, keys: Sequence[str]) -> Statement:
        """``keys``: the names of the parameters every call will pass (as SQLAlchemy would
        compile for them)."""
        return Statement(stmt, keys, self._conn, direct=self.direct)

    def execute(self, st: Statement, params: Params) -> int:
        """Run the statement; how many rows it changed."""
        if self._raw is None:
            return int(self._conn.execute(st.stmt, params).rowcount)
        row = st.row(params)
        try:
            return int(self._raw.execute(st.sql, row).rowcount)
        except sqlite3.Error as exc:
            raise _wrap(st.sql, row, exc) from exc

    def execute_returning(self, st: Statement, params: Params) -> bool:
        """Run a statement with RETURNING; True when it returned a row."""
        if self._raw is None:
            return self._conn.execute(st.stmt, params).first() is not None
        row = st.row(params)
        try:
            # fetchall: the statement (and its autocommit) completes only once stepped to the end.
            return bool(self._raw.execute(st.sql, row).fetchall())
        except sqlite3.Error as exc:
            raise _wrap(st.sql, row, exc) from exc

    def executemany(self, st: Statement, rows: list[Params]) -> None:
        if not rows:
            return
        if self._raw is None:
            self._conn.execute(st.stmt, rows)
            return
        converted = [st.row(p) for p in rows]
        try:
            self._raw.executemany(st.sql, converted)
        except sqlite3.Error as exc:
            raise _wrap(st.sql, converted[:3], exc) from exc

    def execute_sql(self, sql: str) -> None:
        """A parameterless statement such as BEGIN or COMMIT."""
        if self._raw is None:
            self._conn.exec_driver_sql(sql)
            return
        try:
            self._raw.execute(sql)
        except sqlite3.Error as exc:
            raise _wrap(sql, (), exc) from exc


def _wrap(sql: str, params: Any, exc: sqlite3.Error) -> Exception:
    """The same exception SQLAlchemy raises for a driver error (``sqlalchemy.exc.IntegrityError``…)."""
    return DBAPIError.instance(sql, params, exc, sqlite3.Error)
