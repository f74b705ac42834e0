"""Schema migrations with alembic, configured in code (no alembic.ini at run time).

``upgrade`` runs on the store's own connection, inside the transaction the store opened, so a
migration is all-or-nothing (SQLite and PostgreSQL both have transactional DDL) and works for
in-memory databases too.

For developers, after changing ``models.py``::

    python -m app.storage.migrations "what changed"

writes ``migrations/versions/NNNN_what_changed.py`` by comparing the models with a fresh database
at the current head. Read it, fix it by hand where needed, and keep the schema test green.
"""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

from .errors import SchemaTooNew

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    # ConfigParser reads "%" as interpolation: escape it in the install path.
    cfg.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@cache
def _scripts() -> tuple[str | None, frozenset[str]]:
    scripts = ScriptDirectory.from_config(alembic_config())
    return scripts.get_current_head(), frozenset(s.revision for s in scripts.walk_revisions())


def head_revision() -> str | None:
    return _scripts()[0]


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(connection: Connection, url: str = "", *, fresh_from_models: bool = True) -> None:
    """Bring the schema to head (nothing to do, the usual case, costs one small query).

    An empty database gets the newest schema at once from the models and is stamped at head
    (the migrations would build the first schema and rebuild it twice: a tenth of a second for
    every new database). A test checks that the migrations produce exactly the same tables."""
    current = current_revision(connection)
    head, known = _scripts()
    if current == head:
        return
    if current is not None and current not in known:
        raise SchemaTooNew(url=url, revision=current)
    if current is None and fresh_from_models and not inspect(connection).get_table_names():
        from .models import Base

        Base.metadata.create_all(connection)
        command.stamp(alembic_config(connection), "head")
        return
    command.upgrade(alembic_config(connection), "head")


def new_revision(message: str) -> None:
    """Autogenerate the next numbered revision against a fresh SQLite database at head."""
    from .store import Store

    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{Path(tmp).as_posix()}/schema.sqlite3")
        try:
            head = head_revision()
            rev_id = f"{int(head or 0) + 1:04d}"
            with store.transaction():
                command.revision(alembic_config(store.connection), message=message, autogenerate=True, rev_id=rev_id)
        finally:
            store.close()
