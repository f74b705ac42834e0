"""Persistence: SQLAlchemy 2 models and the store (SQLite by default, PostgreSQL by URL), with
alembic migrations. Money is stored exactly; no secret is ever stored."""

from .store import Store, default_data_dir, default_database_url

__all__ = ["Store", "default_data_dir", "default_database_url"]
