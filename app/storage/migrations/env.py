"""Alembic environment. The store runs it on its own open connection (handed over in
``config.attributes["connection"]``, inside the store's transaction); a developer can run it
against a URL instead (``sqlalchemy.url``), see ``app/storage/migrate.py``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from app.storage.models import Base

config = context.config
target_metadata = Base.metadata


def run_on(connection: Connection) -> None:
    # Batch mode: SQLite cannot ALTER most things, alembic rebuilds the table instead.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection handed over and no sqlalchemy.url set")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            run_on(conn)
    finally:
        engine.dispose()


main()
