"""Persistence: SQLAlchemy 2 models, the ``Store`` (SQLite by default, PostgreSQL by URL) and
alembic migrations run on open. Money is stored exactly; no secret is ever stored."""

from .errors import SchemaTooNew, StorageError, TransactionAborted
from .location import default_data_dir, default_database_url
from .store import Store

__all__ = ["SchemaTooNew", "StorageError", "Store", "TransactionAborted", "default_data_dir", "default_database_url"]
