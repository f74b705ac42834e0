"""Storage errors the user may be shown (message keys, as every ``AppError``)."""

from __future__ import annotations

from app.domain.errors import AppError


class StorageError(AppError):
    key = "error.storage"
    template = "The database could not be used: {detail}"


class TransactionAborted(StorageError):
    """An exception left an inner ``transaction()`` block and was swallowed before the outer
    block ended: everything was rolled back, so the outer block must not think it was saved."""

    key = "error.storage_transaction_aborted"
    template = "Nothing was saved: an inner step of the transaction failed ({detail})"


class SchemaTooNew(StorageError):
    """The database was written by a newer version of the app."""

    key = "error.storage_schema_too_new"
    template = "The database {url} was made by a newer version of the app (schema {revision}); please update"
